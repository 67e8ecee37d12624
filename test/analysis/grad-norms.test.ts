/**
 * gradNormSamples on linear regression over a finite data set, where E|G_B|² is known in
 * closed form from the per-example gradients (computed in Float64):
 *
 *   G = (1/n)Σ g_i,  tr Σ_pop = (1/n)Σ|g_i|² − |G|²,
 *   a batch of B drawn without replacement: E|G_B|² = |G|² + tr Σ_pop/B · (n − B)/(n − 1).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { useTrainingBackend } from "../helpers/backends";
import { gradNormSamples } from "../../lib/analysis/grad-norms";
import { gradNormLineFit } from "../../lib/noise/grad-norm-line-fit";
import type { DataSource } from "../../lib/data/source";
import {
  exactGradients,
  gaussian,
  linearModel,
  regressionBatch,
  regressionTask,
} from "../noise/helpers";

const d = 4;
const n = 4096;

function setup() {
  const rng = gaussian(7);
  const wStar = Array.from({ length: d }, () => rng());
  const w = wStar.map((v) => v + 0.5 * rng());
  const { rows } = regressionBatch(rng, wStar, 1, n);
  const source: DataSource = {
    n,
    batch(indices) {
      const x = new Float32Array(indices.length * (d + 1));
      indices.forEach((i, j) => x.set(rows.subarray(i * (d + 1), (i + 1) * (d + 1)), j * (d + 1)));
      return { x, y: new Int32Array(indices.length), size: indices.length };
    },
  };
  const g = exactGradients(rows, w);
  const G = new Float64Array(d);
  let meanSq = 0;
  for (const gi of g) {
    for (let k = 0; k < d; k++) G[k] += gi[k] / n;
    meanSq += gi.reduce((p, q) => p + q * q, 0) / n;
  }
  const g2 = G.reduce((p, q) => p + q * q, 0);
  return { w, source, g2, trSigma: meanSq - g2 };
}

test("gradNormSamples: per-B means match E|G_B|² without replacement; the line recovers tr Σ", async () => {
  await useTrainingBackend();
  const { w, source, g2, trSigma } = setup();
  const model = linearModel(w);
  const task = regressionTask(d);
  const before = tf.memory().numTensors;
  const weights0 = Array.from(model.getWeights()[0].dataSync());
  const batchSizes = [2, 8, 32, 128];
  const { samples, means } = gradNormSamples(model, task, source, {
    batchSizes,
    examplesPerSize: n,
    seed: 3,
    chunkSize: 300,
  });
  assert.equal(tf.memory().numTensors, before, "no tensors leak");
  assert.deepEqual(Array.from(model.getWeights()[0].dataSync()), weights0, "weights unchanged");
  // ⌊M/B⌋ samples per B, grouped in the order given.
  assert.deepEqual(
    means.map((m) => [m.batchSize, m.count]),
    batchSizes.map((B) => [B, Math.floor(n / B)]),
  );
  assert.equal(
    samples.length,
    means.reduce((p, m) => p + m.count, 0),
  );
  for (const m of means) {
    const B = m.batchSize;
    const expected = g2 + (trSigma / B) * ((n - B) / (n - 1));
    // float32 gradients; allow 4 standard errors of the sample mean.
    assert.ok(
      Math.abs(m.mean - expected) <= 4 * m.stdErr + 1e-4 * expected,
      `B=${B}: mean ${m.mean} vs ${expected} (stderr ${m.stdErr})`,
    );
  }
  const fit = gradNormLineFit(samples);
  assert.ok(
    Math.abs(fit.traceSigma - trSigma) / trSigma < 0.1,
    `tr Σ ${fit.traceSigma} vs ${trSigma}`,
  );
  // Same seed, same samples.
  const again = gradNormSamples(model, task, source, {
    batchSizes: [8],
    examplesPerSize: 256,
    seed: 3,
  });
  const once = gradNormSamples(model, task, source, {
    batchSizes: [8],
    examplesPerSize: 256,
    seed: 3,
  });
  assert.deepEqual(again.samples, once.samples);
  model.dispose();
});

test("gradNormSamples: a batch above maxMicroBatch accumulates micro-batches, same samples", async () => {
  await useTrainingBackend();
  const { w, source } = setup();
  const model = linearModel(w);
  const task = regressionTask(d);
  const opts = { batchSizes: [64, 256], examplesPerSize: 1024, seed: 5 };
  const whole = gradNormSamples(model, task, source, opts);
  const split = gradNormSamples(model, task, source, { ...opts, maxMicroBatch: 16 });
  assert.equal(split.samples.length, whole.samples.length);
  whole.samples.forEach((s, i) => {
    assert.equal(split.samples[i].batchSize, s.batchSize);
    const rel = Math.abs(split.samples[i].gradSqNorm - s.gradSqNorm) / s.gradSqNorm;
    assert.ok(rel < 1e-4, `sample ${i}: ${split.samples[i].gradSqNorm} vs ${s.gradSqNorm}`);
  });
  assert.throws(
    () => gradNormSamples(model, task, source, { ...opts, maxMicroBatch: 0 }),
    /maxMicroBatch/,
  );
  model.dispose();
});

test("gradNormSamples validates its options", async () => {
  await useTrainingBackend();
  const { w, source } = setup();
  const model = linearModel(w);
  const task = regressionTask(d);
  assert.throws(() => gradNormSamples(model, task, source, { batchSizes: [] }), /batchSizes/);
  assert.throws(
    () => gradNormSamples(model, task, source, { batchSizes: [64], examplesPerSize: 32 }),
    /batch sizes must be integers in \[1, 32\]/,
  );
  assert.throws(() => gradNormSamples(model, task, source, { batchSizes: [1.5] }), /integers/);
  assert.throws(
    () => gradNormSamples(model, task, source, { batchSizes: [4], chunkSize: 0 }),
    /chunkSize/,
  );
  model.dispose();
});
