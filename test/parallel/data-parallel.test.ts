import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { shardSizes, startDataParallel } from "../../lib/parallel/data-parallel";
import { useTrainingBackend } from "../helpers/backends";
import { classificationTask } from "../../lib/grad/task";
import { classificationSource } from "../../lib/data/source";
import { loadFashionMnist } from "../../lib/data/fashion-mnist";
import { subset } from "../../lib/data/dataset";
import { trainStep } from "../../lib/train/step";
import { splitBatch } from "../../lib/grad/batch";
import { trainLoop } from "../../lib/train/loop";
import { constantSchedule } from "../../lib/schedules/constant";
import { BackendError, ConfigError } from "../../lib/core/errors";
import type { ReplicaPlanState } from "../../lib/train/replica-plan";

/** A user-built model (not one of lib/models): flatten-dense-dense, seeded. */
function userModel(seed: number): tfl.LayersModel {
  const init = (s: number) => tfl.initializers.glorotUniform({ seed: seed + s });
  return tfl.sequential({
    layers: [
      tfl.layers.flatten({ inputShape: [28, 28, 1] }),
      tfl.layers.dense({ units: 16, activation: "relu", kernelInitializer: init(0) }),
      tfl.layers.dense({ units: 10, kernelInitializer: init(1) }),
    ],
  });
}

const flat = (m: tfl.LayersModel) =>
  tf.tidy(() => tf.concat(m.trainableWeights.map((w) => tf.reshape(w.read(), [-1]))).dataSync());

test("shardSizes splits B into K near-equal contiguous shards", () => {
  assert.deepEqual(shardSizes(10, 2), [5, 5]);
  assert.deepEqual(shardSizes(11, 3), [4, 4, 3]);
  assert.deepEqual(shardSizes(64, 1), [64]);
});

test("K=2 replicas of a user-built model apply the update one thread applies to the whole batch", async () => {
  await useTrainingBackend();
  const src = classificationSource(subset(loadFashionMnist().train, 500));
  const task = classificationTask([28, 28, 1], 10);
  const a = userModel(4);
  const b = userModel(4);
  const optA = tf.train.adam(0.01);
  const optB = tf.train.adam(0.01);
  const dp = await startDataParallel(a, task, { maxReplicas: 2 });
  try {
    const batches = [
      Int32Array.from({ length: 40 }, (_, i) => i * 3),
      Int32Array.from({ length: 33 }, (_, i) => 400 - i),
    ];
    for (const idx of batches) {
      const r = await dp.step(optA, src.batch(idx), {
        replicas: 2,
        microBatchSize: 16,
        learningRate: 0.01,
      });
      const ref = trainStep(b, optB, task, src.batch(idx), {
        microBatchSize: 1000,
        learningRate: 0.01,
      });
      assert.ok(Math.abs(r.loss - ref.loss) < 1e-5, `loss ${r.loss} vs ${ref.loss}`);
      assert.ok(Math.abs(r.gradSqNorm - ref.gradSqNorm) < 1e-4 * (1 + ref.gradSqNorm));
      // Micro-batches of ≤ 16 within each shard, in rank order.
      const [s0, s1] = shardSizes(idx.length, 2);
      assert.deepEqual(r.microBatchSizes, [...splitBatch(s0, 16), ...splitBatch(s1, 16)]);
      assert.equal(r.microBatchSqNorms.length, r.microBatchSizes.length);
    }
    const wa = flat(a);
    const wb = flat(b);
    for (let i = 0; i < wa.length; i++) {
      assert.ok(Math.abs(wa[i] - wb[i]) < 1e-5, `weight ${i}: ${wa[i]} vs ${wb[i]}`);
    }
    await assert.rejects(
      dp.step(optA, src.batch(Int32Array.of(1)), {
        replicas: 2,
        microBatchSize: 8,
        learningRate: 0.01,
      }),
      (e: Error) => e instanceof ConfigError && /batch size 1 .*K=2/.test(e.message),
    );
    await assert.rejects(
      dp.step(optA, src.batch(Int32Array.of(1, 2, 3)), {
        replicas: 3,
        microBatchSize: 8,
        learningRate: 0.01,
      }),
      (e: Error) =>
        e instanceof ConfigError &&
        /replicas must be an integer in \[1, 2\], got 3/.test(e.message),
    );
  } finally {
    await dp.close();
    tf.dispose([a, b].flatMap((m) => m.weights.map((w) => w.read())));
    optA.dispose();
    optB.dispose();
  }
});

test("startDataParallel rejects maxReplicas < 2, naming it", async () => {
  await useTrainingBackend();
  const m = userModel(1);
  await assert.rejects(
    startDataParallel(m, classificationTask([28, 28, 1], 10), { maxReplicas: 1 }),
    (e: Error) =>
      e instanceof ConfigError && /maxReplicas must be an integer >= 2, got 1/.test(e.message),
  );
  m.dispose();
});

test("trainLoop with replicas: 2 logs K, matches replicas: 1, and replicas: 'auto' records its plan", async () => {
  await useTrainingBackend();
  const ds = subset(loadFashionMnist().train, 600);
  const train = classificationSource(ds);
  const test = classificationSource(subset(loadFashionMnist().test, 100));
  const task = classificationTask([28, 28, 1], 10);
  const run = async (replicas: number | "auto", plan?: ReplicaPlanState) => {
    const model = userModel(7);
    const optimizer = tf.train.adam(0.005);
    try {
      return await trainLoop({
        model,
        optimizer,
        task,
        train,
        test,
        schedule: constantSchedule({ batchSize: 50 }),
        config: { examplesBudget: 300, learningRate: 0.005, replicas, maxReplicas: 2 },
        replicaPlan: plan,
      });
    } finally {
      model.dispose();
      optimizer.dispose();
    }
  };
  const one = await run(1);
  const two = await run(2);
  assert.deepEqual(
    one.rows.map((r) => r.replicas),
    [1, 1, 1, 1, 1, 1],
  );
  assert.deepEqual(
    two.rows.map((r) => r.replicas),
    [2, 2, 2, 2, 2, 2],
  );
  two.rows.forEach((r, i) => {
    assert.ok(Math.abs(r.trainLoss - one.rows[i].trainLoss) < 1e-4, `step ${i + 1}`);
  });
  // "auto" with a given table that makes K=2 the faster at B=50's bucket (64): K=2 is used, and
  // nothing is re-measured but the micro-batch curve.
  const plan: ReplicaPlanState = {
    microBatchCurve: [],
    microBatchSize: null,
    table: [
      { batchSize: 64, replicas: 1, examplesPerSecond: 100 },
      { batchSize: 64, replicas: 2, examplesPerSecond: 180 },
    ],
    replicas: null,
    batchSize: null,
    probeSeconds: 0,
  };
  const auto = await run("auto", plan);
  const saved = auto.state.replicaPlan as ReplicaPlanState;
  assert.deepEqual(
    auto.rows.map((r) => r.replicas),
    [2, 2, 2, 2, 2, 2],
  );
  assert.equal(saved.table.length, 2);
  assert.ok(saved.microBatchCurve.length >= 2 && saved.microBatchSize != null);
  assert.equal(saved.replicas, 2);
});

/** A layer registered in this thread only: the workers cannot rebuild a model that uses it. */
class ThisThreadOnly extends tfl.layers.Layer {
  static className = "ThisThreadOnly";
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return Array.isArray(inputs) ? inputs[0] : inputs;
  }
}
tf.serialization.registerClass(ThisThreadOnly);

test("startDataParallel: a model the workers cannot rebuild is a BackendError naming the replica", async () => {
  await useTrainingBackend();
  const m = tfl.sequential({
    layers: [
      tfl.layers.flatten({ inputShape: [28, 28, 1] }),
      new ThisThreadOnly({}),
      tfl.layers.dense({ units: 10 }),
    ],
  });
  await assert.rejects(
    startDataParallel(m, classificationTask([28, 28, 1], 10), { maxReplicas: 2 }),
    (e: Error) => e instanceof BackendError && /replica 1: .*ThisThreadOnly/.test(e.message),
  );
  m.dispose();
});
