import { test } from "node:test";
import assert from "node:assert/strict";
import { useTrainingBackend } from "../helpers/backends";
import { threeClassSource } from "../helpers/synthetic";
import { classificationTask } from "../../lib/grad/task";
import { criticalBatchAlongRun } from "../../lib/jobs/critical-batch-run";
import { mlp } from "../../lib/models/small";
import { Adam } from "../../lib/optim";
import { constantSchedule } from "../../lib/schedules/constant";
import { noiseScaleEstimator } from "../../lib/noise/noise-scale-estimator";
import { doublingBatchSizes } from "../../lib/train/critical-batch";
import { trainLoop } from "../../lib/train/loop";

const task = classificationTask([6], 3);
const source = (n: number, seed: number) => threeClassSource(n, seed);

test("CBS(t) along a run: measured every N examples, and the run is a plain constant-batch run", async () => {
  await useTrainingBackend();
  const train = source(256, 1);
  const val = source(64, 2);
  const loop = {
    examplesBudget: 384,
    learningRate: 0.01,
    evalEvery: 128,
    evalBatchSize: 64,
    seed: 4,
  };
  const model = mlp({ inputShape: [6], numClasses: 3, hidden: [8], seed: 3 });
  const optimizer = new Adam({ learningRate: 0.01 });
  const r = await criticalBatchAlongRun({
    model,
    optimizer,
    task,
    train,
    test: val,
    batchSize: 8,
    measureEvery: 128,
    loop,
    branches: { batchSizes: doublingBatchSizes(8, 3), lrRule: "sqrt", examplesPerBranch: 32 },
  });
  assert.deepEqual(
    r.points.map((p) => p.examples),
    [0, 128, 256],
  );
  assert.ok(r.points.every((p) => [8, 16, 32].includes(p.criticalBatchSize)));
  assert.equal(r.points[0].bSimple, null);
  assert.ok(r.rows.every((row) => row.batchSize === 8));
  // The same run without measurements: identical losses (the branches restore everything).
  const model2 = mlp({ inputShape: [6], numClasses: 3, hidden: [8], seed: 3 });
  const plain = await trainLoop({
    model: model2,
    optimizer: new Adam({ learningRate: 0.01 }),
    task,
    train,
    test: val,
    schedule: constantSchedule({ batchSize: 8 }),
    config: loop,
    noise: noiseScaleEstimator({ datasetSize: train.n, beta: 0.95 }),
  });
  assert.deepEqual(
    r.rows.map((x) => [x.trainLoss, x.testLoss]),
    plain.rows.map((x) => [x.trainLoss, x.testLoss]),
  );
  model.dispose();
  model2.dispose();
});
