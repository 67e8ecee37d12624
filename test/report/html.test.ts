import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, test } from "node:test";
import * as vm from "node:vm";
import {
  accuracyVsFigure,
  batchSizeFigure,
  lineFigure,
  lossFigure,
  type Figure,
} from "../../lib/report/figures";
import {
  escapeHtml,
  plotlyBundlePath,
  renderHtmlReport,
  writeHtmlReport,
} from "../../lib/report/html";
import { summariseRuns } from "../../lib/report/summary";
import { ALL_ROWS } from "./fixtures";

const EVIL = "<script>alert(1)</script> & 'quotes' \"too\"";

function figures(): Figure[] {
  const evil = lineFigure({
    title: `evil ${EVIL}`,
    xTitle: "x</script>",
    yTitle: "y",
    series: [{ name: "</script><script>alert(2)</script>", x: [1, 2], y: [3, 4] }],
  });
  return [
    accuracyVsFigure(ALL_ROWS, "step"),
    batchSizeFigure(ALL_ROWS),
    lossFigure(ALL_ROWS),
    evil,
  ];
}

const count = (text: string, needle: string) => text.split(needle).length - 1;

/** The contents of each `<script>` element, in order. */
function scripts(html: string): string[] {
  return [...html.matchAll(/<script>\n([\s\S]*?)\n<\/script>/g)].map((m) => m[1]);
}

describe("renderHtmlReport", () => {
  const figs = figures();
  const html = renderHtmlReport({
    title: `Report ${EVIL}`,
    summaryTable: summariseRuns([...ALL_ROWS, { ...ALL_ROWS[0], run: "<b>bold</b>" }], {
      targetAccuracy: 0.6,
    }),
    figures: figs,
    notes: [`note ${EVIL}`, "second note"],
  });

  test("inlines the plotly bundle exactly once", () => {
    const bundle = fs.readFileSync(plotlyBundlePath(), "utf8");
    assert.ok(bundle.length > 1_000_000, "bundle looks like plotly.min.js");
    assert.equal(count(html, "window.Plotly = Plotly"), 1);
    assert.equal(count(html, bundle), 1);
    assert.ok(!/<(script|link)[^>]*\s(src|href)=/i.test(html), "no external resources");
  });

  test("one div and one newPlot call per figure", () => {
    assert.equal(count(html, '<div id="figure-'), figs.length);
    assert.equal(count(html, 'class="figure"'), figs.length);
    assert.equal(count(html, "Plotly.newPlot("), figs.length);
  });

  test("escapes text: exactly two script elements, no injected markup", () => {
    assert.equal(count(html.toLowerCase(), "<script"), 2);
    assert.equal(count(html.toLowerCase(), "</script"), 2);
    assert.ok(!html.includes("alert(1)</script>"));
    assert.ok(html.includes(`<title>Report ${escapeHtml(EVIL)}</title>`));
    assert.ok(
      html.includes("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#39;quotes&#39; &quot;too&quot;"),
    );
    assert.ok(html.includes(`<p class="note">note ${escapeHtml(EVIL)}</p>`));
    assert.ok(html.includes("<td>&lt;b&gt;bold&lt;/b&gt;</td>"));
    assert.ok(!html.includes("<b>bold"));
  });

  test("summary table has one row per run, null cells as a dash", () => {
    const table = html.slice(html.indexOf('<table class="summary">'), html.indexOf("</table>"));
    assert.equal(count(table, "<tr>"), 1 + 4); // header + constant, growing, "64", "<b>bold</b>"
    assert.match(table, /<th>test<br>accuracy<\/th>/);
    assert.match(table, /<tr><td>64<\/td><td class="num">—<\/td>/);
    assert.match(table, /<tr><td>constant<\/td><td class="num">0\.7500<\/td>/);
  });

  test("the figure script runs and passes each figure to Plotly.newPlot", () => {
    const [bundleSrc, init] = scripts(html);
    assert.ok(bundleSrc.length > 1_000_000);
    new vm.Script(bundleSrc); // the inlined bundle still parses
    const calls: unknown[][] = [];
    vm.runInNewContext(init, { Plotly: { newPlot: (...args: unknown[]) => calls.push(args) } });
    assert.equal(calls.length, figs.length);
    calls.forEach(([id, data, layout], i) => {
      assert.equal(id, `figure-${i + 1}`);
      assert.deepEqual(JSON.parse(JSON.stringify(data)), JSON.parse(JSON.stringify(figs[i].data)));
      assert.deepEqual(
        JSON.parse(JSON.stringify(layout)),
        JSON.parse(JSON.stringify(figs[i].layout)),
      );
    });
  });

  test("no figures: no divs or calls; figures are validated", () => {
    const empty = renderHtmlReport({ title: "empty", figures: [] });
    assert.equal(count(empty, "Plotly.newPlot("), 0);
    assert.equal(count(empty, '<div id="figure-'), 0);
    assert.ok(!empty.includes('<table class="summary">'));
    assert.throws(
      () => renderHtmlReport({ title: "t", figures: [{ layout: {} } as unknown as Figure] }),
      /figures\[0\]: must be a plotly figure/,
    );
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    assert.throws(
      () =>
        renderHtmlReport({
          title: "t",
          figures: [{ data: [], layout: cyclic as Figure["layout"] }],
        }),
      /figures\[0\]: is not JSON-serialisable/,
    );
    assert.throws(
      () => renderHtmlReport({ title: 3 as unknown as string, figures: [] }),
      /title: must be a string/,
    );
    assert.throws(
      () => renderHtmlReport({ title: "t", figures: [], notes: [1 as unknown as string] }),
      /notes\[0\]: must be a string/,
    );
  });
});

describe("writeHtmlReport", () => {
  test("writes the rendered report atomically", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "batchwise-html-"));
    try {
      const opts = { title: "t", figures: [batchSizeFigure(ALL_ROWS)] };
      const file = writeHtmlReport(path.join(dir, "sub", "report.html"), opts);
      assert.equal(file, path.join(dir, "sub", "report.html"));
      assert.equal(fs.readFileSync(file, "utf8"), renderHtmlReport(opts));
      assert.deepEqual(fs.readdirSync(path.join(dir, "sub")), ["report.html"]);
      assert.throws(() => writeHtmlReport("", opts), /file: must be a non-empty path/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

const CHROMIUM = "/usr/bin/chromium";
describe("rendering in headless Chromium", () => {
  test(
    "draws one plotly container per figure, offline",
    { skip: fs.existsSync(CHROMIUM) ? false : `${CHROMIUM} not found; skipping the browser check` },
    () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "batchwise-chromium-"));
      try {
        const figs = figures();
        const file = writeHtmlReport(path.join(dir, "report.html"), {
          title: `Report ${EVIL}`,
          summaryTable: summariseRuns(ALL_ROWS, { targetAccuracy: 0.6 }),
          figures: figs,
        });
        const dom = execFileSync(
          CHROMIUM,
          [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            `--user-data-dir=${path.join(dir, "profile")}`,
            "--virtual-time-budget=5000",
            "--dump-dom",
            file,
          ],
          { encoding: "utf8", maxBuffer: 256 * 1024 * 1024, timeout: 120_000 },
        );
        assert.equal(count(dom, 'class="plot-container plotly"'), figs.length);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});
