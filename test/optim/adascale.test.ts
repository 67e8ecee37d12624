import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { useTrainingBackend } from "../helpers/backends";
import {
  AdaScale,
  adaScaleGainRatio,
  adaScaleStatistics,
  Adam,
  OptimizerConfigError,
} from "../../lib/optim";

let unique = 0;
const vars = (values: number[]) =>
  tf.variable(tf.tensor1d(values), true, `adascale_test_${unique++}/w`);

function step(opt: tf.Optimizer, v: tf.Variable, g: number[]): void {
  tf.tidy(() => opt.applyGradients({ [v.name]: tf.tensor1d(g) }));
}

test("gain ratio: closed forms, limits and r ∈ [1, S]", () => {
  // (σ² + μ²)/(σ²/S + μ²): σ² = 3, μ² = 1, S = 4 → 4/(0.75 + 1) = 16/7
  assert.ok(Math.abs(adaScaleGainRatio(3, 1, 4) - 16 / 7) < 1e-15);
  // σ² = 8, μ² = 2, S = 2 → 10/(4 + 2) = 5/3
  assert.ok(Math.abs(adaScaleGainRatio(8, 2, 2) - 5 / 3) < 1e-15);
  assert.equal(adaScaleGainRatio(0, 1, 8), 1); // exact gradient: no gain
  assert.equal(adaScaleGainRatio(1, 0, 8), 8); // pure noise: linear scaling
  assert.equal(adaScaleGainRatio(0, 0, 8), 1); // no information
  assert.equal(adaScaleGainRatio(-5, 1, 8), 1); // negative σ² clamped to 0
  assert.equal(adaScaleGainRatio(5, 7, 1), 1);
  for (let i = 0; i < 200; i++) {
    const s2 = Math.exp(6 * Math.sin(i)) - 0.1;
    const m2 = Math.exp(4 * Math.cos(3 * i)) - 0.1;
    const S = 1 + (i % 17) * 1.7;
    const r = adaScaleGainRatio(s2, m2, S);
    assert.ok(r >= 1 && r <= S, `r = ${r} outside [1, ${S}] for σ²=${s2}, μ²=${m2}`);
  }
  assert.deepEqual(adaScaleStatistics(1280, 1, 128), { sigmaSq: 10, muSq: 1 });
  assert.throws(() => adaScaleGainRatio(1, 1, 0.5), /scale must be a finite number >= 1, got 0.5/);
  assert.throws(
    () => adaScaleStatistics(1, 1, 0),
    (e: unknown) => e instanceof OptimizerConfigError && /baseBatchSize .* got 0/.test(e.message),
  );
});

test("at S = 1 AdaScale is the base optimizer bit for bit (SGD and batchwise Adam)", async () => {
  await useTrainingBackend();
  const grads = [
    [0.5, -1, 0.25],
    [1, 0.5, -0.125],
    [-0.3, 0.7, 2.1],
    [0.01, -0.02, 0.4],
  ];
  for (const make of [() => tf.train.sgd(0.1), () => new Adam({ learningRate: 0.05 })]) {
    const a = vars([3, 4, -1]);
    const b = vars([3, 4, -1]);
    const plain = make();
    const wrapped = new AdaScale(make(), { scale: 1 });
    wrapped.setStatistics(3, 0.5); // statistics do not matter at S = 1
    for (const g of grads) {
      step(plain, a, g);
      step(wrapped, b, g);
    }
    assert.deepEqual(Array.from(b.dataSync()), Array.from(a.dataSync()));
    assert.equal(wrapped.scaleInvariantSteps, grads.length);
    plain.dispose();
    wrapped.dispose();
    a.dispose();
    b.dispose();
  }
});

test("at S = 4 the SGD step is r·η and τ advances by r; state round-trips", async () => {
  await useTrainingBackend();
  const v = vars([1, 1]);
  const opt = new AdaScale(tf.train.sgd(0.1), { scale: 4 });
  opt.learningRate = 0.1;
  opt.setStatistics(3, 1); // r = 16/7
  step(opt, v, [1, -2]);
  const r = 16 / 7;
  const got = Array.from(v.dataSync());
  [1 - 0.1 * r, 1 + 0.2 * r].forEach((x, i) => assert.ok(Math.abs(got[i] - x) < 1e-6));
  assert.ok(Math.abs(opt.scaleInvariantSteps - r) < 1e-12);
  assert.ok(Math.abs((opt.lastGain ?? 0) - r) < 1e-12);
  // A schedule in τ: η(τ) = 0.1/(1 + τ) read before the update.
  const seen: number[] = [];
  const sched = new AdaScale(tf.train.sgd(1), {
    scale: 2,
    learningRateSchedule: (t) => (seen.push(t), 0.1 / (1 + t)),
  });
  sched.setStatistics(8, 2); // r = 5/3
  step(sched, v, [0, 0]);
  step(sched, v, [0, 0]);
  assert.deepEqual(
    seen.map((t) => Math.round(t * 1e9) / 1e9),
    [0, Math.round((5 / 3) * 1e9) / 1e9],
  );
  // JSON state and getWeights/setWeights
  const json = JSON.parse(JSON.stringify(opt.getState()));
  const other = new AdaScale(tf.train.sgd(0.1));
  other.setState(json);
  assert.deepEqual(other.getState(), opt.getState());
  const w = await opt.getWeights();
  const third = new AdaScale(tf.train.sgd(0.1));
  await third.setWeights(w);
  assert.ok(Math.abs(third.scaleInvariantSteps - r) < 1e-6);
  assert.equal(third.scale, 4);
  assert.ok(Math.abs(third.currentGain() - r) < 1e-6);
  tf.dispose(w.map((x) => x.tensor));
  assert.throws(() => (opt.scale = 0), /scale must be a finite number >= 1, got 0/);
  v.dispose();
  opt.dispose();
  sched.dispose();
});
