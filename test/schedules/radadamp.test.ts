import { test } from "node:test";
import assert from "node:assert/strict";
import { MAX_BATCH } from "../../lib/schedules/cap";
import { radaDampSchedule } from "../../lib/schedules/radadamp";
import { drive } from "./obs";

// Batch statistics (ℓ_{k−1} = |g_{k−1}|²) seen before update k; null before the first update.
const stats = [null, 4, 4, 4, 2, 1, 0, 8];
const make = (k: number) => ({ lastLoss: stats[k], lastGradSqNorm: stats[k] });

test("radadamp trajectory: warm-up mean, rolling averages, B = ⌊B_0 max(1, c/(φL̄ + Ḡ))⌋", () => {
  const s = radaDampSchedule({
    initialBatchSize: 10,
    wait: 3,
    dwell: 1,
    rho: 0.5,
    fudge: 1,
    changeThreshold: 0,
  });
  const { decisions } = drive(s, stats.length, make);
  // k = 0…3: warm-up at B_0 = 10; at k = 3 the batches of updates 0, 1, 2 give
  // L̄ = Ḡ = 4, c = 1·4 + 4 = 8.
  // k = 4: L̄ = Ḡ = 0.5·2 + 0.5·4 = 3, 8/6 → ⌊13.3⌋ = 13
  // k = 5: L̄ = Ḡ = 0.5·1 + 0.5·3 = 2, 8/4 = 2 → 20
  // k = 6: L̄ = Ḡ = 0.5·0 + 0.5·2 = 1, 8/2 = 4 → 40
  // k = 7: L̄ = Ḡ = 0.5·8 + 0.5·1 = 4.5, 8/9 < 1 → max(1, ·) → 10
  assert.deepEqual(
    decisions.map((d) => d.batchSize),
    [10, 10, 10, 10, 13, 20, 40, 10],
  );
  assert.equal(decisions[3].state.initialFactor, 8);
  assert.ok(decisions.every((d) => d.lrFactor === 1));
});

test("radadamp recomputes every dwell updates and caps with lrFactor B_max/B", () => {
  const s = radaDampSchedule({
    initialBatchSize: 10,
    wait: 3,
    dwell: 2,
    rho: 0.5,
    fudge: 1,
    changeThreshold: 0,
  });
  // The package's rule, k > wait and k mod dwell = 0: k = 4: L̄ = Ḡ = 0.5·2 + 0.5·4 = 3,
  // 8/6 → 13; k = 5: 5 mod 2 ≠ 0 → hold 13; k = 6: L̄ = Ḡ = 0.5·0 + 0.5·3 = 1.5, 8/3 → 26.
  const { decisions } = drive(s, 7, make);
  assert.deepEqual(
    decisions.map((d) => d.batchSize),
    [10, 10, 10, 10, 13, 13, 26],
  );
  const c = radaDampSchedule({
    initialBatchSize: 10,
    maxBatchSize: 15,
    wait: 3,
    rho: 0.5,
    fudge: 1,
    changeThreshold: 0,
  });
  const d5 = drive(c, 6, make).decisions[5]; // uncapped 20 → 15, lrFactor 15/20
  assert.deepEqual([d5.batchSize, d5.lrFactor, d5.state.batchSize], [15, 0.75, 20]);
});

test("radadamp at zero loss and gradient: finite positive batch (B_max), no division by zero", () => {
  const s = radaDampSchedule({ initialBatchSize: 10, wait: 1, rho: 0, changeThreshold: 0 });
  const zeros = [null, 1, 0];
  const { decisions } = drive(s, 3, (k) => ({ lastLoss: zeros[k], lastGradSqNorm: zeros[k] }));
  const d = decisions[2];
  assert.equal(d.state.batchSize, MAX_BATCH);
  assert.equal(d.batchSize, 1000); // default B_max = n
  assert.equal(d.lrFactor, 1000 / MAX_BATCH);
  assert.ok(d.lrFactor > 0);
});

test("radadamp validates its parameters, naming them and the value", () => {
  assert.throws(
    () => radaDampSchedule({ initialBatchSize: 8, rho: 1 }),
    /rho must be a finite number in \[0, 1\), got 1/,
  );
  assert.throws(
    () => radaDampSchedule({ initialBatchSize: 8, fudge: -1 }),
    /fudge must be a finite number >= 0, got -1/,
  );
  assert.throws(
    () => radaDampSchedule({ initialBatchSize: 8, wait: 0 }),
    /wait must be an integer >= 1, got 0/,
  );
  assert.throws(
    () => radaDampSchedule({ initialBatchSize: 8, maxBatchSize: 4 }),
    /maxBatchSize must be an integer >= 8, got 4/,
  );
});
