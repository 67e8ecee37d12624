/**
 * The notebooks' tooling:
 *
 *   tsx scripts/notebooks.ts kernel          write the tslab kernelspec (npm run notebooks:kernel)
 *   tsx scripts/notebooks.ts open [--classic] [JUPYTER ARGS…]
 *                                            open JupyterLab (the project's .venv, set up by
 *                                            npm run setup:notebooks) on notebooks/, or with
 *                                            --classic the classic notebook (Jupyter
 *                                            Notebook < 7, e.g. Debian's); npm run notebooks
 *   tsx scripts/notebooks.ts run [--full] [--timeout S] [NAME…]
 *                                            run every notebook headlessly with nbclient and
 *                                            check it (npm run test:notebooks; the browser
 *                                            test, npm run test:jupyterlab, checks all this
 *                                            too and is the one npm test runs)
 *
 * `run`, for each notebook (or those whose file name contains a NAME):
 * 1. checks the committed file (no outputs, the mode switch in the first cell, the declared
 *    chart count, code that only calls lib/);
 * 2. executes it top to bottom with nbclient (scripts/notebooks/execute.py) in quick mode
 *    (full with --full: BATCHWISE_FULL=1); a cell error, a cell over the timeout (default
 *    180 s quick, 3600 s full), a dead kernel or any stderr output fails, naming the notebook
 *    and the cell;
 * 3. counts the chart markers and the plotly MIME outputs showPlot wrote and compares each
 *    with the declared count;
 * 4. exports the executed notebook to HTML (jupyter nbconvert --to html), renders it in
 *    headless Chromium and counts the charts plotly drew (`plot-container plotly`): they must
 *    equal the declared count.
 * Outputs go to build/notebooks/quick/ or build/notebooks/full/ (executed/, html/, dom/,
 * summary.json).
 *
 * Jupyter's Python is the project's .venv when it has nbclient and nbconvert (npm run
 * setup:notebooks installs them with JupyterLab), else Debian's. Without one, or without
 * Chromium, the run is skipped with a message — unless BATCHWISE_REQUIRE_NOTEBOOKS=1 (set by
 * .ci/run), which makes it a failure.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
  chromiumArgs,
  checkSetUp,
  findJupyterPython,
  committedProblems,
  countChartMarkers,
  countPlotlyOutputs,
  countDrawnCharts,
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
  writeKernelSpec,
} from "./notebooks-lib";

const ROOT = path.resolve(__dirname, "..");
const QUICK_BUDGET_S = 180;

interface ExecReport {
  seconds: number;
  cells: Record<string, { seconds: number; start: number; end: number; status: string }>;
  failures: { cell: number | null; kind: string; message?: string }[];
}

interface Result {
  notebook: string;
  seconds: number;
  declared: number | null;
  emitted: number | null;
  drawn: number | null;
  failures: string[];
}

function usage(): never {
  console.error(
    "usage: tsx scripts/notebooks.ts kernel | open [--classic] [JUPYTER ARGS...] | run [--full] [--timeout S] [NAME...]",
  );
  process.exit(2);
}

function kernel(): void {
  const file = writeKernelSpec(ROOT);
  console.log(`kernelspec "${KERNEL_NAME}" written to ${path.relative(ROOT, file)}`);
  console.log(
    `Jupyter finds it with JUPYTER_PATH=${path.dirname(path.dirname(path.dirname(file)))}`,
  );
}

/** Whether `python` has the classic notebook (Jupyter Notebook before 7, which is JupyterLab-based). */
function hasClassicNotebook(python: string): boolean {
  const r = spawnSync(
    python,
    ["-c", "import notebook, sys; sys.exit(int(notebook.__version__.split('.')[0]) >= 7)"],
    { stdio: "ignore" },
  );
  return r.status === 0;
}

function open(args: string[]): void {
  const classic = args.includes("--classic");
  // --lab: the default since JupyterLab comes from npm run setup:notebooks; still accepted.
  const rest = args.filter((a) => a !== "--lab" && a !== "--classic");
  let python: string | null;
  if (classic) {
    python = findJupyterPython(["notebook"], process.env, ROOT);
    if (python == null || !hasClassicNotebook(python)) {
      console.error(
        "the classic notebook (Jupyter Notebook < 7) was not found: Debian: apt-get install jupyter-notebook; or set BATCHWISE_JUPYTER_PYTHON",
      );
      process.exit(1);
    }
  } else {
    python = findJupyterPython(["jupyterlab"], process.env, ROOT);
    if (python == null) {
      console.error(
        "JupyterLab not found: run npm run setup:notebooks (installs the pinned JupyterLab and plotly into .venv), or set BATCHWISE_JUPYTER_PYTHON",
      );
      process.exit(1);
    }
  }
  writeKernelSpec(ROOT);
  // Jupyter refuses to start as root without --allow-root (containers often run as root).
  if (process.getuid?.() === 0 && !rest.includes("--allow-root")) rest.push("--allow-root");
  console.log(
    `opening ${classic ? "the classic notebook" : "JupyterLab"} (${python}) on notebooks/: choose the kernel "${KERNEL_DISPLAY_NAME}"`,
  );
  const r = spawnSync(
    python,
    [
      "-m",
      classic ? "notebook" : "jupyterlab",
      `--notebook-dir=${path.join(ROOT, "notebooks")}`,
      ...rest,
    ],
    { stdio: "inherit", env: { ...process.env, JUPYTER_PATH: jupyterPathEnv(ROOT) } },
  );
  process.exit(r.status ?? 1);
}

function outDir(full: boolean): string {
  return path.join(ROOT, "build", "notebooks", full ? "full" : "quick");
}

function runOne(
  file: string,
  python: string,
  chromium: string,
  opts: { full: boolean; timeout: number },
): Result {
  const OUT = outDir(opts.full);
  const name = path.relative(ROOT, file);
  const base = path.basename(file, ".ipynb");
  const res: Result = {
    notebook: name,
    seconds: 0,
    declared: null,
    emitted: null,
    drawn: null,
    failures: [],
  };
  const committed = readNotebook(file);
  res.declared = declaredCharts(committed);
  for (const p of committedProblems(committed)) res.failures.push(`${name}: ${p}`);

  // 1. execute
  const executed = path.join(OUT, "executed", `${base}.ipynb`);
  const reportFile = path.join(OUT, "executed", `${base}.json`);
  const errorsFile = path.join(OUT, "executed", `${base}.errors.jsonl`);
  for (const f of [executed, reportFile, errorsFile]) fs.rmSync(f, { force: true });
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    JUPYTER_PATH: jupyterPathEnv(ROOT),
    BATCHWISE_NOTEBOOK_ERRORS: errorsFile,
  };
  if (opts.full) env[FULL_MODE_ENV] = "1";
  else delete env[FULL_MODE_ENV];
  console.log(`\n=== ${name} (${opts.full ? "full" : "quick"} mode) ===`);
  const ex = spawnSync(
    python,
    [
      path.join(ROOT, "scripts", "notebooks", "execute.py"),
      file,
      executed,
      "--kernel",
      KERNEL_NAME,
      "--timeout",
      String(opts.timeout),
      "--report",
      reportFile,
    ],
    { stdio: ["ignore", "inherit", "pipe"], env, encoding: "utf8" },
  );
  if (!fs.existsSync(reportFile) || !fs.existsSync(executed)) {
    res.failures.push(
      `${name}: the executor failed: ${(ex.stderr ?? "").trim().split("\n").slice(-5).join("\n")}`,
    );
    return res;
  }
  const report = JSON.parse(fs.readFileSync(reportFile, "utf8")) as ExecReport;
  res.seconds = report.seconds;
  const nb = readNotebook(executed);
  const stderr = stderrOutputs(nb);
  for (const f of report.failures) {
    const text = stderr
      .filter((s) => s.cell === f.cell)
      .map((s) => s.text.trim())
      .join("\n");
    // A dead kernel says why only on its own stderr, which the executor passes through.
    const kernelStderr =
      f.kind === "dead-kernel" || f.kind === "exception"
        ? `kernel/executor stderr (last lines):\n${(ex.stderr ?? "").trim().split("\n").slice(-15).join("\n")}`
        : "";
    const detail = [f.message, text, kernelStderr].filter((s) => s).join("\n");
    res.failures.push(
      `${name}: ${describeCell(nb, f.cell)}: ${f.kind}${detail ? `\n${indent(detail)}` : ""}`,
    );
  }
  // Output on stderr in a cell that "succeeded" (e.g. an un-awaited promise's error, which
  // tslab prints wherever it lands) fails too.
  for (const s of stderr) {
    if (report.failures.some((f) => f.cell === s.cell)) continue;
    res.failures.push(
      `${name}: ${describeCell(nb, s.cell)}: wrote to stderr\n${indent(s.text.trim())}`,
    );
  }
  // Errors the kernel caught outside any request (un-awaited promises): named by their time.
  for (const e of readKernelErrors(errorsFile)) {
    const cell = cellAt(report, e.time);
    res.failures.push(
      `${name}: ${describeCell(nb, cell)}: ${e.kind} (during or after this cell; an un-awaited promise? await it)\n${indent(e.message.trim())}`,
    );
  }
  for (const [i, c] of Object.entries(report.cells)) {
    console.log(`  cell ${i.padStart(2)}: ${c.seconds.toFixed(1).padStart(6)} s  ${c.status}`);
  }
  if (res.failures.length > 0) return res;

  // 2. charts made
  res.emitted = countChartMarkers(nb);
  if (res.declared != null && res.emitted !== res.declared) {
    res.failures.push(`${name}: made ${res.emitted} charts, its metadata declares ${res.declared}`);
  }
  const plotly = countPlotlyOutputs(nb);
  if (res.declared != null && plotly !== res.declared) {
    res.failures.push(
      `${name}: ${plotly} outputs carry plotly's MIME type (${PLOTLY_MIME_TYPE}), its metadata declares ${res.declared} charts`,
    );
  }

  // 3. HTML, rendered by Chromium
  const htmlDir = path.join(OUT, "html");
  const conv = spawnSync(
    python,
    ["-m", "nbconvert", "--to", "html", "--output-dir", htmlDir, executed],
    { encoding: "utf8", env },
  );
  const html = path.join(htmlDir, `${base}.html`);
  if (conv.status !== 0 || !fs.existsSync(html)) {
    res.failures.push(
      `${name}: nbconvert --to html failed:\n${indent((conv.stderr ?? "").trim())}`,
    );
    return res;
  }
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "batchwise-chromium-"));
  try {
    const r = spawnSync(chromium, chromiumArgs(html, profile), {
      encoding: "utf8",
      maxBuffer: 256 * 1024 * 1024,
      timeout: 180_000,
    });
    const dom = r.stdout ?? "";
    fs.mkdirSync(path.join(OUT, "dom"), { recursive: true });
    fs.writeFileSync(path.join(OUT, "dom", `${base}.html`), dom);
    if (r.status !== 0 || dom === "") {
      res.failures.push(
        `${name}: Chromium failed (status ${r.status}${r.error ? `, ${r.error.message}` : ""}):\n${indent((r.stderr ?? "").trim().split("\n").slice(-5).join("\n"))}`,
      );
      return res;
    }
    res.drawn = countDrawnCharts(dom);
    if (res.declared != null && res.drawn !== res.declared) {
      res.failures.push(
        `${name}: Chromium drew ${res.drawn} charts of the exported HTML, the notebook declares ${res.declared}`,
      );
    }
  } finally {
    fs.rmSync(profile, { recursive: true, force: true });
  }
  return res;
}

/** The cell running at `time`, else the last one that finished before it. */
function cellAt(report: ExecReport, time: number): number | null {
  let best: number | null = null;
  for (const [k, c] of Object.entries(report.cells)) {
    const i = Number(k);
    if (c.start <= time && time <= c.end) return i;
    if (c.end <= time && (best == null || i > best)) best = i;
  }
  return best;
}

function run(args: string[]): void {
  const parsed = parseCheckArgs(args);
  if ("error" in parsed) {
    console.error(parsed.error);
    usage();
  }
  const { full, timeout, names } = parsed;
  const cellTimeout = timeout ?? (full ? 3600 : QUICK_BUDGET_S);

  const { files, python, chromium } = checkSetUp("notebooks", ROOT, names, {
    modules: ["nbclient", "nbconvert"],
    noPython:
      "no Python with Jupyter's nbclient and nbconvert (npm run setup:notebooks installs them into .venv; or Debian: apt-get install jupyter-notebook python3-nbconvert; or set BATCHWISE_JUPYTER_PYTHON)",
    noChromium:
      "no Chromium to render the exported notebooks (Debian: apt-get install chromium; or set BATCHWISE_CHROMIUM)",
  });
  writeKernelSpec(ROOT);
  const OUT = outDir(full);
  fs.mkdirSync(path.join(OUT, "executed"), { recursive: true });

  const t0 = performance.now();
  const results = files.map((f) => runOne(f, python, chromium, { full, timeout: cellTimeout }));
  const total = (performance.now() - t0) / 1000;

  console.log(`\nnotebooks (${full ? "full" : "quick"} mode, cell timeout ${cellTimeout} s):`);
  console.log("| notebook | time (s) | charts declared | made | drawn | result |");
  console.log("|---|---:|---:|---:|---:|---|");
  for (const r of results) {
    const over =
      !full && r.seconds > QUICK_BUDGET_S ? ` (over the ${QUICK_BUDGET_S} s quick budget)` : "";
    console.log(
      `| ${r.notebook} | ${r.seconds.toFixed(0)}${over} | ${r.declared ?? "—"} | ${r.emitted ?? "—"} | ${r.drawn ?? "—"} | ${r.failures.length ? "FAIL" : "ok"} |`,
    );
  }
  console.log(`total ${total.toFixed(0)} s`);
  fs.writeFileSync(
    path.join(OUT, "summary.json"),
    JSON.stringify({ mode: full ? "full" : "quick", cellTimeout, total, results }, null, 1),
  );
  const failures = results.flatMap((r) => r.failures);
  if (failures.length > 0) {
    console.error(`\nnotebooks: ${failures.length} failure(s):\n${failures.join("\n")}`);
    process.exit(1);
  }
  console.log("notebooks: all passed");
}

function main(): void {
  const [cmd, ...args] = process.argv.slice(2);
  if (cmd === "kernel") kernel();
  else if (cmd === "open") open(args);
  else if (cmd === "run") run(args);
  else usage();
}

main();
