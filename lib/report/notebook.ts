/**
 * Display helpers for the notebooks (tslab kernel): plotly charts that render in JupyterLab, in
 * the classic notebook and in exported HTML, tables as HTML, and checks of the results a
 * notebook claims.
 *
 * - {@link showPlot} writes each chart as one output with three representations (a MIME
 *   bundle), and the frontend picks the one it renders best:
 *   - `application/vnd.plotly.v1+json` (`{ data, layout, config }`): JupyterLab draws it with
 *     the plotly extension that the `plotly` Python package ships (`npm run setup:notebooks`
 *     installs it) — no JavaScript in the output, so it draws in untrusted notebooks too;
 *   - `text/html`: an offline chart for the classic notebook, `jupyter nbconvert --to html`
 *     and anything else without that renderer. The plotly.js-dist-min bundle (≈ 4.8 MB) is
 *     inlined into the first chart's output of a kernel session only; every later chart is a
 *     `<div>` plus a short script (≈ 1 KB + the figure's JSON) that draws into it with the
 *     `window.Plotly` the first output defined. Nothing is fetched from the network. (The
 *     classic notebook runs these scripts only in trusted notebooks.)
 *   - `text/plain`: one line naming the chart.
 *
 *   tslab's public `display` sends one MIME type per output (`display.raw(type, data)`), so the
 *   bundle goes through the function that `display.raw` itself calls (tslab's
 *   `lastWriteDisplayData`, an internal of the exactly pinned tslab); a `display` without
 *   {@link NotebookDisplay.bundle} gets the HTML alone.
 * - {@link showTable} renders a nodejs-polars DataFrame (or an array of plain row objects) as an
 *   HTML table; {@link showMarkdown} renders Markdown (e.g. computed numbers in prose).
 * - {@link checkClaim} shows whether a measured result supports what the notebook's prose says,
 *   and in full mode fails the cell when it does not.
 *
 * Every chart's HTML is wrapped in `<div class="batchwise-chart" data-batchwise-chart="N">`: the
 * notebook checks (`npm run test:jupyterlab`, `npm run test:notebooks`) count the plotly outputs
 * and these markers in the executed notebook and the charts drawn in JupyterLab and in the
 * exported HTML, and require each to equal the chart count the notebook declares in its
 * metadata.
 *
 * tslab is required at call time only (it is a development dependency), so lib/ loads anywhere;
 * the pure functions ({@link chartHtml}, {@link chartMimeBundle}, {@link tableHtml}) work
 * without it, and every `show*` function accepts a `display` to write to instead of tslab's.
 */
import * as fs from "fs";
import type { Figure } from "./figures";
import { escapeHtml, plotlyBundlePath } from "./html";
import { BatchwiseError, ConfigError } from "../core/errors";

/**
 * One output in several representations, keyed by MIME type (Jupyter's `display_data`
 * `data`): JSON types (`application/*+json`) hold plain JSON values, the others strings.
 */
export type MimeBundle = Record<string, unknown>;

/** Where the `show*` helpers write: tslab's `display` has this shape, plus `bundle`. */
export interface NotebookDisplay {
  /** Shows an HTML fragment as the cell's output (MIME type text/html). */
  html(html: string): void;
  /** Shows Markdown (MIME type text/markdown). */
  markdown(markdown: string): void;
  /**
   * Shows one output holding every representation of `data`; the frontend renders the richest
   * it supports. Optional: {@link showPlot} falls back to `html` without it.
   */
  bundle?(data: MimeBundle): void;
}

/** plotly's MIME type; JupyterLab's plotly extension renders `{ data, layout, config }`. */
export const PLOTLY_MIME_TYPE = "application/vnd.plotly.v1+json";

/** Class of the wrapper `<div>` of every chart (counted by the notebook check). */
export const CHART_MARKER_CLASS = "batchwise-chart";

/** Attribute holding the chart's 1-based number within the kernel session. */
export const CHART_MARKER_ATTR = "data-batchwise-chart";

/** Per-kernel-session state: kept on `globalThis` so a re-imported lib/ shares it. */
interface NotebookSession {
  /** Whether the plotly bundle has been written into an output of this session. */
  bundleShown: boolean;
  /** Charts shown so far in this session. */
  charts: number;
  /** Random prefix of the chart element ids (unique across sessions in one page). */
  prefix: string;
}

const SESSION_KEY = Symbol.for("batchwise.notebook.session");

function session(): NotebookSession {
  const g = globalThis as unknown as Record<symbol, NotebookSession | undefined>;
  let s = g[SESSION_KEY];
  if (s == null) {
    s = {
      bundleShown: false,
      charts: 0,
      prefix: Math.floor(Math.random() * 2 ** 32)
        .toString(36)
        .padStart(7, "0"),
    };
    g[SESSION_KEY] = s;
  }
  return s;
}

/**
 * Forgets that the plotly bundle was shown and restarts the chart numbering, as a fresh kernel
 * session would (for tests, or after the page lost the output that held the bundle).
 *
 * @example resetNotebookSession(); // the next showPlot inlines the bundle again
 */
export function resetNotebookSession(): void {
  const s = session();
  s.bundleShown = false;
  s.charts = 0;
}

/** The `display_data` content tslab's kernel sends (Jupyter messaging). */
interface DisplayDataContent {
  data: MimeBundle;
  metadata: Record<string, unknown>;
  transient: Record<string, unknown>;
}

/**
 * The function tslab's `display.raw` sends its single-type output through
 * (`lastWriteDisplayData` of tslab/dist/jupyter.js, set for each executing cell): calling it
 * with a whole bundle sends one output with several MIME types.
 *
 * @throws ConfigError("Not ready") outside a running cell (tslab's own `display` throws that
 *   message; {@link tslabDisplay} explains it); ConfigError naming the module when this tslab
 *   has no such export (tslab is pinned exactly for it).
 */
function tslabWriteDisplayData(): (content: DisplayDataContent) => void {
  const file = "tslab/dist/jupyter";
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const jupyter = require(file) as { lastWriteDisplayData?: unknown };
  if (!("lastWriteDisplayData" in jupyter)) {
    throw new ConfigError(
      `${file} has no lastWriteDisplayData: this tslab is not the version package.json pins (1.0.22), whose display internals showPlot uses`,
    );
  }
  const write = jupyter.lastWriteDisplayData;
  if (write == null) throw new ConfigError("Not ready");
  if (typeof write !== "function") {
    throw new ConfigError(`${file}: lastWriteDisplayData is ${typeof write}, expected a function`);
  }
  return write as (content: DisplayDataContent) => void;
}

/**
 * tslab's `display`, required at call time, with a {@link NotebookDisplay.bundle} that sends
 * a multi-type output the way tslab's own `display.raw` sends a single-type one.
 *
 * @returns the display of the running tslab kernel.
 * @throws Error if tslab is not installed or the code does not run inside a tslab kernel
 *   cell (pass `display` to the `show*` functions to write elsewhere).
 * @example tslabDisplay().html("<b>hello</b>");
 */
export function tslabDisplay(): NotebookDisplay {
  let mod: { display: NotebookDisplay };
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    mod = require("tslab") as { display: NotebookDisplay };
  } catch (e) {
    throw new ConfigError(
      `the notebook display needs tslab (a development dependency; run npm install): ${(e as Error).message.split("\n")[0]}`,
    );
  }
  const d = mod.display;
  const call = (f: () => void) => {
    try {
      f();
    } catch (e) {
      // tslab throws a bare "Not ready" outside a running kernel cell.
      if ((e as Error).message === "Not ready") {
        throw new ConfigError(
          "the notebook display works only inside a tslab kernel cell (pass `display` to write elsewhere)",
        );
      }
      throw e;
    }
  };
  return {
    html: (s) => call(() => d.html(s)),
    markdown: (s) => call(() => d.markdown(s)),
    bundle: (data) => call(() => tslabWriteDisplayData()({ data, metadata: {}, transient: {} })),
  };
}

let bundleCache: string | null = null;

/**
 * The plotly.js-dist-min bundle inside a `<script>` element, made safe to place in HTML: every
 * `</script` is written `<\/script` (the same inside a JS string, template or regex), and a
 * bundle holding both `<!--` and `<script` is refused. Read once per process.
 *
 * @returns `<script>…bundle…</script>`; defines `window.Plotly` when run.
 * @throws Error if plotly.js-dist-min is not installed or cannot be inlined safely.
 * @example plotlyBundleScript().length; // ≈ 4.8 MB
 */
export function plotlyBundleScript(): string {
  if (bundleCache == null) {
    const file = plotlyBundlePath();
    const src = fs.readFileSync(file, "utf8").replace(/<\/(script)/gi, "<\\/$1");
    if (src.includes("<!--") && /<script/i.test(src)) {
      throw new ConfigError(`${file}: holds "<!--" and "<script"; it cannot be inlined safely`);
    }
    bundleCache = `<script>\n${src}\n</script>`;
  }
  return bundleCache;
}

/**
 * JSON for a `<script>` element: `<`, `>`, `&`, U+2028 and U+2029 become `\uXXXX` escapes (they
 * occur only inside JSON strings), so no string can end the script.
 */
function scriptJson(value: unknown): string {
  const json = JSON.stringify(value);
  if (json === undefined) throw new ConfigError("value is not JSON-serialisable");
  return json.replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/** Options of {@link chartHtml}. */
export interface ChartHtmlOptions {
  /** Element id of the chart's `<div>`: letters, digits, `-` and `_`. */
  id: string;
  /** The chart's number in the session (the marker's value), integer ≥ 1. */
  index: number;
  /** Prepend the plotly bundle ({@link plotlyBundleScript}). */
  includeBundle: boolean;
  /** Height of the chart in CSS pixels (default `figure.layout.height`, else 420). */
  height?: number;
}

function checkFigure(figure: Figure): void {
  if (figure === null || typeof figure !== "object" || !Array.isArray(figure.data)) {
    throw new ConfigError("figure: must be a plotly figure { data: [...], layout }");
  }
  if (
    figure.layout !== undefined &&
    (figure.layout === null || typeof figure.layout !== "object")
  ) {
    throw new ConfigError(`figure.layout: must be an object, got ${String(figure.layout)}`);
  }
}

/**
 * The HTML of one chart: the marker `<div class="batchwise-chart" data-batchwise-chart="N">`
 * around the chart's `<div>`, then a script that draws the figure with `window.Plotly` —
 * retrying every 50 ms for up to 5 s while the element or plotly is not there yet (classic
 * Jupyter runs output scripts before it attaches the output), then writing a message into the
 * `<div>` instead. With `includeBundle`, the bundle's `<script>` comes first.
 *
 * @param figure plotly figure `{ data, layout }` (plain JSON, e.g. from {@link lineFigure}).
 * @param opts id, index, whether to include the bundle, height.
 * @returns the HTML fragment (≈ 1 KB plus the figure's JSON, or ≈ 4.8 MB with the bundle).
 * @throws TypeError if the figure is not `{ data: [...], layout?: {} }` or not
 *   JSON-serialisable; RangeError for a bad id, index or height.
 * @example
 * chartHtml(lineFigure({ title: "t", xTitle: "x", yTitle: "y", series: [] }),
 *   { id: "c1", index: 1, includeBundle: false });
 */
export function chartHtml(figure: Figure, opts: ChartHtmlOptions): string {
  checkFigure(figure);
  if (typeof opts.id !== "string" || !/^[A-Za-z][\w-]*$/.test(opts.id)) {
    throw new ConfigError(`id: must be letters, digits, - or _, got ${String(opts.id)}`);
  }
  if (!Number.isInteger(opts.index) || opts.index < 1) {
    throw new ConfigError(`index: must be an integer >= 1, got ${opts.index}`);
  }
  const layoutHeight = (figure.layout as { height?: unknown } | undefined)?.height;
  const height = opts.height ?? (typeof layoutHeight === "number" ? layoutHeight : 420);
  if (!(Number.isFinite(height) && height > 0)) {
    throw new ConfigError(`height: must be a number > 0, got ${height}`);
  }
  let data: string;
  let layout: string;
  try {
    data = scriptJson(figure.data);
    layout = scriptJson(figure.layout ?? {});
  } catch (e) {
    throw new ConfigError(`figure: is not JSON-serialisable: ${(e as Error).message}`);
  }
  const draw = [
    "(function () {",
    `  var id = ${scriptJson(opts.id)}, data = ${data}, layout = ${layout}, tries = 0;`,
    "  function draw() {",
    "    var el = document.getElementById(id);",
    "    if (!el || !window.Plotly) {",
    "      if (++tries < 100) { setTimeout(draw, 50); return; }",
    '      if (el) el.textContent = "plotly.js is not loaded in this page: run bw.loadPlotly() in a cell, or restart the kernel and run all cells.";',
    "      return;",
    "    }",
    "    window.Plotly.newPlot(el, data, layout, { responsive: true, displaylogo: false });",
    "  }",
    "  draw();",
    "})();",
  ].join("\n");
  return [
    ...(opts.includeBundle ? [plotlyBundleScript()] : []),
    `<div class="${CHART_MARKER_CLASS}" ${CHART_MARKER_ATTR}="${opts.index}">`,
    `<div id="${opts.id}" style="width:100%;height:${height}px"></div>`,
    "</div>",
    `<script>\n${draw}\n</script>`,
  ].join("\n");
}

/** `layout.title` as text: a string, or the `text` of a title object; "" if none. */
function titleText(layout: unknown): string {
  const t = (layout as { title?: unknown } | undefined)?.title;
  if (typeof t === "string") return t;
  const text = (t as { text?: unknown } | undefined)?.text;
  return typeof text === "string" ? text : "";
}

/**
 * One chart as a MIME bundle ({@link showPlot} sends it as one output):
 *
 * - `application/vnd.plotly.v1+json` ({@link PLOTLY_MIME_TYPE}): `{ data, layout, config }`
 *   as plain JSON, with `layout.height` always set (the height option, else
 *   `figure.layout.height`, else 420 px; JupyterLab's plotly renderer reads it without a
 *   guard) and the config `{ displaylogo: false }` — not plotly's `responsive`, which sizes the
 *   chart to its container's height, and the renderer's container takes its height from the
 *   chart: on a window resize JupyterLab's charts collapsed to 0 px (the renderer resizes
 *   them itself);
 * - `text/html`: {@link chartHtml} of the same options (marker, offline plotly, optional
 *   bundle);
 * - `text/plain`: `plotly chart N: <title>`.
 *
 * @param figure plotly figure `{ data, layout }`.
 * @param opts as {@link chartHtml}.
 * @returns the bundle (the HTML is ≈ 1 KB plus the figure's JSON, or ≈ 4.8 MB with the
 *   plotly bundle; the plotly JSON is the figure's size).
 * @throws as {@link chartHtml}.
 * @example
 * const b = chartMimeBundle(fig, { id: "c1", index: 1, includeBundle: false });
 * b["application/vnd.plotly.v1+json"]; // { data, layout: { ..., height: 420 }, config }
 */
export function chartMimeBundle(figure: Figure, opts: ChartHtmlOptions): MimeBundle {
  const html = chartHtml(figure, opts); // validates the figure and the options
  const layoutHeight = (figure.layout as { height?: unknown } | undefined)?.height;
  const height = opts.height ?? (typeof layoutHeight === "number" ? layoutHeight : 420);
  // A JSON round trip: the output must be plain JSON (chartHtml has checked that it is).
  const plotly = JSON.parse(
    JSON.stringify({
      data: figure.data,
      layout: { ...(figure.layout ?? {}), height },
      config: { displaylogo: false },
    }),
  ) as unknown;
  const title = titleText(figure.layout);
  return {
    [PLOTLY_MIME_TYPE]: plotly,
    "text/html": html,
    "text/plain": `plotly chart ${opts.index}${title ? `: ${title}` : ""}`,
  };
}

/** Options of {@link showPlot}. */
export interface ShowPlotOptions {
  /** Height in CSS pixels (default `figure.layout.height`, else 420). */
  height?: number;
  /** Where to write (default tslab's display). */
  display?: NotebookDisplay;
}

/**
 * Shows a plotly figure in the notebook as one output with the plotly MIME type (JupyterLab
 * draws it natively, trusted or not), offline HTML (the classic notebook, nbconvert exports)
 * and a line of text: {@link chartMimeBundle}. The HTML of the first chart of a kernel
 * session carries the plotly bundle, later ones ≈ 1 KB plus their data (see the module
 * comment). A `display` without `bundle` gets the HTML only.
 *
 * @param figure plotly figure `{ data, layout }` (e.g. {@link lineFigure},
 *   {@link accuracyVsFigure}).
 * @param opts height, display.
 * Returns nothing, so a call as a cell's last expression prints nothing (tslab prints the value
 * of a last expression); the chart's number in the session is in its marker.
 *
 * @throws as {@link chartHtml}; Error outside a tslab kernel when no `display` is given.
 * @example
 * showPlot(bw.accuracyVsFigure(rows, "examples"));
 */
export function showPlot(figure: Figure, opts: ShowPlotOptions = {}): void {
  const display = opts.display ?? tslabDisplay();
  const s = session();
  const index = s.charts + 1;
  const chart: ChartHtmlOptions = {
    id: `bw-chart-${s.prefix}-${index}`,
    index,
    includeBundle: !s.bundleShown,
    height: opts.height,
  };
  if (display.bundle != null) display.bundle(chartMimeBundle(figure, chart));
  else display.html(chartHtml(figure, chart));
  s.bundleShown = true;
  s.charts = index;
}

/**
 * Writes the plotly bundle into the current cell's output now (charts shown afterwards omit
 * it). Needed only when the page lost the output that carried it — e.g. the notebook was
 * reopened without saved outputs while the kernel kept running.
 *
 * @param opts.display where to write (default tslab's display).
 * @throws Error outside a tslab kernel when no `display` is given.
 * @example loadPlotly();
 */
export function loadPlotly(opts: { display?: NotebookDisplay } = {}): void {
  const display = opts.display ?? tslabDisplay();
  display.html(plotlyBundleScript());
  session().bundleShown = true;
}

/** A nodejs-polars DataFrame, as far as {@link tableHtml} uses it. */
export interface DataFrameLike {
  /** Column names, in order. */
  columns: string[];
  /** The rows as plain objects. */
  toRecords(): Record<string, unknown>[];
}

/** Options of {@link tableHtml} and {@link showTable}. */
export interface TableOptions {
  /** Caption above the table (plain text; escaped). */
  caption?: string;
  /** Significant digits of non-integer numbers (default 4), integer in [1, 17]. */
  digits?: number;
  /** Show at most this many rows, then a "… n more rows" line (default 100). */
  maxRows?: number;
  /** Per-column formatters (by column name); their output is escaped. */
  format?: Record<string, (value: unknown) => string>;
}

function isDataFrameLike(v: unknown): v is DataFrameLike {
  return (
    v !== null &&
    typeof v === "object" &&
    Array.isArray((v as DataFrameLike).columns) &&
    typeof (v as DataFrameLike).toRecords === "function"
  );
}

/**
 * Formats one table cell: null/undefined as "—", integers in full, other finite numbers to
 * `digits` significant digits (exponent notation below 1e-3 or from 1e6 in magnitude),
 * booleans and strings as they are, anything else as JSON.
 */
function formatValue(v: unknown, digits: number): string {
  if (v === null || v === undefined) return "—";
  if (typeof v === "number") {
    if (!Number.isFinite(v)) return String(v);
    if (Number.isInteger(v) && Math.abs(v) < 1e15) return String(v);
    const a = Math.abs(v);
    if (a !== 0 && (a < 1e-3 || a >= 1e6)) return v.toExponential(Math.max(0, digits - 1));
    return String(Number(v.toPrecision(digits)));
  }
  if (typeof v === "bigint" || typeof v === "boolean") return String(v);
  if (typeof v === "string") return v;
  return JSON.stringify(v) ?? String(v);
}

/**
 * An HTML table of a nodejs-polars DataFrame or of plain row objects (columns: the union of
 * the rows' keys in first-seen order). Numbers are right-aligned; every cell, header and the
 * caption are escaped.
 *
 * @param data a DataFrame (anything with `columns` and `toRecords()`) or an array of objects.
 * @param opts caption, significant digits, row limit, per-column formatters.
 * @returns `<table class="batchwise-table">…</table>` (with a `<style>` element).
 * @throws TypeError if `data` is neither; RangeError for bad `digits` or `maxRows`.
 * @example
 * tableHtml([{ B: 64, lr: 1e-3 }, { B: 1024, lr: 7e-3 }], { caption: "seed 003" });
 */
export function tableHtml(
  data: DataFrameLike | readonly Record<string, unknown>[],
  opts: TableOptions = {},
): string {
  const digits = opts.digits ?? 4;
  if (!Number.isInteger(digits) || digits < 1 || digits > 17) {
    throw new ConfigError(`digits: must be an integer in [1, 17], got ${digits}`);
  }
  const maxRows = opts.maxRows ?? 100;
  if (!Number.isInteger(maxRows) || maxRows < 0) {
    throw new ConfigError(`maxRows: must be an integer >= 0, got ${maxRows}`);
  }
  let columns: string[];
  let rows: Record<string, unknown>[];
  if (isDataFrameLike(data)) {
    columns = [...data.columns];
    rows = data.toRecords();
  } else if (Array.isArray(data)) {
    rows = data.map((r, i) => {
      if (r === null || typeof r !== "object") {
        throw new ConfigError(`data[${i}]: must be an object, got ${String(r)}`);
      }
      return r as Record<string, unknown>;
    });
    const seen = new Set<string>();
    for (const r of rows) for (const k of Object.keys(r)) seen.add(k);
    columns = [...seen];
  } else {
    throw new ConfigError("data: must be a DataFrame or an array of row objects");
  }
  const shown = rows.slice(0, maxRows);
  const cell = (col: string, v: unknown): string => {
    const f = opts.format?.[col];
    const text = f ? f(v) : formatValue(v, digits);
    const num = typeof v === "number" || typeof v === "bigint";
    return `<td${num ? ' class="num"' : ""}>${escapeHtml(text)}</td>`;
  };
  const body = shown.map((r) => `<tr>${columns.map((c) => cell(c, r[c])).join("")}</tr>`);
  if (rows.length > shown.length) {
    body.push(
      `<tr><td colspan="${Math.max(1, columns.length)}">… ${rows.length - shown.length} more rows</td></tr>`,
    );
  }
  return [
    "<style>table.batchwise-table{border-collapse:collapse;margin:.5rem 0;font-size:.9rem}" +
      "table.batchwise-table th,table.batchwise-table td{border:1px solid #ccc;padding:.2rem .5rem}" +
      "table.batchwise-table th{background:#f4f4f4}" +
      "table.batchwise-table td.num{text-align:right;font-variant-numeric:tabular-nums}</style>",
    '<table class="batchwise-table">',
    ...(opts.caption != null ? [`<caption>${escapeHtml(opts.caption)}</caption>`] : []),
    `<thead><tr>${columns.map((c) => `<th>${escapeHtml(c)}</th>`).join("")}</tr></thead>`,
    `<tbody>\n${body.join("\n")}\n</tbody>`,
    "</table>",
  ].join("\n");
}

/**
 * Shows a DataFrame or row objects as an HTML table (see {@link tableHtml}).
 *
 * @param data a nodejs-polars DataFrame or an array of plain objects.
 * @param opts table options, and `display` (default tslab's).
 * @throws as {@link tableHtml}; Error outside a tslab kernel when no `display` is given.
 * @example showTable(bw.summaryToDataFrame(bw.summariseRuns(rows, { targetAccuracy: 0.85 })));
 */
export function showTable(
  data: DataFrameLike | readonly Record<string, unknown>[],
  opts: TableOptions & { display?: NotebookDisplay } = {},
): void {
  const html = tableHtml(data, opts);
  (opts.display ?? tslabDisplay()).html(html);
}

/**
 * Shows Markdown (e.g. numbers computed in the notebook, in a sentence).
 *
 * @param markdown Markdown text (Jupyter renders it; math in `$…$` where MathJax is loaded).
 * @param opts.display where to write (default tslab's display).
 * @throws TypeError if `markdown` is not a string; Error outside a tslab kernel when no
 *   `display` is given.
 * @example showMarkdown(`B_crit ≈ **${fit.bCrit.toFixed(0)}** examples`);
 */
export function showMarkdown(markdown: string, opts: { display?: NotebookDisplay } = {}): void {
  if (typeof markdown !== "string") {
    throw new ConfigError(`markdown: must be a string, got ${String(markdown)}`);
  }
  (opts.display ?? tslabDisplay()).markdown(markdown);
}

/** How {@link checkClaim}'s output starts (the notebook checks list these outputs). */
export const CLAIM_CHECK_PREFIX = "**Claim check:";

/** A result that a notebook claims did not hold where the claim is enforced (full mode). */
export class ClaimError extends BatchwiseError {
  override name = "ClaimError";
}

/** Options of {@link checkClaim}. */
export interface ClaimOptions {
  /**
   * Throw a {@link ClaimError} when the claim does not hold. Notebooks pass `!QUICK`: full mode
   * enforces the claim, quick mode (subsets, a few seconds of training) only reports it.
   */
  enforce: boolean;
  /** Where to write (default tslab's display). */
  display?: NotebookDisplay;
}

/**
 * Checks, in code, a result a notebook's prose states ("within 2×", "fewer updates"): shows
 * `**Claim check: holds**` or `**Claim check: does not hold**`, the claim and the measurement,
 * and with `enforce` throws when it does not hold, so that the cell — and the notebook
 * check — fails instead of the prose going stale.
 *
 * @param claim the claim in words, e.g. "AdaDamp (dwell 10) needs within 2× GD's updates".
 * @param holds whether the measurement supports it (computed in the notebook; a comparison
 *   with NaN is false, so a missing measurement does not hold).
 * @param measured the measured numbers in words, e.g. "AdaDamp / GD updates = 1.31".
 * @param opts `enforce` (full mode), display.
 * Returns nothing, so a call as a cell's last expression prints nothing (tslab prints the value
 * of a last expression).
 * @throws ClaimError when `opts.enforce` and not `holds` (after showing the check);
 *   ConfigError for a non-string or empty `claim`, a non-string `measured`, a non-boolean
 *   `holds` or `opts.enforce`, and outside a tslab kernel when no `display` is given.
 * @example
 * bw.checkClaim("AdaDamp needs within 2× GD's model updates", r >= 0.5 && r <= 2,
 *   `AdaDamp / GD = ${r.toFixed(2)}`, { enforce: !QUICK });
 */
export function checkClaim(
  claim: string,
  holds: boolean,
  measured: string,
  opts: ClaimOptions,
): void {
  if (typeof claim !== "string" || claim.trim() === "") {
    throw new ConfigError(`claim: must be a non-empty string, got ${JSON.stringify(claim)}`);
  }
  if (typeof holds !== "boolean") {
    throw new ConfigError(`holds: must be a boolean, got ${String(holds)}`);
  }
  if (typeof measured !== "string") {
    throw new ConfigError(`measured: must be a string, got ${String(measured)}`);
  }
  if (opts === null || typeof opts !== "object" || typeof opts.enforce !== "boolean") {
    throw new ConfigError(`opts.enforce: must be a boolean, got ${String(opts?.enforce)}`);
  }
  const verdict = holds ? "holds" : "does not hold";
  const mode = opts.enforce
    ? ""
    : holds
      ? " _(reported in quick mode; full mode enforces it)_"
      : " _(quick mode: reported, not enforced; full mode fails here)_";
  showMarkdown(`${CLAIM_CHECK_PREFIX} ${verdict}** — ${claim}. Measured: ${measured}.${mode}`, {
    display: opts.display,
  });
  if (!holds && opts.enforce) {
    throw new ClaimError(`claim does not hold: ${claim} (measured: ${measured})`);
  }
}
