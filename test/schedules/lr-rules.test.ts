import { test } from "node:test";
import assert from "node:assert/strict";
import { adaDampSchedule } from "../../lib/schedules/adadamp";
import { constantSchedule } from "../../lib/schedules/constant";
import { geoDampSchedule } from "../../lib/schedules/geodamp";
import {
  adaScaleGain,
  adaScaleRule,
  linearRule,
  linearScaling,
  linearWarmup,
  noLrRule,
  powerRule,
  powerScaling,
  sqrtRule,
  sqrtScaling,
  withLrScaling,
} from "../../lib/schedules/lr-rules";
import { drive, obs } from "./obs";

const close = (a: number, b: number, tol = 1e-12) =>
  assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${a} ≉ ${b}`);

test("closed forms: linear B/B_0, sqrt √(B/B_0), power (B/B_0)^α", () => {
  assert.equal(linearScaling(512, 128), 4);
  assert.equal(linearScaling(64, 128), 0.5);
  assert.equal(sqrtScaling(512, 128), 2);
  close(powerScaling(512, 128, 0.75), 2 * Math.SQRT2); // 4^0.75 = 2√2
  assert.equal(powerScaling(512, 128, 0), 1);
  assert.equal(powerScaling(512, 128, 1), 4);
  assert.throws(
    () => powerScaling(512, 128, 1.5),
    /alpha must be a finite number in \[0, 1\], got 1.5/,
  );
  assert.throws(() => linearScaling(0, 128), /batchSize must be a finite number > 0, got 0/);
  assert.throws(
    () => powerRule({ alpha: -0.1 }),
    /alpha must be a finite number in \[0, 1\], got -0.1/,
  );
});

test("AdaScale gain r = (trΣ/B_0 + |G|²)/(trΣ/B + |G|²), 1 without an estimate", () => {
  const noise = (g: number, t: number) => ({ gradSqNorm: g, traceSigma: t });
  // (1280/128 + 1)/(1280/512 + 1) = 11/3.5
  close(adaScaleGain(512, 128, noise(1, 1280)), 11 / 3.5);
  assert.equal(adaScaleGain(512, 128, null), 1);
  assert.equal(adaScaleGain(512, 128, noise(2, 0)), 1); // exact gradient: no gain
  assert.equal(adaScaleGain(512, 128, noise(0, 5)), 4); // pure noise: r = S = 4
  assert.equal(adaScaleGain(512, 128, noise(1, -3)), 1); // negative estimate clamped to 0
  assert.equal(adaScaleGain(512, 128, noise(0, 0)), 1);
  // B < B_0: r in [S, 1]: (10 + 1)/(20 + 1)
  close(adaScaleGain(64, 128, noise(1, 1280)), 11 / 21);
});

test("linear warm-up: 1 + (target − 1)·min(1, t/T)", () => {
  assert.equal(linearWarmup(8, 0, 100), 1);
  assert.equal(linearWarmup(8, 50, 100), 4.5);
  assert.equal(linearWarmup(8, 100, 100), 8);
  assert.equal(linearWarmup(8, 250, 100), 8);
  assert.equal(linearWarmup(8, 3, 0), 8);
  assert.throws(() => linearWarmup(8, 3, 1.5), /warmupSteps must be an integer >= 0, got 1.5/);
});

test("withLrScaling: linear rule with warm-up at a fixed B", () => {
  const s = withLrScaling(constantSchedule({ batchSize: 256 }), linearRule(), {
    baseBatchSize: 64,
    warmupSteps: 4,
  });
  // target 256/64 = 4: steps 0…5 → 1, 1.75, 2.5, 3.25, 4, 4
  assert.deepEqual(
    drive(s, 6, () => ({})).decisions.map((d) => d.lrFactor),
    [1, 1.75, 2.5, 3.25, 4, 4],
  );
  assert.equal(s.name, "constant+linear");
  assert.equal(s.wantsTrainLoss, undefined);
});

test("withLrScaling infers B_0 from the first decision and follows B (sqrt, linear, power)", () => {
  const make = (k: number) => ({ epoch: [0, 0.5, 1, 2][k] });
  const geo = () => geoDampSchedule({ initialBatchSize: 64, delay: 1 });
  // B = 64, 64, 128, 256 → linear 1, 1, 2, 4; sqrt 1, 1, √2, 2; power ½ = sqrt
  const lin = drive(withLrScaling(geo(), linearRule()), 4, make).decisions;
  assert.deepEqual(
    lin.map((d) => d.lrFactor),
    [1, 1, 2, 4],
  );
  assert.equal(lin[3].state.baseBatchSize, 64);
  const sq = drive(withLrScaling(geo(), sqrtRule()), 4, make).decisions.map((d) => d.lrFactor);
  const pw = drive(withLrScaling(geo(), powerRule({ alpha: 0.5 })), 4, make).decisions;
  assert.deepEqual(sq, [1, 1, Math.SQRT2, 2]);
  assert.deepEqual(
    pw.map((d) => d.lrFactor),
    sq,
  );
  const none = drive(withLrScaling(geo(), noLrRule()), 4, make).decisions;
  assert.ok(none.every((d) => d.lrFactor === 1));
});

test("withLrScaling keeps the inner factor (AdaDamp's B_max cap) and forwards wantsTrainLoss", () => {
  const ada = adaDampSchedule({ initialBatchSize: 10, maxBatchSize: 1000, changeThreshold: 0 });
  const s = withLrScaling(ada, linearRule(), { baseBatchSize: 10 });
  assert.ok(s.wantsTrainLoss?.(s.init(), 0));
  const { decisions } = drive(
    s,
    2,
    () => ({}),
    (k) => [2, 0.01][k],
  );
  // k=1: B_k = 2000 → B = 1000, inner lrFactor 0.5; linear 1000/10 = 100 → 50
  assert.deepEqual([decisions[1].batchSize, decisions[1].lrFactor], [1000, 50]);
});

test("withLrScaling with AdaScale reads obs.noise", () => {
  const s = withLrScaling(constantSchedule({ batchSize: 512 }), adaScaleRule(), {
    baseBatchSize: 128,
  });
  const st = s.init();
  assert.equal(s.update(st, obs()).lrFactor, 1);
  const d = s.update(st, obs({ noise: { gradSqNorm: 1, traceSigma: 1280, bSimple: 1280 } }));
  close(d.lrFactor, 11 / 3.5);
  assert.throws(
    () => withLrScaling(constantSchedule({ batchSize: 8 }), linearRule(), { baseBatchSize: 0 }),
    /baseBatchSize must be an integer >= 1, got 0/,
  );
});
