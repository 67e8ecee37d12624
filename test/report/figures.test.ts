import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  RUN_COLORS,
  accuracyVsFigure,
  batchSizeFigure,
  lineFigure,
  lossFigure,
  type Figure,
} from "../../lib/report/figures";
import { ALL_ROWS, CONSTANT, GROWING, GROWING_NAME } from "./fixtures";

/** Plain JSON: survives a JSON round trip unchanged. */
function assertPlainJson(fig: unknown): void {
  assert.deepEqual(JSON.parse(JSON.stringify(fig)), fig);
}

describe("accuracyVsFigure", () => {
  test("one trace per evaluated run, through evaluated rows only", () => {
    const fig = accuracyVsFigure(ALL_ROWS, "step");
    // "64" was never evaluated: no trace.
    assert.deepEqual(
      fig.data.map((t) => t.name),
      ["constant", GROWING_NAME],
    );
    assert.deepEqual(fig.data[0].x, [2, 4]);
    assert.deepEqual(fig.data[0].y, [0.5, 0.75]);
    assert.deepEqual(fig.data[1].x, [1, 3]);
    assert.deepEqual(fig.data[1].y, [0.625, 0.875]);
    assert.equal(fig.layout.xaxis.title.text, "model updates");
    assert.equal(fig.layout.yaxis.title.text, "test accuracy");
    assertPlainJson(fig);
  });

  test("x field picks values and the axis title", () => {
    const byExamples = accuracyVsFigure(ALL_ROWS, "examples", { logX: true });
    assert.deepEqual(byExamples.data[1].x, [2, 10]);
    assert.equal(byExamples.layout.xaxis.title.text, "examples processed");
    assert.equal(byExamples.layout.xaxis.type, "log");
    const byTime = accuracyVsFigure(ALL_ROWS, "wallClock");
    assert.deepEqual(byTime.data[0].x, [1.0, 2.0]);
    assert.equal(byTime.layout.xaxis.title.text, "wall-clock (s)");
    assert.throws(
      () => accuracyVsFigure(ALL_ROWS, "epoch" as "step"),
      /x: must be one of wallClock, step, examples, got epoch/,
    );
  });

  test("rows in any order give points in step order", () => {
    const fig = accuracyVsFigure([...GROWING].reverse(), "step");
    assert.deepEqual(fig.data[0].x, [1, 3]);
  });
});

describe("batchSizeFigure", () => {
  test("one step-shaped trace per run over every row", () => {
    const fig = batchSizeFigure(ALL_ROWS);
    assert.equal(fig.data.length, 3);
    assert.deepEqual(
      fig.data.map((t) => t.x.length),
      [4, 3, 2],
    );
    assert.deepEqual(fig.data[1].y, [2, 4, 4]);
    assert.ok(fig.data.every((t) => t.line.shape === "vh"));
    assert.equal(fig.layout.yaxis.title.text, "batch size B");
    assert.equal(fig.layout.xaxis.title.text, "model updates");
    // Colours follow run order, the same as in the other figures.
    assert.deepEqual(
      fig.data.map((t) => t.line.color),
      RUN_COLORS.slice(0, 3),
    );
    assert.equal(accuracyVsFigure(ALL_ROWS, "step").data[1].line.color, RUN_COLORS[1]);
    assertPlainJson(fig);
  });
});

describe("lossFigure", () => {
  test("train trace per run plus test trace per evaluated run", () => {
    const fig = lossFigure(ALL_ROWS);
    assert.deepEqual(
      fig.data.map((t) => t.name),
      [
        "constant train",
        "constant test",
        `${GROWING_NAME} train`,
        `${GROWING_NAME} test`,
        "64 train",
      ],
    );
    assert.deepEqual(
      fig.data.map((t) => t.x.length),
      [4, 2, 3, 2, 2],
    );
    // NaN and Infinity losses become gaps (null) and the figure stays plain JSON.
    assert.deepEqual(fig.data[2].y, [2.1, null, 0.8]);
    assert.deepEqual(fig.data[4].y, [3.25, null]);
    assert.equal(fig.data[1].line.dash, "dash");
    assert.equal(fig.data[0].legendgroup, fig.data[1].legendgroup);
    assert.equal(fig.layout.yaxis.title.text, "loss");
    assertPlainJson(fig);
  });

  test("which and logY", () => {
    const train = lossFigure(CONSTANT, { which: "train", logY: true });
    assert.equal(train.data.length, 1);
    assert.equal(train.layout.yaxis.type, "log");
    assert.equal(train.layout.yaxis.title.text, "training loss");
    const testOnly = lossFigure(ALL_ROWS, { which: "test", x: "examples" });
    assert.equal(testOnly.data.length, 2);
    assert.deepEqual(testOnly.data[0].x, [4, 8]);
    assert.equal(testOnly.layout.yaxis.title.text, "test loss");
    assert.throws(
      () => lossFigure(ALL_ROWS, { which: "val" as "test" }),
      /which: must be one of train, test, both, got val/,
    );
  });
});

describe("lineFigure", () => {
  test("one trace per series, titles and log axes", () => {
    const fig = lineFigure({
      title: "E|G_B|² vs 1/B",
      xTitle: "1/B",
      yTitle: "E|G_B|²",
      series: [
        { name: "measured", x: [1, 0.5, 0.25], y: [3, 2, 1.5], mode: "markers" },
        { name: "fit", x: [0, 1], y: [1, 3], dash: "dot", color: "#000" },
      ],
      logX: true,
      logY: true,
    });
    assert.equal(fig.data.length, 2);
    assert.deepEqual(fig.data[0].y, [3, 2, 1.5]);
    assert.equal(fig.data[0].mode, "markers");
    assert.equal(fig.data[1].mode, "lines");
    assert.equal(fig.data[1].line.color, "#000");
    assert.equal(fig.layout.title.text, "E|G_B|² vs 1/B");
    assert.equal(fig.layout.xaxis.type, "log");
    assert.equal(fig.layout.yaxis.type, "log");
    assertPlainJson(fig);
    // A line figure is a plotly Figure (checked by the compiler).
    const asFigure: Figure = fig;
    assert.ok(asFigure.data.length === 2);
  });

  test("copies its inputs", () => {
    const x = [1, 2];
    const fig = lineFigure({
      title: "t",
      xTitle: "x",
      yTitle: "y",
      series: [{ name: "s", x, y: x }],
    });
    x[0] = 99;
    assert.deepEqual(fig.data[0].x, [1, 2]);
  });

  test("validates, naming the series and field", () => {
    const spec = (s: object) => ({ title: "t", xTitle: "x", yTitle: "y", series: [s] }) as never;
    assert.throws(
      () => lineFigure(spec({ name: "a", x: [1, 2], y: [1] })),
      /series\[0\]: x and y must have equal length, got 2 and 1/,
    );
    assert.throws(
      () => lineFigure(spec({ name: "a", x: [1, "2"], y: [1, 2] })),
      /series\[0\]\.x\[1\]: must be a number or null, got "2"/,
    );
    assert.throws(
      () => lineFigure(spec({ name: "a", x: [1], y: [1], shape: "spline" })),
      /series\[0\]\.shape: must be one of linear, hv, vh, got spline/,
    );
    assert.throws(
      () => lineFigure(spec({ x: [1], y: [1] })),
      /series\[0\]\.name: must be a string/,
    );
    assert.throws(
      () => lineFigure({ title: 1, xTitle: "x", yTitle: "y", series: [] } as never),
      /title: must be a string, got 1/,
    );
  });
});
