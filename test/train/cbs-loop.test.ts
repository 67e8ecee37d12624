import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { useTrainingBackend } from "../helpers/backends";
import { ConfigError } from "../../lib/core/errors";
import { threeClassSource } from "../helpers/synthetic";
import { classificationTask } from "../../lib/grad/task";
import { mlp } from "../../lib/models/small";
import { Adam } from "../../lib/optim";
import { cbsWarmupSchedule } from "../../lib/schedules/cbs-warmup";
import { measureCriticalBatch, modelBranchRunner } from "../../lib/train/critical-batch";
import { trainLoop } from "../../lib/train/loop";

const task = classificationTask([6], 3);
const source = (n: number, seed: number) => threeClassSource(n, seed, 0.5);

test("the loop measures the CBS when cbs-warmup asks, untimed, and B follows it", async () => {
  await useTrainingBackend();
  const train = source(256, 1);
  const model = mlp({ inputShape: [6], numClasses: 3, hidden: [8], seed: 2 });
  const optimizer = new Adam({ learningRate: 0.01 });
  const schedule = cbsWarmupSchedule(
    { initialBatchSize: 4, measureEvery: 128, lrRule: "none", maxBatchSize: 32 },
    { datasetSize: train.n },
  );
  const asked: number[] = [];
  const r = await trainLoop({
    model,
    optimizer,
    task,
    train,
    test: source(64, 9),
    schedule,
    config: { examplesBudget: 512, learningRate: 0.01, microBatchSize: 64, evalBatchSize: 64 },
    measureCriticalBatch: async ({ examples }) => {
      asked.push(examples);
      // The real measurement (restoring model and optimizer), then a fake growth on top so
      // that the test knows what B must be: CBS = 8 at the start, 32 from 128 examples on.
      const m = await measureCriticalBatch(modelBranchRunner({ model, optimizer, task, train }), {
        batchSizes: [4, 8],
        learningRate: 0.01,
        examplesPerBranch: 16,
      });
      assert.ok([4, 8].includes(m.criticalBatchSize));
      return examples === 0 ? 8 : 32;
    },
  });
  assert.equal(asked[0], 0);
  assert.ok(asked.length >= 2 && asked[1] >= 128);
  const bs = r.rows.map((x) => x.batchSize);
  assert.equal(bs[0], 8);
  assert.equal(bs[bs.length - 1], 32);
  model.dispose();
  optimizer.dispose();
});

test("a schedule asking for the CBS without a measurement callback is a ConfigError", async () => {
  await useTrainingBackend();
  const train = source(32, 3);
  const model = mlp({ inputShape: [6], numClasses: 3, hidden: [4], seed: 2 });
  const optimizer = tf.train.sgd(0.1);
  await assert.rejects(
    trainLoop({
      model,
      optimizer,
      task,
      train,
      test: train,
      schedule: cbsWarmupSchedule({ initialBatchSize: 4, measureEvery: 8 }, { datasetSize: 32 }),
      config: { examplesBudget: 32, learningRate: 0.1 },
    }),
    (e: unknown) => e instanceof ConfigError && /measureCriticalBatch/.test(e.message),
  );
  model.dispose();
});
