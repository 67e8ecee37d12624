/**
 * The helpers of the JupyterLab browser test (scripts/notebooks-lib.ts): the project's venv,
 * JupyterLab's test settings, counting plotly outputs and claim checks in a saved notebook,
 * the recorded cell times that name a cell for a kernel error, and the untrusted copy.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
  cellAtTime,
  cellTimes,
  claimChecks,
  countChartMarkers,
  countPlotlyOutputs,
  findJupyterPython,
  jupyterLabTestSettings,
  PLOTLY_MIME_TYPE,
  projectVenv,
  untrustedCopy,
  venvPython,
  writeJupyterLabSettings,
  type Notebook,
  type NotebookCell,
  indent,
  parseCheckArgs,
  readKernelErrors,
  selectNotebooks,
} from "../../scripts/notebooks-lib";

const code = (source: string, extra: Partial<NotebookCell> = {}): NotebookCell => ({
  cell_type: "code",
  source,
  metadata: {},
  outputs: [],
  execution_count: null,
  ...extra,
});
const notebook = (cells: NotebookCell[]): Notebook => ({
  cells,
  metadata: { batchwise: { charts: 2 } },
  nbformat: 4,
  nbformat_minor: 5,
});
const chart = (n: number) => ({
  output_type: "display_data" as const,
  data: {
    [PLOTLY_MIME_TYPE]: { data: [], layout: { height: 420 } },
    "text/html": `<div class="batchwise-chart" data-batchwise-chart="${n}"></div>`,
    "text/plain": `plotly chart ${n}`,
    "image/png": "iVBORw0KGgo=",
  },
});

test("the project's venv: .venv or $BATCHWISE_VENV, relative to the root", () => {
  assert.equal(projectVenv("/p", {}), "/p/.venv");
  assert.equal(projectVenv("/p", { BATCHWISE_VENV: "envs/x" }), "/p/envs/x");
  assert.equal(projectVenv("/p", { BATCHWISE_VENV: "/abs" }), "/abs");
  assert.equal(venvPython("/p", {}), "/p/.venv/bin/python");
  // A missing venv is skipped, not an error: the next candidates are tried.
  const none = findJupyterPython(["json"], { BATCHWISE_VENV: "/nonexistent-venv" }, "/p");
  assert.notEqual(none, "/nonexistent-venv/bin/python");
});

test("JupyterLab's test settings: every cell in the DOM, timings, no autosave, no network", () => {
  const s = jupyterLabTestSettings();
  const tracker = s["@jupyterlab/notebook-extension/tracker.jupyterlab-settings"];
  assert.equal(tracker.windowingMode, "none");
  assert.equal(tracker.recordTiming, true);
  assert.equal(s["@jupyterlab/docmanager-extension/plugin.jupyterlab-settings"].autosave, false);
  const news = s["@jupyterlab/apputils-extension/notification.jupyterlab-settings"];
  assert.equal(news.fetchNews, "false");
  assert.equal(news.checkForUpdates, false);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bw-lab-settings-"));
  try {
    writeJupyterLabSettings(dir);
    const file = path.join(dir, "@jupyterlab", "notebook-extension", "tracker.jupyterlab-settings");
    assert.deepEqual(JSON.parse(fs.readFileSync(file, "utf8")), tracker);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("plotly outputs, chart markers and claim checks are counted in a saved notebook", () => {
  const nb = notebook([
    code("a", { outputs: [chart(1), { output_type: "stream", name: "stdout", text: "x" }] }),
    code("b", {
      outputs: [
        chart(2),
        { output_type: "display_data", data: { "text/html": "<table></table>" } },
        {
          output_type: "display_data",
          data: { "text/markdown": ["**Claim check: holds** — A. ", "Measured: 1."] },
        },
        {
          output_type: "display_data",
          data: { "text/markdown": "**Claim check: does not hold** — B. Measured: 3." },
        },
        { output_type: "display_data", data: { "text/markdown": "**Check** by hand" } },
      ],
    }),
  ]);
  assert.equal(countPlotlyOutputs(nb), 2);
  assert.equal(countChartMarkers(nb), 2);
  assert.deepEqual(claimChecks(nb), [
    { cell: 1, text: "**Claim check: holds** — A. Measured: 1.", holds: true },
    { cell: 1, text: "**Claim check: does not hold** — B. Measured: 3.", holds: false },
  ]);
  assert.equal(countPlotlyOutputs(notebook([code("c")])), 0);
});

test("recorded cell times name the cell running at a time, else the last one before it", () => {
  const timed = (busy: string, idle: string) =>
    code("x", {
      metadata: { execution: { "iopub.status.busy": busy, "iopub.status.idle": idle } },
    });
  const nb = notebook([
    { cell_type: "markdown", source: "# t" },
    timed("2026-12-02T10:00:00.000Z", "2026-12-02T10:00:02.500Z"),
    code("never ran"),
    // Reported busy while the previous cell still ran (queued): starts when that one ended.
    timed("2026-12-02T10:00:02.000Z", "2026-12-02T10:00:10.000Z"),
  ]);
  const times = cellTimes(nb);
  assert.deepEqual([...times.keys()], [1, 3]);
  const t0 = Date.parse("2026-12-02T10:00:00.000Z") / 1000;
  assert.deepEqual(times.get(1), { start: t0, end: t0 + 2.5 });
  assert.deepEqual(times.get(3), { start: t0 + 2.5, end: t0 + 10 });
  assert.equal(cellAtTime(times, t0 + 1), 1);
  assert.equal(cellAtTime(times, t0 + 2.5), 1);
  assert.equal(cellAtTime(times, t0 + 5), 3);
  assert.equal(cellAtTime(times, t0 + 60), 3); // after the last cell: the last that ended
  assert.equal(cellAtTime(times, t0 - 1), null);
});

test("the untrusted copy drops the renderer's PNG snapshots and differs from the original", () => {
  const nb = notebook([code("a", { outputs: [chart(1)] })]);
  const copy = untrustedCopy(nb);
  const data = copy.cells[0].outputs?.[0].data ?? {};
  assert.equal(data["image/png"], undefined);
  assert.ok(data[PLOTLY_MIME_TYPE] != null && data["text/html"] != null);
  assert.deepEqual(copy.metadata.batchwise, { charts: 2, untrustedCopy: true });
  // The original is unchanged.
  assert.equal(nb.cells[0].outputs?.[0].data?.["image/png"], "iVBORw0KGgo=");
  assert.deepEqual(nb.metadata.batchwise, { charts: 2 });
});

test("parseCheckArgs reads --full, --timeout and names, and names a bad value", () => {
  assert.deepEqual(parseCheckArgs(["--full", "--timeout", "300", "03", "05"], {}), {
    full: true,
    timeout: 300,
    names: ["03", "05"],
  });
  assert.deepEqual(parseCheckArgs([], { BATCHWISE_FULL: "1" }), {
    full: true,
    timeout: null,
    names: [],
  });
  assert.deepEqual(parseCheckArgs(["--timeout", "0"], {}), {
    error: "--timeout: must be an integer number of seconds > 0, got 0",
  });
  assert.deepEqual(parseCheckArgs(["--timeout"], {}), {
    error: "--timeout: must be an integer number of seconds > 0, got undefined",
  });
  assert.deepEqual(parseCheckArgs(["--fast"], {}), { error: "unknown option --fast" });
});

test("selectNotebooks filters by name; readKernelErrors reads the launcher's JSON lines", () => {
  const root = path.resolve(__dirname, "..", "..");
  const all = selectNotebooks(root, []);
  assert.ok(all.length >= 6);
  assert.deepEqual(
    selectNotebooks(root, ["03-"]).map((f) => path.basename(f)),
    ["03-roberta-question.ipynb"],
  );
  assert.deepEqual(selectNotebooks(root, ["no-such-notebook"]), []);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bw-kerr-"));
  const file = path.join(dir, "errors.jsonl");
  assert.deepEqual(readKernelErrors(file), []);
  fs.writeFileSync(
    file,
    '{"time":1.5,"kind":"unhandledRejection","message":"boom"}\n\n{"time":2,"kind":"uncaughtException","message":"x"}\n',
  );
  assert.deepEqual(
    readKernelErrors(file).map((e) => [e.time, e.kind]),
    [
      [1.5, "unhandledRejection"],
      [2, "uncaughtException"],
    ],
  );
  assert.equal(indent("a\nb"), "    a\n    b");
  fs.rmSync(dir, { recursive: true, force: true });
});
