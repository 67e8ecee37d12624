/**
 * The pieces of the notebook tooling (scripts/notebooks.ts, scripts/test-jupyterlab.ts) that
 * need no Jupyter: the kernelspec, the project's virtual environment, finding Jupyter's Python
 * and Chromium, JupyterLab's settings for the browser test, the checks on committed notebooks,
 * and counting charts, claim checks and problems in an executed notebook and in the DOM
 * Chromium rendered. Unit-tested in test/notebooks/.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { CHART_MARKER_CLASS, CLAIM_CHECK_PREFIX, PLOTLY_MIME_TYPE } from "../lib/report/notebook";

/** Name of the kernelspec (notebooks' `metadata.kernelspec.name`). */
export const KERNEL_NAME = "batchwise-tslab";

/** Display name of the kernel in Jupyter's menus. */
export const KERNEL_DISPLAY_NAME = "TypeScript (batchwise)";

/** Class of the wrapper `<div>` showPlot writes around each chart (lib/report/notebook.ts). */
export const CHART_MARKER = `class="${CHART_MARKER_CLASS}"`;

// plotly's MIME type (showPlot's output carries the figure under it) and how the Markdown
// output of checkClaim starts: lib's own constants.
export { CLAIM_CHECK_PREFIX, PLOTLY_MIME_TYPE };

/** What plotly writes on each chart it has drawn. */
export const DRAWN_CHART = 'class="plot-container plotly"';

/** The variable of the first cell that chooses quick (CI) or full mode. */
export const MODE_VARIABLE = "QUICK";

/** The environment variable that selects full mode. */
export const FULL_MODE_ENV = "BATCHWISE_FULL";

/** One notebook cell (nbformat 4). */
export interface NotebookCell {
  cell_type: "code" | "markdown" | "raw";
  source: string | string[];
  metadata?: Record<string, unknown>;
  outputs?: NotebookOutput[];
  execution_count?: number | null;
}

/** One output of a code cell (nbformat 4). */
export interface NotebookOutput {
  output_type: "stream" | "display_data" | "execute_result" | "error";
  name?: string;
  text?: string | string[];
  data?: Record<string, string | string[] | unknown>;
  ename?: string;
  evalue?: string;
}

/** A notebook (nbformat 4). */
export interface Notebook {
  cells: NotebookCell[];
  metadata: Record<string, unknown>;
  nbformat: number;
  nbformat_minor: number;
}

/** Joins nbformat's list-of-lines form. */
export function joinText(s: string | string[] | undefined): string {
  return Array.isArray(s) ? s.join("") : (s ?? "");
}

/** Reads and parses a notebook file. */
export function readNotebook(file: string): Notebook {
  return JSON.parse(fs.readFileSync(file, "utf8")) as Notebook;
}

/** The notebooks in reading order: `<root>/notebooks/NN-*.ipynb`, sorted by name. */
export function listNotebooks(root: string): string[] {
  const dir = path.join(root, "notebooks");
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => /^\d\d-.*\.ipynb$/.test(f))
    .sort()
    .map((f) => path.join(dir, f));
}

/** Where `npm run notebooks:kernel` installs the kernelspec: `JUPYTER_PATH` points here. */
export function jupyterDataDir(root: string): string {
  return path.join(root, "build", "jupyter", "share", "jupyter");
}

/**
 * The kernelspec: run scripts/notebooks/tslab-kernel.js with the given node; it changes to
 * the project root and starts tslab (see that file).
 */
export function kernelSpec(root: string, nodePath: string): Record<string, unknown> {
  return {
    argv: [
      nodePath,
      path.join(root, "scripts", "notebooks", "tslab-kernel.js"),
      "kernel",
      "--config-path",
      "{connection_file}",
    ],
    display_name: KERNEL_DISPLAY_NAME,
    language: "typescript",
    interrupt_mode: "signal",
  };
}

/**
 * Writes the kernelspec to `<root>/build/jupyter/share/jupyter/kernels/batchwise-tslab/`.
 * @returns the path of kernel.json.
 */
export function writeKernelSpec(root: string, nodePath: string = process.execPath): string {
  const dir = path.join(jupyterDataDir(root), "kernels", KERNEL_NAME);
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, "kernel.json");
  fs.writeFileSync(file, JSON.stringify(kernelSpec(root, nodePath), null, 1) + "\n");
  return file;
}

/** `JUPYTER_PATH` with the project's data dir first. */
export function jupyterPathEnv(root: string, env: NodeJS.ProcessEnv = process.env): string {
  return [jupyterDataDir(root), env.JUPYTER_PATH].filter((p) => p).join(path.delimiter);
}

/**
 * The project's virtual environment: `$BATCHWISE_VENV` (relative to `root`) or `<root>/.venv`,
 * the one `npm run setup:native` and `npm run setup:notebooks` create.
 */
export function projectVenv(root: string, env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(root, env.BATCHWISE_VENV ?? ".venv");
}

/** The virtual environment's python (`<venv>/bin/python`), whether or not it exists. */
export function venvPython(root: string, env: NodeJS.ProcessEnv = process.env): string {
  return path.join(projectVenv(root, env), "bin", "python");
}

function runs(cmd: string, args: string[]): boolean {
  const r = spawnSync(cmd, args, { stdio: "ignore", timeout: 60_000 });
  return r.error == null && r.status === 0;
}

/**
 * The first Python that can import `modules`: `$BATCHWISE_JUPYTER_PYTHON`, the project's
 * virtual environment when `root` is given (where `npm run setup:notebooks` installs
 * JupyterLab, nbconvert and nbclient), Debian's /usr/bin/python3 (the one the
 * jupyter-notebook package installs into; the first python3 on PATH may be another, e.g.
 * pyenv's), then python3 and python on PATH.
 * @returns the command, or null when none can.
 */
export function findJupyterPython(
  modules: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
  root?: string,
): string | null {
  const candidates = [
    env.BATCHWISE_JUPYTER_PYTHON,
    root != null ? venvPython(root, env) : undefined,
    "/usr/bin/python3",
    "python3",
    "python",
  ];
  for (const c of candidates) {
    if (c && runs(c, ["-c", `import ${modules.join(", ")}`])) return c;
  }
  return null;
}

/**
 * The first Chromium that runs: `$BATCHWISE_CHROMIUM`, then chromium, chromium-browser,
 * google-chrome, google-chrome-stable on PATH.
 * @returns the command, or null.
 */
export function findChromium(env: NodeJS.ProcessEnv = process.env): string | null {
  const candidates = [
    env.BATCHWISE_CHROMIUM,
    "chromium",
    "chromium-browser",
    "google-chrome",
    "google-chrome-stable",
  ];
  for (const c of candidates) if (c && runs(c, ["--version"])) return c;
  return null;
}

/**
 * Chromium's arguments to render an HTML file headlessly and print the DOM after running its
 * scripts (no network services, a throwaway profile, virtual time so timers run to the end).
 */
export function chromiumArgs(htmlFile: string, userDataDir: string, budgetMs = 15000): string[] {
  return [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    `--user-data-dir=${userDataDir}`,
    `--virtual-time-budget=${budgetMs}`,
    "--dump-dom",
    `file://${path.resolve(htmlFile)}`,
  ];
}

/** The chart count a notebook declares in `metadata.batchwise.charts`, or null. */
export function declaredCharts(nb: Notebook): number | null {
  const meta = nb.metadata?.batchwise as { charts?: unknown } | undefined;
  const c = meta?.charts;
  return typeof c === "number" && Number.isInteger(c) && c >= 0 ? c : null;
}

/** "cell 7 (`const fit = …`)": a cell named by its index and first non-empty line. */
export function describeCell(nb: Notebook, index: number | null | undefined): string {
  if (index == null || index < 0 || index >= nb.cells.length) return "before the first cell";
  const line =
    joinText(nb.cells[index].source)
      .split("\n")
      .find((l) => l.trim() !== "")
      ?.trim() ?? "";
  return `cell ${index} (\`${line.length > 80 ? line.slice(0, 77) + "..." : line}\`)`;
}

/**
 * Problems with a notebook as committed: it must use the batchwise kernel, declare its chart
 * count, have no outputs or execution counts, start with the quick/full switch, and keep its
 * code to calls of lib/ (no function or class definitions; imports from ./lib only).
 * @returns one message per problem (empty when fine).
 */
export function committedProblems(nb: Notebook): string[] {
  const problems: string[] = [];
  if (nb.nbformat !== 4) problems.push(`nbformat is ${nb.nbformat}, expected 4`);
  const ks = nb.metadata?.kernelspec as { name?: string } | undefined;
  if (ks?.name !== KERNEL_NAME) {
    problems.push(
      `metadata.kernelspec.name is ${JSON.stringify(ks?.name)}, expected "${KERNEL_NAME}"`,
    );
  }
  if (declaredCharts(nb) == null) {
    problems.push("metadata.batchwise.charts (the number of charts it draws) is missing");
  }
  const code = nb.cells.map((c, i) => ({ c, i })).filter(({ c }) => c.cell_type === "code");
  if (code.length === 0) problems.push("no code cells");
  if (!nb.cells.some((c) => c.cell_type === "markdown")) problems.push("no markdown cells");
  const first = code[0];
  if (first != null) {
    const src = joinText(first.c.source);
    const re = new RegExp(`\\bconst\\s+${MODE_VARIABLE}\\b[^\\n]*${FULL_MODE_ENV}`);
    if (!re.test(src)) {
      problems.push(
        `the first code cell must choose the mode: const ${MODE_VARIABLE} = process.env.${FULL_MODE_ENV} !== "1"`,
      );
    }
  }
  for (const { c, i } of code) {
    const where = describeCell(nb, i);
    if ((c.outputs ?? []).length > 0)
      problems.push(`${where} has outputs (commit without outputs)`);
    if (c.execution_count != null) problems.push(`${where} has an execution count`);
    const src = joinText(c.source);
    if (/^\s*(export\s+)?(async\s+)?function\b|\bclass\s+\w+/m.test(src)) {
      problems.push(`${where} defines a function or class (library code belongs in lib/)`);
    }
    for (const m of src.matchAll(/\bfrom\s+["']([^"']+)["']|\brequire\(\s*["']([^"']+)["']/g)) {
      const spec = m[1] ?? m[2];
      if (!/^\.\/lib(\/|$)/.test(spec)) {
        problems.push(`${where} imports "${spec}" (notebooks import only from ./lib)`);
      }
    }
  }
  return problems;
}

/** Number of chart markers in the outputs of an executed notebook (one per showPlot call). */
export function countChartMarkers(nb: Notebook): number {
  let n = 0;
  for (const c of nb.cells) {
    for (const o of c.outputs ?? []) {
      const html = o.data?.["text/html"];
      if (html != null) n += joinText(html as string | string[]).split(CHART_MARKER).length - 1;
    }
  }
  return n;
}

/** Number of charts plotly drew in a DOM dump. */
export function countDrawnCharts(dom: string): number {
  return dom.split(DRAWN_CHART).length - 1;
}

/** Every stderr stream output of an executed notebook, by cell. */
export function stderrOutputs(nb: Notebook): { cell: number; text: string }[] {
  const out: { cell: number; text: string }[] = [];
  nb.cells.forEach((c, i) => {
    for (const o of c.outputs ?? []) {
      if (o.output_type === "stream" && o.name === "stderr")
        out.push({ cell: i, text: joinText(o.text) });
      if (o.output_type === "error") out.push({ cell: i, text: `${o.ename}: ${o.evalue}` });
    }
  });
  return out;
}

/** Number of outputs with plotly's MIME type in an executed notebook (one per showPlot call). */
export function countPlotlyOutputs(nb: Notebook): number {
  let n = 0;
  for (const c of nb.cells) {
    for (const o of c.outputs ?? []) if (o.data?.[PLOTLY_MIME_TYPE] != null) n++;
  }
  return n;
}

/** The claim checks (lib's checkClaim) in an executed notebook: cell, text, whether it held. */
export function claimChecks(nb: Notebook): { cell: number; text: string; holds: boolean }[] {
  const out: { cell: number; text: string; holds: boolean }[] = [];
  nb.cells.forEach((c, i) => {
    for (const o of c.outputs ?? []) {
      const md = o.data?.["text/markdown"];
      if (md == null) continue;
      const text = joinText(md as string | string[]).trim();
      if (text.startsWith(CLAIM_CHECK_PREFIX)) {
        out.push({ cell: i, text, holds: text.startsWith(`${CLAIM_CHECK_PREFIX} holds**`) });
      }
    }
  });
  return out;
}

/**
 * JupyterLab's user settings for the browser test, by file under JUPYTERLAB_SETTINGS_DIR:
 * every cell attached to the page (windowing off, so that every output is in the DOM to count
 * and in the screenshot), execution times recorded in the cell metadata, no autosave, no news
 * or update checks (no network, no toast over the page).
 */
export function jupyterLabTestSettings(): Record<string, Record<string, unknown>> {
  return {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {
      windowingMode: "none",
      recordTiming: true,
    },
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": { autosave: false },
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
      fetchNews: "false",
      checkForUpdates: false,
    },
  };
}

/** Writes {@link jupyterLabTestSettings} under `dir` (JUPYTERLAB_SETTINGS_DIR). */
export function writeJupyterLabSettings(dir: string): void {
  for (const [file, value] of Object.entries(jupyterLabTestSettings())) {
    const p = path.join(dir, file);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, JSON.stringify(value, null, 1) + "\n");
  }
}

/**
 * When each code cell of a notebook executed in JupyterLab with `recordTiming` ran, in seconds
 * since the epoch, from `metadata.execution`: from the kernel's `iopub.status.busy` to its
 * `iopub.status.idle` (tslab sends no `execute_input`, and may report a queued cell busy before
 * the previous one is idle: the cells ran one after the other, so a cell starts no earlier than
 * the previous one ended).
 * @returns cell index → { start, end } for the cells with both times, in cell order.
 */
export function cellTimes(nb: Notebook): Map<number, { start: number; end: number }> {
  const out = new Map<number, { start: number; end: number }>();
  let previousEnd = -Infinity;
  nb.cells.forEach((c, i) => {
    const ex = c.metadata?.execution as Record<string, unknown> | undefined;
    const busy = Date.parse(String(ex?.["iopub.status.busy"] ?? ""));
    const idle = Date.parse(String(ex?.["iopub.status.idle"] ?? ""));
    if (Number.isFinite(busy) && Number.isFinite(idle)) {
      const end = idle / 1000;
      const start = Math.min(end, Math.max(busy / 1000, previousEnd));
      out.set(i, { start, end });
      previousEnd = end;
    }
  });
  return out;
}

/** The cell running at `time` (s since the epoch), else the last one that ended before it. */
export function cellAtTime(
  times: Map<number, { start: number; end: number }>,
  time: number,
): number | null {
  let best: number | null = null;
  for (const [i, c] of times) {
    if (c.start <= time && time <= c.end) return i;
    if (c.end <= time && (best == null || i > best)) best = i;
  }
  return best;
}

/**
 * A copy of an executed notebook that JupyterLab opens untrusted and whose charts its plotly
 * renderer must draw from the JSON: the `image/png` snapshots the renderer adds to each plotly
 * output are dropped (it would show those instead), and `metadata.batchwise.untrustedCopy`
 * makes the content differ from the signed original, so its signature is unknown.
 */
export function untrustedCopy(nb: Notebook): Notebook {
  const copy = JSON.parse(JSON.stringify(nb)) as Notebook;
  for (const c of copy.cells) {
    for (const o of c.outputs ?? []) {
      if (o.data?.[PLOTLY_MIME_TYPE] != null) delete o.data["image/png"];
    }
  }
  const meta = (copy.metadata.batchwise ?? {}) as Record<string, unknown>;
  copy.metadata.batchwise = { ...meta, untrustedCopy: true };
  return copy;
}

/** A kernel-side error the launcher recorded (scripts/notebooks/tslab-kernel.js). */
export interface KernelError {
  /** When, in seconds since the epoch. */
  time: number;
  kind: string;
  message: string;
}

/** The errors the kernel launcher appended to `file` (one JSON line each); [] without a file. */
export function readKernelErrors(file: string): KernelError[] {
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as KernelError);
}

/** `s` with every line indented by four spaces (failure details under their heading). */
export function indent(s: string): string {
  return s
    .split("\n")
    .map((l) => `    ${l}`)
    .join("\n");
}

/**
 * Ends a notebook check that cannot run here: exit 0 with "SKIPPED: …", or exit 1 with
 * "FAIL: …" when BATCHWISE_REQUIRE_NOTEBOOKS=1 (set by .ci/run).
 * @param tool the check's name in the message (`notebooks`, `test:jupyterlab`).
 */
export function skipOrFail(tool: string, message: string): never {
  if (process.env.BATCHWISE_REQUIRE_NOTEBOOKS === "1") {
    console.error(`${tool}: FAIL: ${message} (BATCHWISE_REQUIRE_NOTEBOOKS=1)`);
    process.exit(1);
  }
  console.log(
    `${tool}: SKIPPED: ${message}. Set BATCHWISE_REQUIRE_NOTEBOOKS=1 to make this a failure.`,
  );
  process.exit(0);
}

/** The options of a notebook check (`run` of scripts/notebooks.ts, scripts/test-jupyterlab.ts). */
export interface CheckArgs {
  /** Full mode (`--full`, or BATCHWISE_FULL=1 in the environment). */
  full: boolean;
  /** `--timeout S`: seconds per cell, or null for the check's default. */
  timeout: number | null;
  /** Run only the notebooks whose file name contains one of these. */
  names: string[];
}

/**
 * Parses `[--full] [--timeout S] [NAME…]`.
 * @returns the options, or `{ error }` naming a bad `--timeout` value or an unknown option.
 */
export function parseCheckArgs(
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): CheckArgs | { error: string } {
  const out: CheckArgs = { full: env[FULL_MODE_ENV] === "1", timeout: null, names: [] };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--full") out.full = true;
    else if (a === "--timeout") {
      const t = Number(args[++i]);
      if (!(Number.isInteger(t) && t > 0)) {
        return { error: `--timeout: must be an integer number of seconds > 0, got ${args[i]}` };
      }
      out.timeout = t;
    } else if (a.startsWith("-")) return { error: `unknown option ${a}` };
    else out.names.push(a);
  }
  return out;
}

/** The notebooks of `root` whose file name contains one of `names` (all when none given). */
export function selectNotebooks(root: string, names: string[]): string[] {
  const files = listNotebooks(root);
  return names.length === 0
    ? files
    : files.filter((f) => names.some((n) => path.basename(f).includes(n)));
}

/** {@link committedProblems} of each file, prefixed with its path relative to `root`. */
export function committedProblemsOf(root: string, files: string[]): string[] {
  return files.flatMap((f) =>
    committedProblems(readNotebook(f)).map((p) => `${path.relative(root, f)}: ${p}`),
  );
}

/** What a notebook check needs from {@link checkSetUp}. */
export interface CheckSetUp {
  /** The notebooks to check (absolute paths). */
  files: string[];
  /** A Python that imports the check's modules. */
  python: string;
  /** The Chromium command. */
  chromium: string;
}

/**
 * The set-up every notebook check starts with: the notebooks named by `names` (exit 1 when none
 * match), a Python with `modules` (without one the committed files are still checked and fail
 * on problems, then {@link skipOrFail}), Chromium and tslab (else {@link skipOrFail}).
 *
 * @param tool the check's name in messages (`notebooks`, `test:jupyterlab`).
 * @param opts `modules` the Python must import; `noPython` and `noChromium`, the messages that
 *   say how to install them.
 */
export function checkSetUp(
  tool: string,
  root: string,
  names: string[],
  opts: { modules: string[]; noPython: string; noChromium: string },
): CheckSetUp {
  const files = selectNotebooks(root, names);
  if (files.length === 0) {
    console.error(
      `${tool}: no notebooks${names.length ? ` match ${names.join(", ")}` : " in notebooks/"}`,
    );
    process.exit(1);
  }
  // Committed-file problems fail even where Jupyter is missing.
  const python = findJupyterPython(opts.modules, process.env, root);
  if (python == null) {
    const problems = committedProblemsOf(root, files);
    if (problems.length > 0) {
      console.error(problems.join("\n"));
      process.exit(1);
    }
    skipOrFail(tool, opts.noPython);
  }
  const chromium = findChromium();
  if (chromium == null) skipOrFail(tool, opts.noChromium);
  if (!fs.existsSync(path.join(root, "node_modules", "tslab"))) {
    skipOrFail(tool, "tslab is not installed (npm install)");
  }
  return { files, python, chromium };
}
