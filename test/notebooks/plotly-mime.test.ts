/**
 * showPlot's MIME bundle (lib/report/notebook.ts): plotly's MIME type for JupyterLab, the
 * offline HTML for the classic notebook and nbconvert, a line of text — in one output, sent
 * through tslab's own display-data function; and checkClaim, which reports a notebook's claim
 * and enforces it in full mode.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  CHART_MARKER_CLASS,
  CLAIM_CHECK_PREFIX,
  ClaimError,
  chartMimeBundle,
  checkClaim,
  PLOTLY_MIME_TYPE,
  resetNotebookSession,
  showPlot,
  tslabDisplay,
  type MimeBundle,
  type NotebookDisplay,
} from "../../lib/report/notebook";
import { lineFigure } from "../../lib/report/figures";
import { BatchwiseError } from "../../lib/core/errors";
import * as nbLib from "../../scripts/notebooks-lib";

const fig = (title = "accuracy") =>
  lineFigure({
    title,
    xTitle: "x",
    yTitle: "y",
    series: [{ name: "run", x: [1, 2, 3], y: [0.5, NaN, 0.8] }],
  });

type PlotlyJson = {
  data: { x: unknown[]; y: unknown[] }[];
  layout: { height: number; title: { text: string } };
  config: Record<string, unknown>;
};

test("chartMimeBundle: plotly JSON with a height, the offline HTML, a line of text", () => {
  const b = chartMimeBundle(fig("loss </script>"), { id: "c1", index: 3, includeBundle: false });
  assert.deepEqual(Object.keys(b).sort(), [PLOTLY_MIME_TYPE, "text/html", "text/plain"].sort());
  const p = b[PLOTLY_MIME_TYPE] as PlotlyJson;
  assert.equal(p.layout.height, 420); // JupyterLab's renderer needs a layout height
  assert.equal(p.layout.title.text, "loss </script>"); // JSON, not HTML: nothing to escape
  assert.deepEqual(p.data[0].y, [0.5, null, 0.8]); // plain JSON (gaps are null)
  // Not plotly's `responsive`: in JupyterLab it collapsed the charts to 0 px on a resize.
  assert.deepEqual(p.config, { displaylogo: false });
  assert.equal(JSON.stringify(JSON.parse(JSON.stringify(p))), JSON.stringify(p));
  const html = b["text/html"] as string;
  assert.ok(html.includes(`class="${CHART_MARKER_CLASS}" data-batchwise-chart="3"`));
  assert.ok(html.includes("\\u003c/script\\u003e"));
  assert.equal(b["text/plain"], "plotly chart 3: loss </script>");
  // The height option, else layout.height, sets both representations' height.
  const tall = { data: fig().data, layout: { ...fig().layout, height: 640 } };
  const t = chartMimeBundle(tall, { id: "c2", index: 1, includeBundle: false });
  assert.equal((t[PLOTLY_MIME_TYPE] as PlotlyJson).layout.height, 640);
  const o = chartMimeBundle(tall, { id: "c3", index: 1, includeBundle: false, height: 300 });
  assert.equal((o[PLOTLY_MIME_TYPE] as PlotlyJson).layout.height, 300);
  assert.ok((o["text/html"] as string).includes("height:300px"));
  // The figure object itself is not changed.
  assert.equal((tall.layout as { height: number }).height, 640);
  assert.throws(
    () => chartMimeBundle({ data: "x" } as never, { id: "a", index: 1, includeBundle: false }),
    /figure/,
  );
});

test("showPlot sends one bundle per chart; the first carries plotly.js in its HTML", () => {
  resetNotebookSession();
  const bundles: MimeBundle[] = [];
  const html: string[] = [];
  const display: NotebookDisplay = {
    html: (s) => void html.push(s),
    markdown: () => {},
    bundle: (b) => void bundles.push(b),
  };
  showPlot(fig(), { display });
  showPlot(fig("second"), { display });
  assert.equal(html.length, 0);
  assert.equal(bundles.length, 2);
  assert.ok((bundles[0]["text/html"] as string).length > 4_000_000);
  assert.ok((bundles[1]["text/html"] as string).length < 2_000);
  assert.equal(bundles[1]["text/plain"], "plotly chart 2: second");
  for (const b of bundles) assert.ok(b[PLOTLY_MIME_TYPE] != null);
});

test("tslabDisplay().bundle sends one display_data through tslab's own function", () => {
  // The pinned tslab (1.0.22) keeps the function its display.raw sends through here.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const jupyter = require("tslab/dist/jupyter") as { lastWriteDisplayData: unknown };
  assert.ok("lastWriteDisplayData" in jupyter);
  const sent: unknown[] = [];
  const saved = jupyter.lastWriteDisplayData;
  jupyter.lastWriteDisplayData = (content: unknown, update: unknown) =>
    void sent.push({ content, update });
  try {
    resetNotebookSession();
    showPlot(fig()); // the default display: tslab's
    assert.equal(sent.length, 1);
    const { content, update } = sent[0] as {
      content: { data: MimeBundle; metadata: unknown; transient: unknown };
      update: unknown;
    };
    assert.equal(update, undefined); // a new output, not an update of an earlier one
    assert.deepEqual(
      Object.keys(content.data).sort(),
      [PLOTLY_MIME_TYPE, "text/html", "text/plain"].sort(),
    );
    assert.deepEqual(content.metadata, {});
    // tslab's public display sends the same shape (one type): the bundle's path is its own.
    tslabDisplay().markdown("*x*");
    const md = (sent[1] as { content: { data: MimeBundle } }).content.data;
    assert.deepEqual(md, { "text/markdown": "*x*" });
  } finally {
    jupyter.lastWriteDisplayData = saved;
  }
  // Outside a running cell tslab's function is null: the same message as tslab's display.
  assert.throws(
    () => tslabDisplay().bundle?.({ "text/plain": "x" }),
    /works only inside a tslab kernel cell/,
  );
});

test("checkClaim reports in quick mode and fails in full mode", () => {
  const md: string[] = [];
  const display: NotebookDisplay = { html: () => {}, markdown: (s) => void md.push(s) };
  // Returns nothing (a cell's last expression would print its value).
  assert.equal(
    checkClaim("A within 2× of B", true, "A / B = 1.31", { enforce: true, display }),
    undefined,
  );
  checkClaim("A within 2× of B", false, "A / B = 2.25", { enforce: false, display });
  assert.throws(
    () => checkClaim("A within 2× of B", false, "A / B = 2.25", { enforce: true, display }),
    (e: unknown) =>
      e instanceof ClaimError &&
      e instanceof BatchwiseError &&
      e.name === "ClaimError" &&
      e.message === "claim does not hold: A within 2× of B (measured: A / B = 2.25)",
  );
  assert.equal(md.length, 3); // the failing check is shown before it throws
  assert.equal(md[0], `${CLAIM_CHECK_PREFIX} holds** — A within 2× of B. Measured: A / B = 1.31.`);
  assert.ok(md[1].startsWith(`${CLAIM_CHECK_PREFIX} does not hold** — A within 2× of B.`));
  assert.match(md[1], /quick mode: reported, not enforced/);
  assert.ok(md[2].startsWith(`${CLAIM_CHECK_PREFIX} does not hold**`));
  // NaN measurements make comparisons false: a missing number does not pass.
  const x = Number("not measured");
  checkClaim("x > 1", x > 1, `x = ${x}`, { enforce: false, display });
  assert.ok(md[3].startsWith(`${CLAIM_CHECK_PREFIX} does not hold** — x > 1.`));
  assert.throws(() => checkClaim("", true, "m", { enforce: true, display }), /claim: must be/);
  assert.throws(
    () => checkClaim("c", 1 as never, "m", { enforce: true, display }),
    /holds: must be a boolean/,
  );
  assert.throws(
    () => checkClaim("c", true, 3 as never, { enforce: true, display }),
    /measured: must be a string/,
  );
  assert.throws(() => checkClaim("c", true, "m", {} as never), /opts.enforce: must be a boolean/);
});

test("the notebook scripts' copies of lib's constants agree with lib", () => {
  assert.equal(nbLib.PLOTLY_MIME_TYPE, PLOTLY_MIME_TYPE);
  assert.equal(nbLib.CLAIM_CHECK_PREFIX, CLAIM_CHECK_PREFIX);
  assert.equal(nbLib.CHART_MARKER, `class="${CHART_MARKER_CLASS}"`);
});
