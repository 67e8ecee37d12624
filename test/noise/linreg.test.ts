/**
 * The done-criterion: on linear regression with x ~ N(0, I_d) and label noise of variance σ²,
 * the estimators recover the closed forms of |G|² and tr(Σ).
 *
 * Derivation, for the per-example loss L = ½(xᵀw − y)² with y = xᵀw* + ε, ε ~ N(0, σ²)
 * independent of x, and u = w − w*:
 *
 *   g = ∇_w L = x(xᵀw − y) = x xᵀu − x ε.
 *   G = E[g] = E[x xᵀ]u − E[x]E[ε] = u                          ⇒ |G|² = |u|².
 *   E[g gᵀ] = E[x xᵀ u uᵀ x xᵀ] − 2E[ε]·(…) + E[ε²]E[x xᵀ].
 *   Isserlis (Gaussian x, E[x_i x_j x_k x_l] = δ_ij δ_kl + δ_ik δ_jl + δ_il δ_jk) gives for a
 *   symmetric A: E[x xᵀ A x xᵀ]_ij = Σ_kl A_kl(δ_ik δ_lj + δ_il δ_kj + δ_ij δ_kl)
 *   = 2A_ij + tr(A)δ_ij, so with A = u uᵀ: E[x xᵀ u uᵀ x xᵀ] = 2u uᵀ + |u|² I.
 *   E[g gᵀ] = 2u uᵀ + |u|² I + σ² I   (trace (d + 2)|u|² + dσ²: the second moment).
 *   Σ = E[g gᵀ] − G Gᵀ = u uᵀ + (|u|² + σ²) I
 *   ⇒ tr(Σ) = |u|² + d|u|² + dσ² = (d + 1)|u|² + dσ².
 *
 * So the formulas hold for the ½ convention (the one used here and by
 * regressionTask). With L = (xᵀw − y)² (no ½) the gradient doubles and both |G|² and tr(Σ) are
 * 4× larger; B_simple = tr(Σ)/|G|² = d + 1 + dσ²/|u|² is the same under either convention.
 * And E|G_B|² = |u|² + ((d + 1)|u|² + dσ²)/B: a line in 1/B with intercept |G|², slope tr(Σ).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { useTrainingBackend } from "../helpers/backends";
import { trainStep } from "../../lib/train/step";
import { gradNormLineFit } from "../../lib/noise/grad-norm-line-fit";
import { microBatchEstimate } from "../../lib/noise/micro-batch-estimate";
import { noiseScaleEstimator } from "../../lib/noise/noise-scale-estimator";
import { perExampleGradSqNorms } from "../../lib/grad/per-example";
import {
  exactGradients,
  gaussian,
  linearModel,
  regressionBatch,
  regressionTask,
  relErr,
} from "./helpers";

const d = 8;
const sigma = 1;

/** w*, and w = w* + u with |u| = 1. */
function problem(seed: number): { wStar: number[]; w: number[]; u2: number } {
  const rng = gaussian(seed);
  const wStar = Array.from({ length: d }, () => rng());
  const dir = Array.from({ length: d }, () => rng());
  const len = Math.hypot(...dir);
  const w = wStar.map((v, k) => v + dir[k] / len);
  return { wStar, w, u2: 1 };
}

const closed = (u2: number) => ({ gradSqNorm: u2, traceSigma: (d + 1) * u2 + d * sigma * sigma });

test("E|G_B|² against 1/B is a line with intercept |G|² and slope tr Σ (Float64 data)", () => {
  const { wStar, w, u2 } = problem(1);
  const truth = closed(u2); // |G|² = 1, tr Σ = 17
  const rng = gaussian(2);
  const samples: { batchSize: number; gradSqNorm: number }[] = [];
  for (const B of [2, 4, 8, 16, 32, 64, 128]) {
    const reps = 3000;
    let mean = 0;
    for (let r = 0; r < reps; r++) {
      const { rows } = regressionBatch(rng, wStar, sigma, B);
      const gs = exactGradients(rows, w);
      let n2 = 0;
      for (let k = 0; k < d; k++) {
        let s = 0;
        for (const g of gs) s += g[k];
        n2 += (s / B) ** 2;
      }
      mean += n2 / reps;
    }
    samples.push({ batchSize: B, gradSqNorm: mean });
  }
  const fit = gradNormLineFit(samples);
  assert.ok(relErr(fit.gradSqNorm, truth.gradSqNorm) < 0.1, `intercept ${fit.gradSqNorm}`);
  assert.ok(relErr(fit.traceSigma, truth.traceSigma) < 0.1, `slope ${fit.traceSigma}`);
  assert.ok(fit.r2 > 0.99, `R² ${fit.r2}`);
});

test("trainStep's micro-batch norms → estimator lands within 10% of the closed forms", async () => {
  await useTrainingBackend();
  const { wStar, w, u2 } = problem(3);
  const truth = closed(u2);
  const task = regressionTask(d);
  const model = linearModel(w);
  const opt = tf.train.sgd(0); // learning rate 0 keeps w fixed, so every step sees the same u
  const est = noiseScaleEstimator({ beta: 0.99 });
  let state = est.init();
  const rng = gaussian(4);
  const before = tf.memory().numTensors;
  const steps = 400;
  let meanG = 0;
  let meanT = 0;
  for (let i = 0; i < steps; i++) {
    const { batch } = regressionBatch(rng, wStar, sigma, 256);
    const r = trainStep(model, opt, task, batch, { microBatchSize: 64, learningRate: 0 });
    assert.deepEqual(r.microBatchSizes, [64, 64, 64, 64]);
    state = est.update(state, { ...r, batchSize: 256 });
    meanG += (state.last as { gradSqNorm: number }).gradSqNorm / steps;
    meanT += (state.last as { traceSigma: number }).traceSigma / steps;
  }
  assert.equal(tf.memory().numTensors, before, "tensors leaked");
  const obs = est.read(state);
  assert.ok(obs != null && obs.bSimple != null);
  assert.ok(relErr(obs.gradSqNorm, truth.gradSqNorm) < 0.1, `EMA |G|² ${obs.gradSqNorm}`);
  assert.ok(relErr(obs.traceSigma, truth.traceSigma) < 0.1, `EMA tr Σ ${obs.traceSigma}`);
  const bTrue = truth.traceSigma / truth.gradSqNorm; // 17
  assert.ok(relErr(obs.bSimple, bTrue) < 0.1, `B_simple ${obs.bSimple} vs ${bTrue}`);
  // The plain mean over all steps is tighter still.
  assert.ok(relErr(meanG, truth.gradSqNorm) < 0.05, `mean |G|² ${meanG}`);
  assert.ok(relErr(meanT, truth.traceSigma) < 0.05, `mean tr Σ ${meanT}`);
  model.dispose();
  opt.dispose();
});

test("per-example norms (B_small = 1): loop and dense agree; estimates within 10% of closed forms", async () => {
  await useTrainingBackend();
  const { wStar, w, u2 } = problem(5);
  const truth = closed(u2);
  const task = regressionTask(d);
  const model = linearModel(w);
  const rng = gaussian(6);
  const before = tf.memory().numTensors;
  // Both methods against the exact Float64 per-example gradients on one batch.
  const { rows, batch } = regressionBatch(rng, wStar, sigma, 32);
  const loop = perExampleGradSqNorms(model, task, batch, { method: "loop" });
  const dense = perExampleGradSqNorms(model, task, batch, { method: "dense" });
  assert.equal(dense.method, "dense");
  assert.equal(perExampleGradSqNorms(model, task, batch).method, "dense"); // auto
  const exact = exactGradients(Float64Array.from(batch.x), w);
  for (let i = 0; i < 32; i++) {
    const e = exact[i].reduce((p, q) => p + q * q, 0);
    assert.ok(relErr(loop.microBatchSqNorms[i], e) < 1e-4, `loop ${i}`);
    assert.ok(relErr(dense.microBatchSqNorms[i], e) < 1e-4, `dense ${i}`);
  }
  assert.ok(relErr(loop.gradSqNorm, dense.gradSqNorm) < 1e-4);
  assert.ok(rows.length === 32 * (d + 1));
  // Many batches of 128 through the per-example path.
  let g = 0;
  let t = 0;
  const reps = 150;
  for (let i = 0; i < reps; i++) {
    const r = perExampleGradSqNorms(model, task, regressionBatch(rng, wStar, sigma, 128).batch);
    const e = microBatchEstimate(r) as { gradSqNorm: number; traceSigma: number };
    g += e.gradSqNorm / reps;
    t += e.traceSigma / reps;
  }
  assert.equal(tf.memory().numTensors, before, "tensors leaked");
  assert.ok(relErr(g, truth.gradSqNorm) < 0.1, `|G|² ${g}`);
  assert.ok(relErr(t, truth.traceSigma) < 0.1, `tr Σ ${t}`);
  model.dispose();
});
