import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { randn, useTrainingBackend } from "../helpers/backends";
import { classificationTask } from "../../lib/grad/task";
import { microBatchGradients } from "../../lib/grad/micro-batch";
import { smallCnn } from "../../lib/models/small";
import { microBatchEstimate } from "../../lib/noise/micro-batch-estimate";
import {
  groupSums,
  layerOfVariable,
  perLayerEstimate,
  perLayerNoiseEstimator,
} from "../../lib/noise/per-layer";
import { trainStep } from "../../lib/train/step";

test("per-variable squared norms sum to the global squared norms (trainStep and the core)", async () => {
  await useTrainingBackend();
  const task = classificationTask([28, 28, 1], 10);
  const model = smallCnn({ inputShape: [28, 28, 1], numClasses: 10, seed: 5 });
  const B = 24;
  const batch = {
    x: randn(B * 784, 3).map((v) => Math.abs(v) % 1),
    y: new Int32Array(B).map((_, i) => (i * 7) % 10),
    size: B,
  };
  const plain = trainStep(model, tf.train.sgd(0), task, batch, {
    microBatchSize: 8,
    learningRate: 0,
  });
  const r = trainStep(model, tf.train.sgd(0), task, batch, {
    microBatchSize: 8,
    learningRate: 0,
    perVariable: true,
  });
  const sum = (xs: number[]) => xs.reduce((p, q) => p + q, 0);
  const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(1e-30, Math.abs(b));
  assert.equal(r.variableNames?.length, model.trainableWeights.length);
  assert.ok(rel(sum(r.gradSqNormByVariable!), r.gradSqNorm) < 1e-5);
  assert.ok(rel(r.gradSqNorm, plain.gradSqNorm) < 1e-5, `${r.gradSqNorm} vs ${plain.gradSqNorm}`);
  assert.equal(r.microBatchSqNormsByVariable!.length, 3);
  r.microBatchSqNormsByVariable!.forEach((row, i) => {
    assert.ok(rel(sum(row), r.microBatchSqNorms[i]) < 1e-5);
    assert.ok(rel(r.microBatchSqNorms[i], plain.microBatchSqNorms[i]) < 1e-5);
  });
  // One micro-batch: the per-variable vector of G_B is the micro-batch's own.
  const before = tf.memory().numTensors;
  tf.tidy(() => {
    const one = microBatchGradients(model, task, batch, { microBatchSize: 64, perVariable: true });
    assert.equal(one.microBatchSqNormsByVariable!.length, 1);
    assert.deepEqual(
      Array.from(one.gradSqNormByVariable!.dataSync()),
      Array.from(one.microBatchSqNormsByVariable![0].dataSync()),
    );
  });
  assert.equal(tf.memory().numTensors, before);
  model.dispose();
});

test("per-layer estimator: closed form, and the layers add up to the global estimate", () => {
  assert.equal(layerOfVariable("dense_Dense1/kernel"), "dense_Dense1");
  assert.equal(layerOfVariable("bias"), "bias");
  assert.deepEqual(groupSums(["a/k", "a/b", "c/k"], [1, 2, 4]), {
    groups: ["a", "c"],
    sums: [3, 4],
  });
  const rec = {
    microBatchSizes: [2, 2],
    variableNames: ["a/k", "b/k"],
    microBatchSqNormsByVariable: [
      [1, 2],
      [3, 4],
    ],
    gradSqNormByVariable: [1.5, 2.5],
  };
  // a: |G|² = (16·1.5 − 4·1 − 4·3)/(16 − 8) = 1; tr Σ = (4·1 + 4·3 − 8·1)/4 = 2
  // b: |G|² = (16·2.5 − 4·2 − 4·4)/8 = 2;        tr Σ = (4·2 + 4·4 − 8·2)/4 = 2
  assert.deepEqual(perLayerEstimate(rec), {
    a: { gradSqNorm: 1, traceSigma: 2 },
    b: { gradSqNorm: 2, traceSigma: 2 },
  });
  const global = microBatchEstimate({
    microBatchSizes: [2, 2],
    microBatchSqNorms: [3, 7],
    gradSqNorm: 4,
  })!;
  assert.deepEqual(global, { gradSqNorm: 3, traceSigma: 4 }); // = a + b
  assert.equal(
    perLayerEstimate({ ...rec, microBatchSizes: [4], microBatchSqNormsByVariable: [[1, 2]] }),
    null,
  );
  // EMA with β = 0: the last estimate; B_simple,a = 2/1, B_simple,b = 2/2.
  const est = perLayerNoiseEstimator({ beta: 0 });
  let s = est.init();
  s = est.update(s, { microBatchSizes: [4] }); // no per-variable norms: skipped
  s = est.update(s, rec);
  assert.deepEqual(JSON.parse(JSON.stringify(s)), s);
  const read = est.read(s);
  assert.equal(read.a.bSimple, 2);
  assert.equal(read.b.bSimple, 1);
  assert.equal(s.updates, 2);
  assert.throws(() => perLayerNoiseEstimator({ beta: 1 }), /beta/);
});
