/**
 * The notebooks, tested in JupyterLab in a real browser (npm run test:jupyterlab; npm test
 * runs it as its last step):
 *
 *   tsx scripts/test-jupyterlab.ts [--full] [--timeout S] [NAME…]
 *
 * For each notebook (or those whose file name contains a NAME):
 * 1. checks the committed file (no outputs, the mode switch, the declared chart count, code
 *    that only calls lib/: scripts/notebooks-lib.ts committedProblems);
 * 2. starts JupyterLab (the project's .venv, `npm run setup:notebooks`) on a free localhost
 *    port with a random token, on a copy of the notebook under build/notebooks/jupyterlab/work/,
 *    with the batchwise kernelspec on JUPYTER_PATH and the test's JupyterLab settings (every
 *    cell in the DOM, cell times recorded, no autosave, no news);
 * 3. drives Debian's Chromium through playwright-core (no browser download): opens the
 *    notebook, checks that the kernel JupyterLab started is the batchwise kernel, runs all cells
 *    (Run → Run All Cells, through JupyterLab's command registry) in quick mode (full with
 *    --full: BATCHWISE_FULL=1 in the server's environment, which the kernel inherits), and waits
 *    for the kernel to go idle; a cell running past the timeout (default 180 s quick, 3600 s
 *    full) is interrupted and fails, as does a dead kernel;
 * 4. saves the notebook and reads it back: any error output or stderr output fails, naming the
 *    cell; errors the kernel caught outside a request (un-awaited promises,
 *    scripts/notebooks/tslab-kernel.js) fail, named by the cell that ran at the time; the
 *    plotly MIME outputs and the chart markers must equal the chart count the notebook declares
 *    (metadata.batchwise.charts); claim checks (lib's checkClaim) are listed;
 * 5. counts the charts JupyterLab's plotly renderer drew in the page — each must be at least
 *    100 px high with at least one trace drawn — against the declared count, and saves a
 *    full-page screenshot of the notebook as build/notebooks/jupyterlab/<name>.png;
 * 6. opens an untrusted copy of the executed notebook (its PNG snapshots dropped) and counts
 *    the charts drawn from the JSON again: JupyterLab must draw them without trusting the
 *    notebook;
 * 7. exports the executed notebook with nbconvert (HTML, as the classic notebook and the CLI
 *    report show it: plotly inlined, offline) and counts the charts Chromium draws there.
 *
 * This covers everything the nbclient check (npm run test:notebooks) checks, in the browser
 * users open. Without JupyterLab, Chromium, playwright-core or tslab the test is skipped with a
 * message — unless BATCHWISE_REQUIRE_NOTEBOOKS=1 (set by .ci/run), which makes it a failure.
 * Outputs: build/notebooks/jupyterlab/ (<name>.png, executed/, html/, logs/, summary.json).
 */
import { spawn, spawnSync, type ChildProcess } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import { randomBytes } from "crypto";
import type { Browser, Page } from "playwright-core";
import {
  cellAtTime,
  checkSetUp,
  skipOrFail,
  cellTimes,
  claimChecks,
  committedProblems,
  countChartMarkers,
  countPlotlyOutputs,
  declaredCharts,
  describeCell,
  indent,
  FULL_MODE_ENV,
  jupyterPathEnv,
  KERNEL_DISPLAY_NAME,
  KERNEL_NAME,
  PLOTLY_MIME_TYPE,
  readKernelErrors,
  parseCheckArgs,
  readNotebook,
  stderrOutputs,
  untrustedCopy,
  writeJupyterLabSettings,
  writeKernelSpec,
  type Notebook,
} from "./notebooks-lib";

const ROOT = path.resolve(__dirname, "..");
const OUT = path.join(ROOT, "build", "notebooks", "jupyterlab");
const QUICK_TIMEOUT_S = 180;
const FULL_TIMEOUT_S = 3600;
/**
 * A chart JupyterLab's plotly renderer drew: the renderer's widget node (jp-RenderedPlotly) is
 * the element plotly draws into (js-plotly-plot). With an image/png snapshot in the output the
 * renderer shows the image instead until the mouse enters it: the test's untrusted copy drops
 * the snapshots.
 */
const LAB_CHART = ".jp-RenderedPlotly.js-plotly-plot";
/** A chart plotly drew in nbconvert's HTML export (the element inside plotly's graph div). */
const HTML_CHART = ".plot-container.plotly";
/** A drawn chart shorter than this is "blank" (collapsed); showPlot's charts are ≥ 300 px. */
const MIN_CHART_HEIGHT_PX = 100;

interface Result {
  notebook: string;
  seconds: number;
  declared: number | null;
  plotlyOutputs: number | null;
  drawn: number | null;
  drawnUntrusted: number | null;
  drawnHtml: number | null;
  claims: { cell: number; text: string; holds: boolean }[];
  screenshot: string | null;
  failures: string[];
}

/** What the page reports about the charts in the current notebook panel. */
interface ChartInfo {
  count: number;
  blank: { index: number; height: number; traces: number }[];
}

/** A {@link Result} before any check ran, with the committed file's problems as failures. */
function emptyResult(file: string): Result {
  const name = path.relative(ROOT, file);
  const committed = readNotebook(file);
  return {
    notebook: name,
    seconds: 0,
    declared: declaredCharts(committed),
    plotlyOutputs: null,
    drawn: null,
    drawnUntrusted: null,
    drawnHtml: null,
    claims: [],
    screenshot: null,
    failures: committedProblems(committed).map((p) => `${name}: ${p}`),
  };
}

function usage(): never {
  console.error("usage: tsx scripts/test-jupyterlab.ts [--full] [--timeout S] [NAME...]");
  process.exit(2);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** `cmd` as an absolute path (Playwright needs one): itself if it has a slash, else from PATH. */
function onPath(cmd: string): string {
  if (cmd.includes("/")) return path.resolve(cmd);
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    const p = path.join(dir, cmd);
    if (dir !== "" && fs.existsSync(p)) return p;
  }
  return cmd;
}

/** A free TCP port on 127.0.0.1 (the OS picks it). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr != null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** A running JupyterLab server. */
interface Server {
  url: string;
  token: string;
  proc: ChildProcess;
  log: () => string;
}

/**
 * Starts JupyterLab on `rootDir` with the test's settings and waits until its REST API answers.
 * @throws Error with the server's last log lines when it exits or does not answer in 60 s.
 */
async function startServer(
  python: string,
  rootDir: string,
  opts: { full: boolean; errorsFile: string; logFile: string },
): Promise<Server> {
  const port = await freePort();
  const token = randomBytes(16).toString("hex");
  const tmp = fs.mkdtempSync(path.join(OUT, "tmp-"));
  const settings = path.join(tmp, "settings");
  writeJupyterLabSettings(settings);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    JUPYTER_PATH: jupyterPathEnv(ROOT),
    JUPYTERLAB_SETTINGS_DIR: settings,
    JUPYTERLAB_WORKSPACES_DIR: path.join(tmp, "workspaces"),
    // No user configuration or runtime files leak in or out.
    JUPYTER_CONFIG_DIR: path.join(tmp, "config"),
    JUPYTER_RUNTIME_DIR: path.join(tmp, "runtime"),
    BATCHWISE_NOTEBOOK_ERRORS: opts.errorsFile,
  };
  if (opts.full) env[FULL_MODE_ENV] = "1";
  else delete env[FULL_MODE_ENV];
  const args = [
    "-m",
    "jupyterlab",
    "--no-browser",
    "--ServerApp.ip=127.0.0.1",
    `--ServerApp.port=${port}`,
    "--ServerApp.port_retries=0",
    `--IdentityProvider.token=${token}`,
    `--ServerApp.root_dir=${rootDir}`,
    // window.jupyterapp: the test runs JupyterLab's own commands (run all, save, interrupt).
    "--LabApp.expose_app_in_browser=True",
    "--LabApp.news_url=",
    "--ServerApp.open_browser=False",
  ];
  if (process.getuid?.() === 0) args.push("--allow-root");
  const proc = spawn(python, args, { env, stdio: ["ignore", "pipe", "pipe"], cwd: rootDir });
  const logStream = fs.createWriteStream(opts.logFile);
  let tail = "";
  const onData = (d: Buffer): void => {
    logStream.write(d);
    tail = (tail + d.toString("utf8")).slice(-20000);
  };
  proc.stdout?.on("data", onData);
  proc.stderr?.on("data", onData);
  proc.on("exit", () => {
    logStream.end();
    fs.rmSync(tmp, { recursive: true, force: true });
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (proc.exitCode != null) {
      throw new Error(`JupyterLab exited with ${proc.exitCode}:\n${indent(tail.slice(-3000))}`);
    }
    try {
      const r = await fetch(`${url}/api/status?token=${token}`);
      if (r.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      proc.kill("SIGKILL");
      throw new Error(`JupyterLab did not answer in 60 s:\n${indent(tail.slice(-3000))}`);
    }
    await sleep(250);
  }
  return { url, token, proc, log: () => tail };
}

/** Stops the server (SIGTERM, then SIGKILL after 10 s); its kernels go with it. */
async function stopServer(s: Server): Promise<void> {
  if (s.proc.exitCode != null) return;
  const exited = new Promise<void>((r) => s.proc.once("exit", () => r()));
  s.proc.kill("SIGTERM");
  const t = setTimeout(() => s.proc.kill("SIGKILL"), 10_000);
  await exited;
  clearTimeout(t);
}

/* The functions passed to page.evaluate run in the browser: `window.jupyterapp` is the
 * JupyterLab application (expose_app_in_browser). They are typed loosely on purpose. */
/* eslint-disable @typescript-eslint/no-explicit-any */

/**
 * Opens `file` (relative to the server's root) and waits until its kernel is idle.
 * @returns the kernel's name and display name, or a failure message.
 */
async function openNotebook(
  page: Page,
  server: Server,
  file: string,
): Promise<{ name: string; display: string } | string> {
  await page.goto(`${server.url}/lab/tree/${encodeURI(file)}?token=${server.token}`);
  const deadline = Date.now() + 120_000;
  for (;;) {
    const st = await page.evaluate((f) => {
      const app = (window as any).jupyterapp;
      const w = app?.shell?.currentWidget;
      const dialog = document.querySelector(".jp-Dialog .jp-Dialog-header")?.textContent ?? null;
      if (w?.context?.path !== f) return { dialog, ready: false };
      const kernel = w.sessionContext?.session?.kernel;
      return {
        dialog,
        ready: kernel?.status === "idle",
        status: kernel?.status ?? null,
        name: kernel?.name ?? null,
        display: w.sessionContext?.kernelDisplayName ?? null,
      };
    }, file);
    if (st.dialog != null) {
      return `JupyterLab asked "${st.dialog}" instead of starting the notebook's kernel (is the "${KERNEL_NAME}" kernelspec on JUPYTER_PATH?)`;
    }
    if (st.ready) return { name: String(st.name), display: String(st.display) };
    if (st.status === "dead") return "the kernel died while starting";
    if (Date.now() > deadline) {
      return `the notebook's kernel was not idle 120 s after opening (status ${st.status ?? "none"})`;
    }
    await sleep(250);
  }
}

/**
 * Runs all cells and waits for the kernel to go idle, failing a cell that runs past
 * `timeoutS` (it is interrupted) or a dead kernel.
 * @returns null when the run finished, else a failure message.
 */
async function runAll(page: Page, timeoutS: number, nb: Notebook): Promise<string | null> {
  await page.evaluate(() => {
    const app = (window as any).jupyterapp;
    const state = { done: false, error: null as string | null };
    (window as any).__batchwiseRun = state;
    app.commands.execute("notebook:run-all-cells").then(
      () => (state.done = true),
      (e: unknown) => {
        state.done = true;
        state.error = String(e);
      },
    );
  });
  let running: number | null = null;
  let runningSince = Date.now();
  let lastPrint = Date.now();
  for (;;) {
    const st = await page.evaluate(() => {
      const app = (window as any).jupyterapp;
      const w = app.shell.currentWidget;
      const cells = w.content.widgets as any[];
      const busy = cells.findIndex(
        (c) =>
          c.model.type === "code" &&
          /\*/.test(c.node.querySelector(".jp-InputPrompt")?.textContent ?? ""),
      );
      return {
        run: (window as any).__batchwiseRun as { done: boolean; error: string | null },
        status: w.sessionContext?.session?.kernel?.status ?? "none",
        busy,
      };
    });
    if (st.status === "dead" || st.status === "none") {
      return `the kernel died (${describeCell(nb, running)} was running)`;
    }
    if (st.busy !== running) {
      running = st.busy >= 0 ? st.busy : null;
      runningSince = Date.now();
    }
    if (running != null && Date.now() - runningSince > timeoutS * 1000) {
      await page.evaluate(() =>
        (window as any).jupyterapp.commands.execute("notebook:interrupt-kernel"),
      );
      return `${describeCell(nb, running)} ran past its timeout of ${timeoutS} s (interrupted)`;
    }
    if (st.run.done && st.busy < 0 && st.status === "idle") {
      return st.run.error != null ? `Run All Cells failed: ${st.run.error}` : null;
    }
    if (running != null && Date.now() - lastPrint > 30_000) {
      console.log(
        `  … ${describeCell(nb, running)} running for ${((Date.now() - runningSince) / 1000).toFixed(0)} s`,
      );
      lastPrint = Date.now();
    }
    await sleep(500);
  }
}

/**
 * Waits until the current notebook panel holds `expected` drawn plotly charts (or 30 s), then
 * reports the count and the blank ones (under {@link MIN_CHART_HEIGHT_PX} or no trace drawn).
 */
async function drawnCharts(page: Page, expected: number, selector: string): Promise<ChartInfo> {
  const deadline = Date.now() + 30_000;
  const measure = (): Promise<ChartInfo> =>
    page.evaluate(
      ({ sel, minHeight }) => {
        const root =
          (window as any).jupyterapp?.shell?.currentWidget?.node ?? (document.body as Element);
        const plots = [...root.querySelectorAll(sel)] as any[];
        const blank: { index: number; height: number; traces: number }[] = [];
        plots.forEach((p, index) => {
          const gd = p.closest(".js-plotly-plot") ?? p; // plotly's graph div holds _fullData
          const height = p.getBoundingClientRect().height;
          const traces =
            (gd._fullData?.length ?? 0) > 0 ? gd.querySelectorAll(".trace, .hm, image").length : 0;
          if (height < minHeight || traces === 0) blank.push({ index, height, traces });
        });
        return { count: plots.length, blank };
      },
      { sel: selector, minHeight: MIN_CHART_HEIGHT_PX },
    );
  let info = await measure();
  while ((info.count < expected || info.blank.length > 0) && Date.now() < deadline) {
    await sleep(500);
    info = await measure();
  }
  // Late-drawing charts beyond the expected count still count.
  await sleep(expected === 0 ? 1000 : 200);
  return measure();
}

/** Saves the current notebook through JupyterLab and waits until it is clean. */
async function save(page: Page): Promise<void> {
  await page.evaluate(() => (window as any).jupyterapp.commands.execute("docmanager:save"));
  await page.waitForFunction(
    () => (window as any).jupyterapp.shell.currentWidget?.context?.model?.dirty === false,
    null,
    { timeout: 30_000 },
  );
}

/**
 * A screenshot of the whole notebook: the side panels closed and the viewport as tall as the
 * notebook's content (JupyterLab scrolls inside the panel, so a plain full-page screenshot
 * shows one screen).
 */
async function screenshot(page: Page, file: string): Promise<void> {
  await page.evaluate(() => {
    const app = (window as any).jupyterapp;
    app.shell.collapseLeft?.();
    app.shell.collapseRight?.();
  });
  await sleep(300);
  const extra = await page.evaluate(() => {
    const w = (window as any).jupyterapp.shell.currentWidget;
    const scroller = w.content.node.querySelector(".jp-WindowedPanel-outer") ?? w.content.node;
    return scroller.scrollHeight - scroller.clientHeight;
  });
  const vp = page.viewportSize() ?? { width: 1280, height: 900 };
  // Chromium caps a screenshot's size; 30000 px holds the longest notebook with room to spare.
  await page.setViewportSize({ width: vp.width, height: Math.min(30_000, vp.height + extra + 40) });
  await sleep(500);
  // From the top: the last cell run is the active one, and JupyterLab keeps it in view.
  await page.evaluate(() => {
    const w = (window as any).jupyterapp.shell.currentWidget;
    w.content.activeCellIndex = 0;
    const scroller = w.content.node.querySelector(".jp-WindowedPanel-outer") ?? w.content.node;
    scroller.scrollTop = 0;
  });
  await sleep(1000);
  await page.screenshot({ path: file, fullPage: true });
  await page.setViewportSize(vp);
}
/* eslint-enable @typescript-eslint/no-explicit-any */

/** Checks of the executed, saved notebook (step 4 of the module comment). */
function checkExecuted(name: string, nb: Notebook, errorsFile: string, res: Result): void {
  for (const s of stderrOutputs(nb)) {
    res.failures.push(
      `${name}: ${describeCell(nb, s.cell)}: error or stderr output\n${indent(s.text.trim())}`,
    );
  }
  const times = cellTimes(nb);
  for (const e of readKernelErrors(errorsFile)) {
    res.failures.push(
      `${name}: ${describeCell(nb, cellAtTime(times, e.time))}: ${e.kind} (during or after this cell; an un-awaited promise? await it)\n${indent(e.message.trim())}`,
    );
  }
  const unrun = nb.cells
    .map((c, i) => ({ c, i }))
    .filter(({ c }) => c.cell_type === "code" && c.execution_count == null);
  if (unrun.length > 0) {
    res.failures.push(
      `${name}: ${unrun.length} code cell(s) did not run, the first ${describeCell(nb, unrun[0].i)}`,
    );
  }
  res.plotlyOutputs = countPlotlyOutputs(nb);
  const markers = countChartMarkers(nb);
  if (res.declared != null && res.plotlyOutputs !== res.declared) {
    res.failures.push(
      `${name}: ${res.plotlyOutputs} outputs carry plotly's MIME type (${PLOTLY_MIME_TYPE}), its metadata declares ${res.declared} charts`,
    );
  }
  if (res.declared != null && markers !== res.declared) {
    res.failures.push(
      `${name}: ${markers} chart markers in the HTML outputs, its metadata declares ${res.declared} charts`,
    );
  }
  res.claims = claimChecks(nb);
}

function chartFailures(name: string, where: string, info: ChartInfo, res: Result): void {
  if (res.declared != null && info.count !== res.declared) {
    res.failures.push(
      `${name}: ${where} drew ${info.count} charts, the notebook declares ${res.declared}`,
    );
  }
  for (const b of info.blank) {
    res.failures.push(
      `${name}: ${where}: chart ${b.index + 1} is blank (${b.height.toFixed(0)} px high, ${b.traces} traces drawn)`,
    );
  }
}

async function testOne(
  file: string,
  python: string,
  browser: Browser,
  opts: { full: boolean; timeout: number },
): Promise<Result> {
  const name = path.relative(ROOT, file);
  const base = path.basename(file, ".ipynb");
  const committed = readNotebook(file);
  const res = emptyResult(file);
  const work = path.join(OUT, "work");
  fs.mkdirSync(work, { recursive: true });
  for (const d of ["executed", "html", "logs"])
    fs.mkdirSync(path.join(OUT, d), { recursive: true });
  const copy = `${base}.ipynb`;
  const untrusted = `${base}.untrusted.ipynb`;
  fs.copyFileSync(file, path.join(work, copy));
  fs.rmSync(path.join(work, untrusted), { force: true });
  const errorsFile = path.join(OUT, "logs", `${base}.kernel-errors.jsonl`);
  fs.rmSync(errorsFile, { force: true });
  console.log(`\n=== ${name} (${opts.full ? "full" : "quick"} mode, JupyterLab) ===`);

  const server = await startServer(python, work, {
    full: opts.full,
    errorsFile,
    logFile: path.join(OUT, "logs", `${base}.jupyterlab.log`),
  });
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const pageErrors: string[] = [];
  page.on("pageerror", (e) => pageErrors.push(e.message));
  try {
    const kernel = await openNotebook(page, server, copy);
    if (typeof kernel === "string") {
      res.failures.push(`${name}: ${kernel}`);
      return res;
    }
    if (kernel.name !== KERNEL_NAME || kernel.display !== KERNEL_DISPLAY_NAME) {
      res.failures.push(
        `${name}: JupyterLab started the kernel ${kernel.name} ("${kernel.display}"), expected ${KERNEL_NAME} ("${KERNEL_DISPLAY_NAME}")`,
      );
      return res;
    }
    console.log(`  kernel: ${kernel.display}; running all cells`);
    const t0 = performance.now();
    const runFailure = await runAll(page, opts.timeout, committed);
    res.seconds = (performance.now() - t0) / 1000;
    if (runFailure != null) res.failures.push(`${name}: ${runFailure}`);
    await save(page);
    const executed = readNotebook(path.join(work, copy));
    fs.copyFileSync(path.join(work, copy), path.join(OUT, "executed", copy));
    checkExecuted(name, executed, errorsFile, res);
    for (const [i, t] of cellTimes(executed)) {
      console.log(`  cell ${String(i).padStart(2)}: ${(t.end - t.start).toFixed(1).padStart(6)} s`);
    }

    // 5. the charts in the page, and the screenshot
    const live = await drawnCharts(page, res.declared ?? 0, LAB_CHART);
    res.drawn = live.count;
    chartFailures(name, "JupyterLab", live, res);
    res.screenshot = path.join(OUT, `${base}.png`);
    await screenshot(page, res.screenshot);

    // 6. an untrusted copy draws its charts from the JSON
    fs.writeFileSync(
      path.join(work, untrusted),
      JSON.stringify(untrustedCopy(executed), null, 1) + "\n",
    );
    const k2 = await openNotebook(page, server, untrusted);
    if (typeof k2 === "string") res.failures.push(`${name} (untrusted copy): ${k2}`);
    const trusted = await page.evaluate(() => {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const w = (window as any).jupyterapp.shell.currentWidget;
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      return (w.content.widgets as any[]).filter((c) => c.model.trusted).length;
    });
    if (trusted > 0) {
      res.failures.push(
        `${name}: the untrusted copy opened with ${trusted} trusted cells (the check needs an untrusted notebook)`,
      );
    }
    const cold = await drawnCharts(page, res.declared ?? 0, LAB_CHART);
    res.drawnUntrusted = cold.count;
    chartFailures(name, "JupyterLab (untrusted copy)", cold, res);

    // 7. nbconvert's HTML, offline
    const htmlDir = path.join(OUT, "html");
    const conv = spawnSync(
      python,
      [
        "-m",
        "nbconvert",
        "--to",
        "html",
        "--output-dir",
        htmlDir,
        path.join(OUT, "executed", copy),
      ],
      { encoding: "utf8" },
    );
    const html = path.join(htmlDir, `${base}.html`);
    if (conv.status !== 0 || !fs.existsSync(html)) {
      res.failures.push(
        `${name}: nbconvert --to html failed:\n${indent((conv.stderr ?? "").trim())}`,
      );
    } else {
      const offline = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      try {
        // Offline: every request off the machine is refused (nbconvert's template asks for
        // require.js and MathJax on a CDN; the charts must draw without them).
        await offline.route(/^(?!file:|data:|blob:)/, (route) => route.abort());
        await offline.goto(`file://${html}`);
        const info = await drawnCharts(offline, res.declared ?? 0, HTML_CHART);
        res.drawnHtml = info.count;
        chartFailures(name, "the nbconvert HTML export", info, res);
      } finally {
        await offline.close();
      }
    }
    if (pageErrors.length > 0) {
      res.failures.push(
        `${name}: JupyterLab's page threw ${pageErrors.length} error(s):\n${indent(pageErrors.slice(0, 5).join("\n"))}`,
      );
    }
  } finally {
    await page.close();
    await stopServer(server);
  }
  return res;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const parsed = parseCheckArgs(args);
  if ("error" in parsed) {
    console.error(parsed.error);
    usage();
  }
  const { full, timeout, names } = parsed;
  const cellTimeout = timeout ?? (full ? FULL_TIMEOUT_S : QUICK_TIMEOUT_S);
  const {
    files,
    python,
    chromium: chromiumPath,
  } = checkSetUp("test:jupyterlab", ROOT, names, {
    modules: ["jupyterlab", "nbconvert", "plotly"],
    noPython:
      "no Python with JupyterLab, nbconvert and plotly (npm run setup:notebooks installs them into .venv; or set BATCHWISE_JUPYTER_PYTHON)",
    noChromium: "no Chromium (Debian: apt-get install chromium; or set BATCHWISE_CHROMIUM)",
  });
  let chromium: typeof import("playwright-core").chromium;
  try {
    ({ chromium } = await import("playwright-core"));
  } catch {
    skipOrFail("test:jupyterlab", "playwright-core is not installed (npm install)");
  }
  writeKernelSpec(ROOT);
  fs.mkdirSync(OUT, { recursive: true });
  const browser = await chromium.launch({
    executablePath: onPath(chromiumPath),
    // Root in a container has no user namespace for Chromium's sandbox.
    args: process.getuid?.() === 0 ? ["--no-sandbox"] : [],
  });
  const t0 = performance.now();
  const results: Result[] = [];
  try {
    for (const f of files) {
      try {
        results.push(await testOne(f, python, browser, { full, timeout: cellTimeout }));
      } catch (e) {
        const res = emptyResult(f);
        res.failures.push(`${res.notebook}: ${e instanceof Error ? e.message : String(e)}`);
        results.push(res);
      }
    }
  } finally {
    await browser.close();
  }
  const total = (performance.now() - t0) / 1000;

  console.log(
    `\nJupyterLab notebooks (${full ? "full" : "quick"} mode, cell timeout ${cellTimeout} s):`,
  );
  console.log(
    "| notebook | run (s) | charts declared | plotly outputs | drawn | drawn untrusted | drawn in HTML export | claim checks | result |",
  );
  console.log("|---|---:|---:|---:|---:|---:|---:|---|---|");
  const dash = (n: number | null): string => (n == null ? "—" : String(n));
  for (const r of results) {
    const held = r.claims.filter((c) => c.holds).length;
    console.log(
      `| ${r.notebook} | ${r.seconds.toFixed(0)} | ${dash(r.declared)} | ${dash(r.plotlyOutputs)} | ${dash(r.drawn)} | ${dash(r.drawnUntrusted)} | ${dash(r.drawnHtml)} | ${r.claims.length ? `${held}/${r.claims.length} hold` : "—"} | ${r.failures.length ? "FAIL" : "ok"} |`,
    );
  }
  for (const r of results) {
    for (const c of r.claims) {
      console.log(`  ${r.notebook} cell ${c.cell}: ${c.text.split("\n")[0]}`);
    }
  }
  const shots = results.filter((r) => r.screenshot != null).map((r) => r.screenshot as string);
  if (shots.length > 0) {
    console.log(`screenshots: ${shots.map((s) => path.relative(ROOT, s)).join(", ")}`);
  }
  console.log(`total ${total.toFixed(0)} s`);
  fs.writeFileSync(
    path.join(OUT, "summary.json"),
    JSON.stringify({ mode: full ? "full" : "quick", cellTimeout, total, results }, null, 1),
  );
  const failures = results.flatMap((r) => r.failures);
  if (failures.length > 0) {
    console.error(`\ntest:jupyterlab: ${failures.length} failure(s):\n${failures.join("\n")}`);
    process.exit(1);
  }
  console.log("test:jupyterlab: all passed");
}

main().catch((e: unknown) => {
  console.error(`test:jupyterlab: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  process.exit(1);
});
