import { test } from "node:test";
import assert from "node:assert/strict";
import { applyChangeThreshold } from "../../lib/schedules/threshold";
import { capBatchSize, ceilBatch, MAX_BATCH } from "../../lib/schedules/cap";

test("applyChangeThreshold keeps B unless |proposed − current| > threshold·current", () => {
  assert.equal(applyChangeThreshold(100, 104), 100); // 4 % ≤ 5 %
  assert.equal(applyChangeThreshold(100, 105), 100); // exactly 5 %: not more
  assert.equal(applyChangeThreshold(100, 106), 106);
  assert.equal(applyChangeThreshold(100, 94), 94); // a 6 % drop moves too
  assert.equal(applyChangeThreshold(100, 96), 100);
  assert.equal(applyChangeThreshold(100, 120, 0.25), 100);
  assert.equal(applyChangeThreshold(100, 101, 0), 101); // 0: every change
  assert.equal(applyChangeThreshold(100, 100, 0), 100);
  assert.equal(applyChangeThreshold(0, 7), 7); // no current value yet
  assert.throws(
    () => applyChangeThreshold(100, 120, -0.1),
    /changeThreshold must be a finite number >= 0, got -0.1/,
  );
});

test("capBatchSize: B = min(B_k, B_max), lrFactor = B_max/B_k above the cap", () => {
  assert.deepEqual(capBatchSize(5000, 1000), { batchSize: 1000, lrFactor: 0.2 });
  assert.deepEqual(capBatchSize(800, 1000), { batchSize: 800, lrFactor: 1 });
  assert.deepEqual(capBatchSize(1000, 1000), { batchSize: 1000, lrFactor: 1 });
  assert.throws(() => capBatchSize(0, 10), /batchSize must be an integer >= 1, got 0/);
});

test("ceilBatch: ⌈x⌉ in [1, 2⁵³−1], tolerant of float noise", () => {
  assert.equal(ceilBatch(0.1 * 30), 3); // 3.0000000000000004
  assert.equal(ceilBatch(3.1), 4);
  assert.equal(ceilBatch(0), 1);
  assert.equal(ceilBatch(-5), 1);
  assert.equal(ceilBatch(NaN), 1);
  assert.equal(ceilBatch(Infinity), MAX_BATCH);
});
