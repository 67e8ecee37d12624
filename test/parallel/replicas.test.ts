import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { createReplicaGroup, shardSizes } from "../../lib/parallel/replicas";
import { buildReplicaModel } from "../../lib/parallel/models";
import { useWasmWithPack } from "../helpers/backends";
import { classificationTask } from "../../lib/grad/task";
import { classificationSource } from "../../lib/data/source";
import { loadFashionMnist } from "../../lib/data/fashion-mnist";
import { subset } from "../../lib/data/dataset";
import { trainStep } from "../../lib/train/step";
import { trainableVariables } from "../../lib/grad/batch";
import { ModelSpec } from "../../lib/parallel/protocol";

test("shardSizes splits B into K near-equal contiguous shards", () => {
  assert.deepEqual(shardSizes(10, 2), [5, 5]);
  assert.deepEqual(shardSizes(11, 3), [4, 4, 3]);
  assert.deepEqual(shardSizes(64, 1), [64]);
});

test("two replicas apply the same update as one process on the whole batch, and stay identical", async () => {
  const spec: ModelSpec = {
    builder: "mlp",
    inputShape: [28, 28, 1],
    numClasses: 10,
    seed: 4,
    hidden: [16],
  };
  const group = await createReplicaGroup({
    replicas: 2,
    model: spec,
    data: { kind: "fashion-mnist", trainSubset: 500 },
    optimizer: { name: "sgd", learningRate: 0.1 },
  });
  try {
    const batches = [
      Int32Array.from({ length: 40 }, (_, i) => i * 3),
      Int32Array.from({ length: 33 }, (_, i) => 400 - i),
    ];
    const results = [];
    for (const idx of batches) results.push(await group.step(idx, 0.1));
    const [w0, w1] = await group.weights();
    assert.deepEqual(Array.from(w0), Array.from(w1), "replicas hold identical weights");

    // Reference: the same two SGD steps in this process, one micro-batch per step.
    await useWasmWithPack();
    const model = buildReplicaModel(spec);
    const opt = tf.train.sgd(0.1);
    const src = classificationSource(subset(loadFashionMnist().train, 500));
    const task = classificationTask([28, 28, 1], 10);
    const ref = batches.map((idx) =>
      trainStep(model, opt, task, src.batch(idx), { microBatchSize: 1000, learningRate: 0.1 }),
    );
    const refW = tf.tidy(() =>
      tf.concat(trainableVariables(model).map((v) => tf.reshape(v, [-1]))).dataSync(),
    );
    for (let i = 0; i < refW.length; i++) {
      assert.ok(Math.abs(refW[i] - w0[i]) < 1e-5, `weight ${i}: ${refW[i]} vs ${w0[i]}`);
    }
    results.forEach((r, k) => {
      assert.ok(Math.abs(r.loss - ref[k].loss) < 1e-5, `loss ${r.loss} vs ${ref[k].loss}`);
      assert.ok(Math.abs(r.gradSqNorm - ref[k].gradSqNorm) < 1e-5 * (1 + ref[k].gradSqNorm));
      assert.deepEqual(r.microBatchSizes, shardSizes(batches[k].length, 2));
      assert.equal(r.microBatchSqNorms.length, 2);
    });
    model.dispose();
    opt.dispose();
  } finally {
    await group.close();
  }
});
