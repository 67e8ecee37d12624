/**
 * The notebook display helpers (lib/report/notebook.ts): the plotly bundle is inlined once per
 * session, later charts are small, every chart carries the marker the notebook check counts,
 * figure JSON cannot end the script, and tables are escaped HTML.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as pl from "nodejs-polars";
import {
  CHART_MARKER_CLASS,
  chartHtml,
  loadPlotly,
  resetNotebookSession,
  showMarkdown,
  showPlot,
  showTable,
  tableHtml,
  tslabDisplay,
  type NotebookDisplay,
} from "../../lib/report/notebook";
import { lineFigure } from "../../lib/report/figures";

const fig = (name = "run") =>
  lineFigure({
    title: "accuracy",
    xTitle: "x",
    yTitle: "y",
    series: [{ name, x: [1, 2, 3], y: [0.5, 0.7, 0.8] }],
  });

const countMarkers = (s: string) => s.split(`class="${CHART_MARKER_CLASS}"`).length - 1;

test("showPlot inlines the bundle into the first chart of a session only", () => {
  resetNotebookSession();
  const out: string[] = [];
  const display: NotebookDisplay = { html: (s) => void out.push(s), markdown: () => {} };
  showPlot(fig(), { display });
  showPlot(fig(), { display });
  showPlot(fig(), { display });
  assert.equal(out.length, 3);
  // The bundle (≈ 4.8 MB, defines window.Plotly) is in the first output only.
  assert.ok(out[0].length > 4_000_000, `first chart is ${out[0].length} bytes`);
  assert.ok(out[0].includes("window.Plotly = Plotly"));
  for (const later of out.slice(1)) {
    assert.ok(later.length < 2_000, `a later chart is ${later.length} bytes`);
    assert.ok(!later.includes("window.Plotly = Plotly"));
  }
  // One marker per chart, numbered 1, 2, 3; distinct element ids.
  out.forEach((s, i) => {
    assert.equal(countMarkers(s), 1);
    assert.ok(s.includes(`data-batchwise-chart="${i + 1}"`));
  });
  const ids = out.map((s) => /<div id="([^"]+)"/.exec(s)?.[1]);
  assert.equal(new Set(ids).size, 3);
  // A new session inlines it again and restarts the numbering.
  resetNotebookSession();
  showPlot(fig(), { display });
  assert.ok(out[3].length > 4_000_000);
  assert.ok(out[3].includes('data-batchwise-chart="1"'));
});

test("loadPlotly writes the bundle and later charts omit it", () => {
  resetNotebookSession();
  const out: string[] = [];
  const display: NotebookDisplay = { html: (s) => void out.push(s), markdown: () => {} };
  loadPlotly({ display });
  showPlot(fig(), { display });
  assert.ok(out[0].length > 4_000_000 && !out[0].includes(CHART_MARKER_CLASS));
  assert.ok(out[1].length < 2_000);
});

test("chartHtml: figure text cannot close the script; height and errors", () => {
  const html = chartHtml(fig("</script><script>alert(1)</script>"), {
    id: "c1",
    index: 7,
    includeBundle: false,
    height: 300,
  });
  // Exactly one closing tag: the draw script's own.
  assert.equal(html.split("</script>").length - 1, 1);
  assert.ok(html.includes("\\u003c/script\\u003e"));
  assert.ok(html.includes('style="width:100%;height:300px"'));
  assert.ok(html.includes('data-batchwise-chart="7"'));
  assert.throws(() => chartHtml(fig(), { id: "1bad id", index: 1, includeBundle: false }), /id/);
  assert.throws(() => chartHtml(fig(), { id: "a", index: 0, includeBundle: false }), /index/);
  assert.throws(
    () => chartHtml({ data: "x" } as never, { id: "a", index: 1, includeBundle: false }),
    /figure/,
  );
  // layout.height is the default height.
  const f = fig();
  const tall = { data: f.data, layout: { ...f.layout, height: 640 } };
  assert.ok(chartHtml(tall, { id: "a", index: 1, includeBundle: false }).includes("height:640px"));
});

test("tableHtml renders row objects: union of keys, formatting, escaping, row limit", () => {
  const html = tableHtml(
    [
      { run: "<b>B=64</b>", lr: 0.001, acc: 0.9876543, steps: 1200 },
      { run: "B=1024", lr: 0.007, acc: null, extra: true },
    ],
    { caption: "seed 003 & here", digits: 3 },
  );
  assert.ok(html.includes("<caption>seed 003 &amp; here</caption>"));
  assert.ok(html.includes("<th>run</th><th>lr</th><th>acc</th><th>steps</th><th>extra</th>"));
  assert.ok(html.includes("&lt;b&gt;B=64&lt;/b&gt;"));
  assert.ok(html.includes('<td class="num">0.988</td>'));
  assert.ok(html.includes('<td class="num">1200</td>'));
  assert.ok(html.includes('<td class="num">0.001</td>'));
  assert.ok(html.includes("<td>—</td>")); // null and missing cells
  assert.ok(html.includes("<td>true</td>"));
  const many = tableHtml(
    Array.from({ length: 7 }, (_, i) => ({ i })),
    { maxRows: 5 },
  );
  assert.equal(many.split("<tr>").length - 1, 1 + 5 + 1); // header, 5 rows, "more" line
  assert.ok(many.includes("… 2 more rows"));
  assert.ok(tableHtml([{ x: 1.5e-5, y: 2.5e7 }]).includes("1.500e-5"));
  assert.throws(() => tableHtml("nope" as never), /DataFrame/);
  assert.throws(() => tableHtml([], { digits: 0 }), /digits/);
});

test("tableHtml renders a polars DataFrame in column order, with formatters", () => {
  const df = pl.DataFrame([
    pl.Series("batch size", [64, 1024], pl.Int64),
    pl.Series("validation accuracy", [0.7068, 0.7151], pl.Float64),
  ]);
  const html = tableHtml(df, {
    format: { "validation accuracy": (v) => `${((v as number) * 100).toFixed(2)} %` },
  });
  assert.ok(html.includes("<th>batch size</th><th>validation accuracy</th>"));
  assert.ok(html.includes('<td class="num">1024</td><td class="num">71.51 %</td>'));
});

test("showTable and showMarkdown write to the display given", () => {
  const out: string[] = [];
  const md: string[] = [];
  const display: NotebookDisplay = {
    html: (s) => void out.push(s),
    markdown: (s) => void md.push(s),
  };
  showTable([{ a: 1 }], { display });
  showMarkdown("**B_crit** ≈ 400", { display });
  assert.equal(out.length, 1);
  assert.ok(out[0].includes("<table"));
  assert.deepEqual(md, ["**B_crit** ≈ 400"]);
  assert.throws(() => showMarkdown(3 as never, { display }), /markdown/);
});

test("outside a tslab kernel the default display explains itself", () => {
  const d = tslabDisplay();
  assert.throws(() => d.html("<p>x</p>"), /inside a tslab kernel cell/);
  assert.throws(() => showPlot(fig()), /inside a tslab kernel cell/);
});
