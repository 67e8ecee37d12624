import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { useTrainingBackend, randn } from "../helpers/backends";
import { smallCnn, mlp } from "../../lib/models/small";
import { classificationTask } from "../../lib/grad/task";
import { trainStep } from "../../lib/train/step";
import { splitBatch, trainableVariables } from "../../lib/grad/batch";

test("splitBatch splits B into near-equal micro-batches no larger than the cap", () => {
  assert.deepEqual(splitBatch(10, 4), [4, 3, 3]); // ⌈10/4⌉ = 3 parts; 10 = 4+3+3
  assert.deepEqual(splitBatch(8, 8), [8]);
  assert.deepEqual(splitBatch(9, 8), [5, 4]);
  assert.deepEqual(splitBatch(1, 512), [1]);
  assert.throws(() => splitBatch(0, 4), /batchSize must be an integer >= 1, got 0/);
  assert.throws(() => splitBatch(4, 1.5), /microBatchSize must be an integer >= 1, got 1.5/);
});

function batchOf(b: number, seed: number) {
  const x = randn(b * 784, seed).map((v) => Math.abs(v) % 1);
  const y = new Int32Array(b).map((_, i) => (i * 3 + seed) % 10);
  return { x, y, size: b };
}

test("micro-batched step applies the same update as one-shot, and exposes micro-batch norms", async () => {
  await useTrainingBackend();
  const task = classificationTask([784], 10);
  const batch = batchOf(24, 5);
  const results = [];
  for (const micro of [24, 10]) {
    const model = mlp({ inputShape: [784], numClasses: 10, hidden: [32], seed: 3 });
    const opt = tf.train.sgd(0.1);
    const r = trainStep(model, opt, task, batch, { microBatchSize: micro, learningRate: 0.1 });
    const w = trainableVariables(model).map((v) => Array.from(v.dataSync()));
    results.push({ r, w });
    model.dispose();
    opt.dispose();
  }
  const [one, split] = results;
  assert.deepEqual(split.r.microBatchSizes, [8, 8, 8]);
  assert.equal(split.r.microBatchSqNorms.length, 3);
  assert.ok(Math.abs(one.r.loss - split.r.loss) < 1e-5, `loss ${one.r.loss} vs ${split.r.loss}`);
  assert.ok(Math.abs(one.r.gradSqNorm - split.r.gradSqNorm) < 1e-5 * (1 + one.r.gradSqNorm));
  // |G_B|² ≤ mean of |g_i|² (convexity of the squared norm), equality only if all g_i equal.
  const meanSmall = split.r.microBatchSqNorms.reduce((p, q) => p + q, 0) / 3;
  assert.ok(split.r.gradSqNorm <= meanSmall + 1e-9);
  for (let i = 0; i < one.w.length; i++) {
    for (let j = 0; j < one.w[i].length; j++) {
      assert.ok(Math.abs(one.w[i][j] - split.w[i][j]) < 1e-6, `weight ${i}[${j}]`);
    }
  }
});

test("no tensor leak over repeated CNN steps with changing batch sizes and micro-batching", async () => {
  await useTrainingBackend();
  const task = classificationTask([28, 28, 1], 10);
  const model = smallCnn({ inputShape: [28, 28, 1], numClasses: 10, seed: 1 });
  const opt = tf.train.adam(1e-3);
  const sizes = [8, 16, 5, 33, 8, 16, 5, 33];
  // First pass creates the optimizer's slot variables; count after it.
  trainStep(model, opt, task, batchOf(8, 1), { microBatchSize: 16, learningRate: 1e-3 });
  const before = tf.memory().numTensors;
  for (const b of sizes)
    trainStep(model, opt, task, batchOf(b, b), { microBatchSize: 16, learningRate: 1e-3 });
  assert.equal(tf.memory().numTensors, before);
  model.dispose();
  opt.dispose();
});

test("a CNN trained on the training backend lowers its loss on a fixed batch", async () => {
  await useTrainingBackend();
  const task = classificationTask([28, 28, 1], 10);
  const model = smallCnn({ inputShape: [28, 28, 1], numClasses: 10, seed: 2 });
  const opt = tf.train.adam(3e-3);
  const batch = batchOf(32, 9);
  const first = trainStep(model, opt, task, batch, { microBatchSize: 32, learningRate: 3e-3 }).loss;
  let last = first;
  for (let i = 0; i < 40; i++)
    last = trainStep(model, opt, task, batch, { microBatchSize: 32, learningRate: 3e-3 }).loss;
  assert.ok(last < 0.5 * first, `loss ${first} → ${last}`);
  model.dispose();
  opt.dispose();
});
