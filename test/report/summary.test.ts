import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  SUMMARY_COLUMNS,
  formatSummaryTable,
  summariseRuns,
  summaryToDataFrame,
  type RunSummary,
} from "../../lib/report/summary";
import { ALL_ROWS, CONSTANT, GROWING, GROWING_NAME, NEVER } from "./fixtures";

// Hand-derived from the fixtures with target 0.6:
// - constant: evaluations at step 2 (acc 0.5, loss 1.6) and step 4 (acc 0.75, loss 1.1). Last
//   row: step 4, 8 examples, epoch 1, 2.0 s. First acc >= 0.6 is step 4 -> 2.0 s, 4, 8.
// - growing: evaluations at step 1 (acc 0.625, loss 1.9) and step 3 (acc 0.875, loss 0.9). Last
//   row: step 3, 10 examples, epoch 1.25, 2.6 s. First acc >= 0.6 is step 1 -> 0.4 s, 1, 2.
// - "64": never evaluated -> final metrics and target fields null. Last row: step 2, 2
//   examples, epoch 0.25, 0.2 s.
const EXPECTED_06: RunSummary[] = [
  {
    run: "constant",
    finalTestAccuracy: 0.75,
    finalTestLoss: 1.1,
    wallClock: 2.0,
    updates: 4,
    examples: 8,
    epochs: 1,
    targetAccuracy: 0.6,
    wallClockToTarget: 2.0,
    updatesToTarget: 4,
    examplesToTarget: 8,
    replicas: null,
  },
  {
    run: GROWING_NAME,
    finalTestAccuracy: 0.875,
    finalTestLoss: 0.9,
    wallClock: 2.6,
    updates: 3,
    examples: 10,
    epochs: 1.25,
    targetAccuracy: 0.6,
    wallClockToTarget: 0.4,
    updatesToTarget: 1,
    examplesToTarget: 2,
    replicas: null,
  },
  {
    run: "64",
    finalTestAccuracy: null,
    finalTestLoss: null,
    wallClock: 0.2,
    updates: 2,
    examples: 2,
    epochs: 0.25,
    targetAccuracy: 0.6,
    wallClockToTarget: null,
    updatesToTarget: null,
    examplesToTarget: null,
    replicas: null,
  },
];

describe("summariseRuns", () => {
  test("final metrics, cost, and cost to target (hand-derived)", () => {
    assert.deepEqual(summariseRuns(ALL_ROWS, { targetAccuracy: 0.6 }), EXPECTED_06);
  });

  test("row order does not matter; runs keep first-appearance order", () => {
    const shuffled = [
      NEVER[1],
      ...[...GROWING].reverse(),
      CONSTANT[2],
      NEVER[0],
      ...CONSTANT.filter((_, i) => i !== 2),
    ];
    const byRun = summariseRuns(shuffled, { targetAccuracy: 0.6 });
    assert.deepEqual(
      byRun.map((s) => s.run),
      ["64", GROWING_NAME, "constant"],
    );
    assert.deepEqual(byRun, [EXPECTED_06[2], EXPECTED_06[1], EXPECTED_06[0]]);
  });

  test("the target is reached at accuracy >= target, inclusive", () => {
    // constant reaches exactly 0.75 at step 4; growing first reaches >= 0.75 at step 3 (0.875).
    const [c, g] = summariseRuns(ALL_ROWS, { targetAccuracy: 0.75 });
    assert.deepEqual([c.updatesToTarget, c.examplesToTarget, c.wallClockToTarget], [4, 8, 2.0]);
    assert.deepEqual([g.updatesToTarget, g.examplesToTarget, g.wallClockToTarget], [3, 10, 2.6]);
  });

  test("never reaching the target gives nulls", () => {
    for (const s of summariseRuns(ALL_ROWS, { targetAccuracy: 0.9 })) {
      assert.deepEqual(
        [s.wallClockToTarget, s.updatesToTarget, s.examplesToTarget],
        [null, null, null],
      );
    }
  });

  test("rejects a bad target and duplicate steps", () => {
    assert.throws(
      () => summariseRuns(ALL_ROWS, { targetAccuracy: 1.5 }),
      /targetAccuracy: .*\[0, 1\], got 1\.5/,
    );
    assert.throws(() => summariseRuns(ALL_ROWS, { targetAccuracy: NaN }), /targetAccuracy/);
    assert.throws(
      () => summariseRuns([...CONSTANT, CONSTANT[0]], { targetAccuracy: 0.5 }),
      /logs step 1 twice/,
    );
  });

  test("empty log gives no summaries", () => {
    assert.deepEqual(summariseRuns([], { targetAccuracy: 0.5 }), []);
  });
});

test("summariseRuns reports the replicas K a run used, as one value or a range", () => {
  const row = (run: string, step: number, replicas?: number) => ({
    run,
    step,
    epoch: step / 10,
    examples: step,
    batchSize: 1,
    learningRate: 0.1,
    trainLoss: 1,
    testLoss: null,
    testAccuracy: null,
    wallClock: step,
    ...(replicas == null ? {} : { replicas }),
  });
  const s = summariseRuns(
    [row("a", 1, 2), row("a", 2, 2), row("b", 1, 1), row("b", 2, 2), row("c", 1)],
    {
      targetAccuracy: 0.5,
    },
  );
  assert.deepEqual(
    s.map((x) => x.replicas),
    ["2", "1–2", null],
  );
});

describe("summaryToDataFrame", () => {
  test("columns, types and values", () => {
    const df = summaryToDataFrame(EXPECTED_06);
    assert.deepEqual(df.columns, Object.values(SUMMARY_COLUMNS));
    assert.deepEqual(
      df.dtypes.map((d) => d.variant),
      [
        "String",
        "Float64",
        "Float64",
        "Float64",
        "Int64",
        "Int64",
        "Float64",
        "Float64",
        "Float64",
        "Int64",
        "Int64",
        "String",
      ],
    );
    assert.deepEqual(df.getColumn("model_updates_to_target").toArray(), [4, 1, null]);
    assert.deepEqual(df.getColumn("final_test_accuracy").toArray(), [0.75, 0.875, null]);
  });

  test("rejects malformed summaries, naming index and field", () => {
    const bad = [{ ...EXPECTED_06[0], updates: null }] as unknown as RunSummary[];
    assert.throws(
      () => summaryToDataFrame(bad),
      /summaries\[0\]\.updates: must be a number, got null/,
    );
  });
});

describe("formatSummaryTable", () => {
  test("a fixed-width table with every run, readable headers and null for not reached", () => {
    const text = formatSummaryTable(EXPECTED_06);
    const lines = text.split("\n");
    // Top border, two header lines, separator, 3 runs, bottom border.
    assert.equal(lines.length, 8, text);
    const widths = new Set(lines.map((l) => [...l].length));
    assert.equal(widths.size, 1, `lines differ in width:\n${text}`);
    assert.match(
      lines[1],
      /run .*test .*wall-clock .*model .*examples .*wall-clock \(s\) .*updates/,
    );
    assert.match(lines[2], /accuracy .*\(s\) .*updates .*processed .*to acc 0\.6 .*to acc 0\.6/);
    assert.ok(text.includes(GROWING_NAME));
    assert.match(lines[6], /64 .*null/); // "64" row: never evaluated
    assert.ok(!text.includes("shape:"), "shape line hidden");
  });

  test("rounds floats and draws ASCII on request", () => {
    const s = { ...EXPECTED_06[0], finalTestAccuracy: 0.123456789, wallClock: 12.3456 };
    const text = formatSummaryTable([s], { ascii: true });
    assert.ok(text.includes("0.1235"), text);
    assert.ok(text.includes("12.35"), text);
    assert.match(text, /^[\x20-\x7e\n]*$/, "ASCII only");
  });

  test("mixed targets add a target column", () => {
    const text = formatSummaryTable([EXPECTED_06[0], { ...EXPECTED_06[1], targetAccuracy: 0.8 }]);
    assert.ok(text.includes("target") && text.includes("to target"), text);
    assert.ok(!text.includes("to acc"), text);
  });

  test("restores the POLARS_FMT_* environment", () => {
    const before = process.env.POLARS_FMT_MAX_COLS;
    process.env.POLARS_FMT_MAX_COLS = "3";
    try {
      formatSummaryTable(EXPECTED_06);
      assert.equal(process.env.POLARS_FMT_MAX_COLS, "3");
      assert.equal(process.env.POLARS_FMT_TABLE_HIDE_COLUMN_DATA_TYPES, undefined);
    } finally {
      if (before === undefined) delete process.env.POLARS_FMT_MAX_COLS;
      else process.env.POLARS_FMT_MAX_COLS = before;
    }
  });
});
