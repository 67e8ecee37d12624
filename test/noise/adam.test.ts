import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { useTrainingBackend } from "../helpers/backends";
import { trainStep } from "../../lib/train/step";
import { trainableVariables } from "../../lib/grad/batch";
import {
  adamPreconditioner,
  disposePreconditioner,
} from "../../lib/noise/preconditioned-noise-scale";
import { microBatchGradNorms } from "../../lib/grad/micro-batch";
import { meanGradient } from "../../lib/noise/bnoise";
import { noiseScaleEstimator } from "../../lib/noise/noise-scale-estimator";
import {
  exactGradients,
  gaussian,
  linearModel,
  regressionBatch,
  regressionTask,
  relErr,
} from "./helpers";

const d = 6;

test("Adam's v̂ read from the optimizer equals its closed form after one and two steps", async () => {
  await useTrainingBackend();
  const rng = gaussian(31);
  const wStar = Array.from({ length: d }, () => rng());
  const task = regressionTask(d);
  const model = linearModel(wStar.map((v) => v + 1));
  const opt = tf.train.adam(1e-2, 0.9, 0.99, 1e-7);
  const name = trainableVariables(model)[0].name;
  const b1 = regressionBatch(rng, wStar, 0.3, 32).batch;
  const b2 = regressionBatch(rng, wStar, 0.3, 32).batch;
  const grad = (b: typeof b1) => {
    const G = meanGradient(model, task, [b]);
    const v = Array.from(G[name].dataSync());
    tf.dispose(Object.values(G));
    return v;
  };
  const before = tf.memory().numTensors;
  assert.throws(() => adamPreconditioner(opt, model), /no second-moment state yet/);
  const g1 = grad(b1);
  trainStep(model, opt, task, b1, { microBatchSize: 32, learningRate: 1e-2 });
  // t = 1: v_1 = (1 − β2)g1², v̂ = v_1/(1 − β2) = g1².
  let pre = adamPreconditioner(opt, model);
  assert.equal(pre.epsilon, 1e-7);
  Array.from(pre.vhat[name].dataSync()).forEach((x, k) =>
    assert.ok(relErr(x, g1[k] ** 2) < 1e-4, `v̂[${k}]`),
  );
  disposePreconditioner(pre);
  const g2 = grad(b2);
  trainStep(model, opt, task, b2, { microBatchSize: 32, learningRate: 1e-2 });
  // t = 2: v_2 = β2(1 − β2)g1² + (1 − β2)g2², v̂ = v_2/(1 − β2²) = (β2 g1² + g2²)/(1 + β2).
  pre = adamPreconditioner(opt, model);
  Array.from(pre.vhat[name].dataSync()).forEach((x, k) =>
    assert.ok(relErr(x, (0.99 * g1[k] ** 2 + g2[k] ** 2) / 1.99) < 1e-4, `v̂[${k}] at t = 2`),
  );
  disposePreconditioner(pre);
  // Slots (m, v) were created by the first step; nothing else may remain.
  assert.equal(tf.memory().numTensors, before + 2, "tensors leaked");
  assert.throws(
    () => adamPreconditioner(tf.train.sgd(0.1), model),
    /optimizer must be tfjs Adam, got SGD/,
  );
  model.dispose();
  opt.dispose();
});

test("preconditioned noise scale with a known v̂: exact norms, and estimates within 10% of the closed form", async () => {
  await useTrainingBackend();
  const rng = gaussian(41);
  const wStar = Array.from({ length: d }, () => rng());
  const u = [1, -0.5, 0.25, 0, 0.5, -1];
  const w = wStar.map((v, k) => v + u[k]);
  const sigma = 0.7;
  const task = regressionTask(d);
  const model = linearModel(w);
  const name = trainableVariables(model)[0].name;
  // v̂ = s² with ε = 0: P = diag(1/s).
  const s = [0.5, 1, 2, 4, 1, 0.25];
  const vhat = {
    [name]: tf.tensor2d(
      s.map((x) => x * x),
      [d, 1],
    ),
  };
  const pre = { vhat, epsilon: 0 };
  const before = tf.memory().numTensors;

  // (a) One batch: the norms equal |P g_i|² and |P G_B|² computed in Float64.
  const { batch } = regressionBatch(rng, wStar, sigma, 24);
  const rec = microBatchGradNorms(model, task, batch, { microBatchSize: 8, preconditioner: pre });
  const gs = exactGradients(Float64Array.from(batch.x), w);
  const pn = (idx: number[]) => {
    let n2 = 0;
    for (let k = 0; k < d; k++) {
      let m = 0;
      for (const i of idx) m += gs[i][k] / idx.length;
      n2 += (m / s[k]) ** 2;
    }
    return n2;
  };
  const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i);
  assert.deepEqual(rec.microBatchSizes, [8, 8, 8]);
  rec.microBatchSqNorms.forEach((x, i) => assert.ok(relErr(x, pn(range(8 * i, 8 * i + 8))) < 1e-4));
  assert.ok(relErr(rec.gradSqNorm, pn(range(0, 24))) < 1e-4);

  // (b) Closed form (linreg derivation in linreg.test.ts: Σ = uuᵀ + (|u|² + σ²)I, G = u):
  // |PG|² = Σ_k u_k²/s_k², tr(PΣP) = Σ_k (u_k² + |u|² + σ²)/s_k².
  const u2 = u.reduce((p, q) => p + q * q, 0);
  const g2True = u.reduce((p, x, k) => p + (x * x) / (s[k] * s[k]), 0);
  const trTrue = u.reduce((p, x, k) => p + (x * x + u2 + sigma * sigma) / (s[k] * s[k]), 0);
  const est = noiseScaleEstimator({ beta: 0.99 });
  let st = est.init();
  for (let i = 0; i < 300; i++) {
    const b = regressionBatch(rng, wStar, sigma, 256).batch;
    st = est.update(
      st,
      microBatchGradNorms(model, task, b, { microBatchSize: 64, preconditioner: pre }),
    );
  }
  const obs = est.read(st);
  assert.ok(obs != null);
  assert.ok(relErr(obs.gradSqNorm, g2True) < 0.1, `|PG|² ${obs.gradSqNorm} vs ${g2True}`);
  assert.ok(relErr(obs.traceSigma, trTrue) < 0.1, `tr(PΣP) ${obs.traceSigma} vs ${trTrue}`);
  assert.ok(relErr(obs.bSimple as number, trTrue / g2True) < 0.1);

  // (c) Power ½ divides by s^{1/2}·… : |P^{1/2}G_B|² matches Σ_k G_k²/s_k.
  const half = microBatchGradNorms(model, task, batch, {
    microBatchSize: 24,
    preconditioner: { ...pre, power: 0.5 },
  });
  let want = 0;
  for (let k = 0; k < d; k++) want += (gs.reduce((p, g) => p + g[k], 0) / 24) ** 2 / s[k];
  assert.ok(relErr(half.gradSqNorm, want) < 1e-4);
  assert.equal(tf.memory().numTensors, before, "tensors leaked");
  assert.throws(
    () =>
      microBatchGradNorms(model, task, batch, {
        microBatchSize: 8,
        preconditioner: { vhat: {}, epsilon: 0 },
      }),
    /preconditioner.vhat has no entry for variable/,
  );
  tf.dispose(Object.values(vhat));
  model.dispose();
});
