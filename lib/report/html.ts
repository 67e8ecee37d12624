/**
 * A single self-contained HTML report that renders offline: the plotly.js-dist-min bundle is
 * inlined once, each figure gets a `<div>` and a `Plotly.newPlot` call, and an optional summary
 * table and notes are written as escaped HTML. No network access is needed to view it.
 */
import * as fs from "fs";
import { atomicWrite } from "./atomic";
import type { Figure } from "./figures";
import { summaryDisplayColumns, type RunSummary } from "./summary";
import { ConfigError } from "../core/errors";

/** Arguments of {@link renderHtmlReport}. */
export interface HtmlReportOptions {
  /** Page title and heading (plain text; escaped). */
  title: string;
  /** Run summaries shown as a table above the figures (see `summariseRuns`). */
  summaryTable?: readonly RunSummary[];
  /** Plotly figures, drawn in order, one `<div>` each. */
  figures: readonly Figure[];
  /** Paragraphs of plain text shown under the title (escaped). */
  notes?: readonly string[];
}

/**
 * The path of the plotly.js-dist-min bundle that reports inline.
 *
 * @returns the absolute path of `plotly.min.js`.
 * @throws Error if the `plotly.js-dist-min` package is not installed.
 * @example
 * fs.statSync(plotlyBundlePath()).size; // ≈ 4.8 MB
 */
export function plotlyBundlePath(): string {
  try {
    return require.resolve("plotly.js-dist-min");
  } catch (e) {
    throw new ConfigError(
      `plotly.js-dist-min is not installed: ${(e as Error).message.split("\n")[0]}`,
    );
  }
}

/**
 * Escapes text for HTML element content and quoted attribute values (`& < > " '`).
 *
 * @param text plain text.
 * @returns the escaped text.
 * @throws TypeError if `text` is not a string.
 * @example
 * escapeHtml("<b>&</b>"); // "&lt;b&gt;&amp;&lt;/b&gt;"
 */
export function escapeHtml(text: string): string {
  if (typeof text !== "string")
    throw new ConfigError(`text: must be a string, got ${String(text)}`);
  const map: Record<string, string> = {
    "&": "&amp;",
    "<": "&lt;",
    ">": "&gt;",
    '"': "&quot;",
    "'": "&#39;",
  };
  return text.replace(/[&<>"']/g, (c) => map[c]);
}

/**
 * JSON for a `<script>` element: `<`, `>`, `&`, U+2028 and U+2029 are written as `\uXXXX`
 * escapes (they occur only inside JSON strings), so no string can close the script.
 */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/** The bundle's source, made safe to place inside `<script>…</script>`. */
function plotlyBundleForScript(): string {
  const file = plotlyBundlePath();
  // `<\/script` means the same inside a JS string, template or regex, and cannot end the element.
  const src = fs.readFileSync(file, "utf8").replace(/<\/(script)/gi, "<\\/$1");
  // "<!--" followed by "<script" would switch the HTML parser to its double-escaped state.
  if (src.includes("<!--") && /<script/i.test(src)) {
    throw new ConfigError(`${file}: holds "<!--" and "<script"; it cannot be inlined safely`);
  }
  return src;
}

function formatCell(v: string | number | null, digits: number | undefined): string {
  if (v === null) return "—";
  if (typeof v === "string") return v;
  return digits === undefined || !Number.isFinite(v) ? String(v) : v.toFixed(digits);
}

function summaryTableHtml(summaries: readonly RunSummary[]): string {
  const cols = summaryDisplayColumns(summaries);
  const head = cols.map((c) => `<th>${escapeHtml(c.header).replace(/\n/g, "<br>")}</th>`).join("");
  const body = summaries.map((s) => {
    const cells = cols.map((c) => {
      const v = s[c.field];
      const cls = c.field === "run" ? "" : ' class="num"';
      return `<td${cls}>${escapeHtml(formatCell(v, c.digits))}</td>`;
    });
    return `<tr>${cells.join("")}</tr>`;
  });
  return [
    '<table class="summary">',
    `<thead><tr>${head}</tr></thead>`,
    `<tbody>\n${body.join("\n")}\n</tbody>`,
    "</table>",
  ].join("\n");
}

const STYLE = `body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:1100px;padding:0 1rem;color:#222}
h1{font-size:1.5rem}
p.note{color:#444}
table.summary{border-collapse:collapse;margin:1rem 0;font-size:.9rem}
table.summary th,table.summary td{border:1px solid #ccc;padding:.25rem .5rem}
table.summary th{background:#f4f4f4}
td.num{text-align:right;font-variant-numeric:tabular-nums}
div.figure{height:480px;margin:1.5rem 0}`;

/**
 * Renders a self-contained HTML report: title, notes, summary table, then one plotly figure per
 * entry of `figures`. The plotly.js-dist-min bundle ({@link plotlyBundlePath}, ≈ 4.8 MB) is
 * inlined once, so the file renders offline; figure JSON is embedded with `<`, `>` and `&`
 * escaped, and all text (title, notes, run names) is HTML-escaped. Output depends only on the
 * arguments and the installed bundle (no timestamps).
 *
 * @param opts.title page title (plain text).
 * @param opts.summaryTable optional run summaries, shown as a table (null cells as "—").
 * @param opts.figures plotly figures `{ data, layout }` (plain JSON); may be empty.
 * @param opts.notes optional paragraphs of plain text.
 * @returns the HTML document as a string.
 * @throws TypeError if `title` is not a string, `summaryTable` is not an array of summaries,
 *   `figures` is not an array of `{ data: [],
 *   layout: {} }` objects (naming the index), a figure is not JSON-serialisable, or a note is
 *   not a string; Error if the plotly bundle is missing.
 * @example
 * const html = renderHtmlReport({
 *   title: "GeoDamp vs constant B",
 *   summaryTable: summariseRuns(rows, { targetAccuracy: 0.9 }),
 *   figures: [accuracyVsFigure(rows, "step"), batchSizeFigure(rows)],
 * });
 */
export function renderHtmlReport(opts: HtmlReportOptions): string {
  if (opts === null || typeof opts !== "object") {
    throw new ConfigError(`opts: must be an object, got ${String(opts)}`);
  }
  const { title, summaryTable, figures, notes = [] } = opts;
  if (typeof title !== "string")
    throw new ConfigError(`title: must be a string, got ${String(title)}`);
  if (!Array.isArray(figures)) {
    throw new ConfigError(`figures: must be an array, got ${String(figures)}`);
  }
  if (summaryTable !== undefined && !Array.isArray(summaryTable)) {
    throw new ConfigError(
      `summaryTable: must be an array of run summaries, got ${String(summaryTable)}`,
    );
  }
  if (!Array.isArray(notes)) throw new ConfigError(`notes: must be an array, got ${String(notes)}`);
  const noteHtml = notes.map((n, i) => {
    if (typeof n !== "string") {
      throw new ConfigError(`notes[${i}]: must be a string, got ${String(n)}`);
    }
    return `<p class="note">${escapeHtml(n)}</p>`;
  });
  const calls = figures.map((f: Figure, i) => {
    if (f === null || typeof f !== "object" || !Array.isArray(f.data)) {
      throw new ConfigError(`figures[${i}]: must be a plotly figure { data: [...], layout }`);
    }
    if (f.layout !== undefined && (f.layout === null || typeof f.layout !== "object")) {
      throw new ConfigError(`figures[${i}].layout: must be an object, got ${String(f.layout)}`);
    }
    let data: string, layout: string;
    try {
      data = scriptJson(f.data);
      layout = scriptJson(f.layout ?? {});
    } catch (e) {
      throw new ConfigError(`figures[${i}]: is not JSON-serialisable: ${(e as Error).message}`);
    }
    return `Plotly.newPlot(${scriptJson(`figure-${i + 1}`)}, ${data}, ${layout}, {"responsive":true,"displaylogo":false});`;
  });
  const divs = figures.map((_, i) => `<div id="figure-${i + 1}" class="figure"></div>`);
  return [
    "<!DOCTYPE html>",
    '<html lang="en">',
    "<head>",
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(title)}</title>`,
    `<style>\n${STYLE}\n</style>`,
    "</head>",
    "<body>",
    `<h1>${escapeHtml(title)}</h1>`,
    ...noteHtml,
    ...(summaryTable === undefined ? [] : [summaryTableHtml(summaryTable)]),
    ...divs,
    `<script>\n${plotlyBundleForScript()}\n</script>`,
    `<script>\n${calls.join("\n")}\n</script>`,
    "</body>",
    "</html>",
    "",
  ].join("\n");
}

/**
 * Renders a report with {@link renderHtmlReport} and writes it atomically (temporary file in the
 * same folder, then rename), creating the parent folder.
 *
 * @param file destination path, e.g. `runs/report.html`.
 * @param opts as for {@link renderHtmlReport}.
 * @returns the absolute path written.
 * @throws TypeError if `file` is not a non-empty string; the errors of {@link renderHtmlReport};
 *   file-system errors.
 * @example
 * writeHtmlReport("runs/fashion/report.html", { title: "Fashion-MNIST", figures: [fig] });
 */
export function writeHtmlReport(file: string, opts: HtmlReportOptions): string {
  if (typeof file !== "string" || file.length === 0) {
    throw new ConfigError(`file: must be a non-empty path, got ${JSON.stringify(file)}`);
  }
  const html = renderHtmlReport(opts);
  return atomicWrite(file, (tmp) => fs.writeFileSync(tmp, html, "utf8"));
}
