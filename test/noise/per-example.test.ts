import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { useTrainingBackend, randn } from "../helpers/backends";
import { classificationTask } from "../../lib/grad/task";
import { trainStep } from "../../lib/train/step";
import { mlp } from "../../lib/models/small";
import { denseTrickSupported, perExampleGradSqNorms } from "../../lib/grad/per-example";
import { microBatchGradNorms } from "../../lib/grad/micro-batch";
import { relErr } from "./helpers";

test("per-example norms on a conv model fall back to the loop and agree with trainStep's |G_B|²", async () => {
  await useTrainingBackend();
  const task = classificationTask([8, 8, 1], 3);
  const conv = tfl.sequential({
    layers: [
      tfl.layers.conv2d({ inputShape: [8, 8, 1], filters: 4, kernelSize: 3, activation: "relu" }),
      tfl.layers.flatten(),
      tfl.layers.dense({ units: 3 }),
    ],
  });
  assert.equal(denseTrickSupported(conv), false);
  assert.equal(denseTrickSupported(mlp({ inputShape: [8], numClasses: 3 })), true);
  const batch = { x: randn(6 * 64, 2), y: Int32Array.from([0, 1, 2, 0, 1, 2]), size: 6 };
  const before = tf.memory().numTensors;
  const r = perExampleGradSqNorms(conv, task, batch);
  assert.equal(r.method, "loop");
  assert.deepEqual(r.microBatchSizes, [1, 1, 1, 1, 1, 1]);
  assert.throws(
    () => perExampleGradSqNorms(conv, task, batch, { method: "dense" }),
    /method 'dense' needs a tfl.Sequential/,
  );
  // microBatchGradNorms with micro-batches of 1 is the same computation, another code path.
  const m = microBatchGradNorms(conv, task, batch, { microBatchSize: 1 });
  r.microBatchSqNorms.forEach((x, i) => assert.ok(relErr(x, m.microBatchSqNorms[i]) < 1e-4));
  assert.ok(relErr(r.gradSqNorm, m.gradSqNorm) < 1e-4);
  assert.equal(tf.memory().numTensors, before, "tensors leaked");
  // trainStep (SGD, learning rate 0: no change) reports the same |G_B|² and micro norms.
  const opt = tf.train.sgd(0);
  const s = trainStep(conv, opt, task, batch, { microBatchSize: 2, learningRate: 0 });
  const m2 = microBatchGradNorms(conv, task, batch, { microBatchSize: 2 });
  assert.ok(relErr(s.gradSqNorm, r.gradSqNorm) < 1e-4, `${s.gradSqNorm} vs ${r.gradSqNorm}`);
  s.microBatchSqNorms.forEach((x, i) => assert.ok(relErr(x, m2.microBatchSqNorms[i]) < 1e-4));
  conv.dispose();
  opt.dispose();
});
