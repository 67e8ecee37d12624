import { test } from "node:test";
import assert from "node:assert/strict";
import { constantSchedule } from "../../lib/schedules/constant";
import { geoDampSchedule } from "../../lib/schedules/geodamp";
import { BatchSchedule, Observation } from "../../lib/schedules/types";

const obs = (epoch: number, step = 0): Observation => ({
  step,
  epoch,
  examples: epoch * 1000,
  datasetSize: 1000,
  lastLoss: null,
  lastGradSqNorm: null,
  trainLoss: null,
  noise: null,
});

function trajectory<S>(s: BatchSchedule<S>, epochs: number[]): number[] {
  let st = s.init();
  return epochs.map((e, i) => {
    const d = s.update(st, obs(e, i));
    st = d.state;
    return d.batchSize;
  });
}

test("constant schedule returns B with lrFactor 1", () => {
  const s = constantSchedule({ batchSize: 128 });
  assert.deepEqual(trajectory(s, [0, 0.5, 7]), [128, 128, 128]);
  assert.equal(s.update(s.init(), obs(3)).lrFactor, 1);
  assert.throws(
    () => constantSchedule({ batchSize: 0 }),
    /batchSize must be an integer >= 1, got 0/,
  );
});

test("geodamp: B = B0·factor^⌊epoch/delay⌋, capped at B_max", () => {
  // B0 = 64, factor 2, delay 1: epochs 0, 0.99 → 64; 1.0 → 128; 2.5 → 256; 3 → 512 → cap 300.
  const s = geoDampSchedule({ initialBatchSize: 64, factor: 2, delay: 1, maxBatchSize: 300 });
  assert.deepEqual(trajectory(s, [0, 0.99, 1.0, 2.5, 3]), [64, 64, 128, 256, 300]);
  // factor 1.5, delay 2: ⌈10·1.5^0⌉=10, ⌈10·1.5⌉=15, ⌈10·2.25⌉=23 (22.5 rounds up)
  const t = geoDampSchedule({ initialBatchSize: 10, factor: 1.5, delay: 2 });
  assert.deepEqual(trajectory(t, [1.9, 2, 4.1]), [10, 15, 23]);
  // 180000/60000 in floating point must count as 3 full epochs.
  assert.equal(s.update(s.init(), obs(179999.99999999997 / 60000)).batchSize, 300);
});

test("geodamp validates its parameters, naming them", () => {
  assert.throws(
    () => geoDampSchedule({ initialBatchSize: 0, delay: 1 }),
    /initialBatchSize must be an integer >= 1, got 0/,
  );
  assert.throws(
    () => geoDampSchedule({ initialBatchSize: 8, delay: 1, factor: 1 }),
    /factor must be a finite number > 1, got 1/,
  );
  assert.throws(
    () => geoDampSchedule({ initialBatchSize: 8, delay: 0 }),
    /delay must be a finite number > 0, got 0/,
  );
  assert.throws(
    () => geoDampSchedule({ initialBatchSize: 8, delay: 1, maxBatchSize: 4 }),
    /maxBatchSize must be an integer >= 8, got 4/,
  );
});

test("schedule state survives a JSON round trip", () => {
  const s = geoDampSchedule({ initialBatchSize: 32, delay: 0.5 });
  const st = s.update(s.init(), obs(0.7)).state;
  const restored = JSON.parse(JSON.stringify(st));
  assert.deepEqual(s.update(restored, obs(1.2)), s.update(st, obs(1.2)));
});
