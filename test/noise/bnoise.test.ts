import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { useTrainingBackend, randn } from "../helpers/backends";
import { mlp } from "../../lib/models/small";
import { classificationTask } from "../../lib/grad/task";
import { trainableVariables } from "../../lib/grad/batch";
import { estimateBNoise, hessianVectorProduct } from "../../lib/noise/bnoise";
import {
  exactGradients,
  gaussian,
  linearModel,
  regressionBatch,
  regressionTask,
  relErr,
} from "./helpers";

/**
 * Least squares L(w) = (1/n)Σ ½(x_iᵀw − y_i)² is a quadratic with H = (1/n)Σ x_i x_iᵀ exactly,
 * so on these n examples (the population): G = (1/n)Σ g_i, Σ = (1/n)Σ (g_i − G)(g_i − G)ᵀ,
 * tr(HΣ) = (1/n)Σ (g_i − G)ᵀH(g_i − G), and B_noise = tr(HΣ)/(GᵀHG) — computed here in Float64.
 * Anisotropic features (scales 0.5 … 3) make H far from a multiple of I, so B_noise ≠ B_simple.
 */
function closedForm(rows: Float64Array, w: number[]) {
  const d = w.length;
  const n = rows.length / (d + 1);
  const H = Array.from({ length: d }, () => new Float64Array(d));
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < d; a++) {
      for (let b = 0; b < d; b++) H[a][b] += (rows[i * (d + 1) + a] * rows[i * (d + 1) + b]) / n;
    }
  }
  const Hv = (v: ArrayLike<number>) => H.map((row) => row.reduce((p, h, b) => p + h * v[b], 0));
  const dot = (u: ArrayLike<number>, v: ArrayLike<number>) => {
    let s = 0;
    for (let k = 0; k < u.length; k++) s += u[k] * v[k];
    return s;
  };
  const gs = exactGradients(rows, w);
  const G = new Float64Array(d);
  for (const g of gs) for (let k = 0; k < d; k++) G[k] += g[k] / n;
  let trHS = 0;
  let trS = 0;
  for (const g of gs) {
    const dv = g.map((v, k) => v - G[k]);
    trHS += dot(dv, Hv(dv)) / n;
    trS += dot(dv, dv) / n;
  }
  const gHg = dot(G, Hv(G));
  const g2 = dot(G, G);
  return { Hv, gHg, trHS, trS, g2, bNoise: trHS / gHg, bSimple: trS / g2 };
}

test("B_noise on a quadratic with known H: tr(HΣ)/(GᵀHG) matches the closed form", async () => {
  await useTrainingBackend();
  const d = 4;
  const rng = gaussian(21);
  const wStar = [0.5, -1, 0.25, 2];
  const w = [2.5, -0.5, 0.25, 2]; // w − w* = [2, 0.5, 0, 0]: the error lies along the flat directions
  const { batch } = regressionBatch(rng, wStar, 0.5, 48, [0.5, 1, 2, 3]);
  const rows = Float64Array.from(batch.x); // the float32 values the model sees
  const cf = closedForm(rows, w);
  const task = regressionTask(d);
  const model = linearModel(w);
  const vars = trainableVariables(model);
  const w0 = vars.map((v) => Array.from(v.dataSync()));
  const before = tf.memory().numTensors;

  // A Hessian-vector product against H·v.
  const v = [0.3, -1, 2, 0.7];
  const dir = { [vars[0].name]: tf.tensor2d(v, [d, 1]) };
  const { hv, h } = hessianVectorProduct(model, task, [batch], dir);
  const got = Array.from(hv[vars[0].name].dataSync());
  const want = cf.Hv(v);
  want.forEach((x, k) =>
    assert.ok(Math.abs(got[k] - x) < 2e-3 * (1 + Math.abs(x)), `Hv[${k}] ${got[k]} vs ${x}`),
  );
  assert.ok(h > 0);
  tf.dispose([...Object.values(hv), ...Object.values(dir)]);

  // Per-example B_noise on the 48 examples (split over two batches to exercise accumulation).
  const halves = [0, 24].map((s) => ({
    x: batch.x.subarray(s * (d + 1), (s + 24) * (d + 1)),
    y: batch.y.subarray(s, s + 24),
    size: 24,
  }));
  const r = estimateBNoise(model, task, halves);
  assert.equal(r.examples, 48);
  assert.equal(r.directions, 48);
  assert.equal(r.hvps, 49);
  assert.ok(relErr(r.gradSqNorm, cf.g2) < 1e-4, `|G|² ${r.gradSqNorm} vs ${cf.g2}`);
  assert.ok(relErr(r.gHg, cf.gHg) < 2e-3, `GᵀHG ${r.gHg} vs ${cf.gHg}`);
  assert.ok(relErr(r.traceHSigma, cf.trHS) < 2e-3, `tr(HΣ) ${r.traceHSigma} vs ${cf.trHS}`);
  assert.ok(relErr(r.traceSigma, cf.trS) < 1e-4, `tr Σ ${r.traceSigma} vs ${cf.trS}`);
  assert.ok(relErr(r.bNoise as number, cf.bNoise) < 3e-3, `B_noise ${r.bNoise} vs ${cf.bNoise}`);
  assert.ok(relErr(r.bSimple as number, cf.bSimple) < 1e-3);
  assert.ok(relErr(cf.bNoise, cf.bSimple) > 0.2, "test case should separate B_noise from B_simple");

  // Groups of 4 (12 samples) and a direction cap run and give positive, finite values.
  const g4 = estimateBNoise(model, task, [batch], { groupSize: 4, maxDirections: 6 });
  assert.equal(g4.directions, 6);
  assert.ok(Number.isFinite(g4.bNoise as number) && (g4.bNoise as number) > 0);

  // The weights are restored bit for bit and nothing leaked.
  vars.forEach((v, i) => assert.deepEqual(Array.from(v.dataSync()), w0[i]));
  assert.equal(tf.memory().numTensors, before, "tensors leaked");
  assert.throws(
    () => estimateBNoise(model, task, [batch], { groupSize: 48 }),
    /need more than groupSize = 48 examples, got 48/,
  );
  assert.throws(
    () => hessianVectorProduct(model, task, [batch], {}),
    /direction v has no entry for variable/,
  );
  model.dispose();
});

test("B_noise runs on a nonlinear classifier and restores its weights", async () => {
  await useTrainingBackend();
  const task = classificationTask([6], 3);
  const model = mlp({ inputShape: [6], numClasses: 3, hidden: [8], seed: 2 });
  const batch = {
    x: randn(12 * 6, 9),
    y: Int32Array.from({ length: 12 }, (_, i) => i % 3),
    size: 12,
  };
  const w0 = model.weights.map((w) => Array.from(w.read().dataSync()));
  const before = tf.memory().numTensors;
  const r = estimateBNoise(model, task, [batch]);
  assert.equal(r.directions, 12);
  for (const k of ["gHg", "traceHSigma", "gradSqNorm", "traceSigma"] as const) {
    assert.ok(Number.isFinite(r[k]), `${k} ${r[k]}`);
  }
  // Cross-entropy through ReLUs: the Gauss–Newton part dominates, so GᵀHG > 0 here.
  assert.ok(r.gHg > 0 && r.bNoise != null && r.bNoise > 0, `GᵀHG ${r.gHg}, B_noise ${r.bNoise}`);
  assert.equal(tf.memory().numTensors, before, "tensors leaked");
  model.weights.forEach((w, i) => assert.deepEqual(Array.from(w.read().dataSync()), w0[i]));
  model.dispose();
});
