/**
 * B_simple against the measured critical batch size (lib/report/critical-batch.ts): each
 * reading beside the last row at or before it, the ratio, the figure's series and title, and
 * errors naming the reading.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  compareNoiseToCriticalBatch,
  noiseAgainstCriticalBatchFigure,
} from "../../lib/report/critical-batch";
import type { RunLogRow } from "../../lib/train/types";

const row = (
  step: number,
  examples: number,
  batchSize: number,
  bSimple: number | null,
): RunLogRow => ({
  run: "warmup",
  step,
  epoch: examples / 1000,
  examples,
  batchSize,
  learningRate: 1e-3,
  trainLoss: 1,
  testLoss: null,
  testAccuracy: null,
  wallClock: step,
  bSimple,
});
const rows = [
  row(3, 300, 100, 40),
  row(1, 100, 100, null),
  row(2, 200, 100, 20),
  row(4, 500, 200, 80),
];

test("each reading sits beside the last update at or before it; ratio = B_simple / CBS", () => {
  const c = compareNoiseToCriticalBatch(rows, [
    { examples: 50, criticalBatchSize: 10 },
    { examples: 250, criticalBatchSize: 10 },
    { examples: 300, criticalBatchSize: 16 },
    { examples: 9999, criticalBatchSize: 320 },
  ]);
  assert.deepEqual(
    c.map((x) => [x.bSimple, x.batchSize, x.ratio]),
    [
      [null, 100, null], // before any update: the first row, no estimate yet
      [20, 100, 2],
      [40, 100, 2.5],
      [80, 200, 0.25],
    ],
  );
});

test("the figure: B_simple and B by examples, the readings as markers, the median ratio in the title", () => {
  const fig = noiseAgainstCriticalBatchFigure(rows, [
    { examples: 200, criticalBatchSize: 10 },
    { examples: 300, criticalBatchSize: 10 },
    { examples: 500, criticalBatchSize: 80 },
  ]);
  const [bs, chosen, cbs] = fig.data;
  assert.deepEqual(bs.x, [100, 200, 300, 500]);
  assert.deepEqual(bs.y, [null, 20, 40, 80]);
  assert.deepEqual(chosen.y, [100, 100, 100, 200]);
  assert.deepEqual(cbs.y, [10, 10, 80]);
  assert.equal(cbs.mode, "markers");
  // ratios 2, 4, 1: median 2
  assert.match(JSON.stringify(fig.layout), /median 2\.00/);
});

test("errors name the reading and value; one run only", () => {
  assert.throws(() => compareNoiseToCriticalBatch([], []), /rows: no run-log rows/);
  assert.throws(
    () => compareNoiseToCriticalBatch(rows, [{ examples: 10, criticalBatchSize: 0 }]),
    /readings\[0\].criticalBatchSize must be >= 1, got 0/,
  );
  assert.throws(
    () => compareNoiseToCriticalBatch([...rows, { ...rows[0], run: "other" }], []),
    /one run expected, got warmup, other/,
  );
});
