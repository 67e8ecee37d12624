/** trainForWallClock: stops at the time limit, calls milestones once, honours the budget. */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { useTrainingBackend } from "../helpers/backends";
import { trainForWallClock } from "../../lib/analysis/wall-clock";
import { constantSchedule } from "../../lib/schedules/constant";
import { noiseScaleEstimator } from "../../lib/noise/noise-scale-estimator";
import type { LoopConfigInput } from "../../lib/train/config";
import type { DataSource } from "../../lib/data/source";
import { gaussian, linearModel, regressionBatch, regressionTask } from "../noise/helpers";

const d = 4;

function source(n: number): DataSource {
  const rng = gaussian(1);
  const { rows } = regressionBatch(rng, [1, -1, 0.5, 2], 0.1, n);
  return {
    n,
    batch(indices) {
      const x = new Float32Array(indices.length * (d + 1));
      indices.forEach((i, j) => x.set(rows.subarray(i * (d + 1), (i + 1) * (d + 1)), j * (d + 1)));
      return { x, y: new Int32Array(indices.length), size: indices.length };
    },
  };
}

const config = (budget: number): LoopConfigInput => ({
  runName: "t",
  examplesBudget: budget,
  learningRate: 0.01,
  microBatchSize: 64,
  evalEvery: 1e9,
  evalBatchSize: 256,
  seed: 1,
  maxLoss: 1e6,
});

test("trainForWallClock stops after the first update at or past the limit", async () => {
  await useTrainingBackend();
  const model = linearModel([0, 0, 0, 0]);
  const optimizer = tf.train.sgd(0.01);
  const seen: [number, number][] = [];
  const seconds = 0.3;
  const r = await trainForWallClock({
    model,
    optimizer,
    task: regressionTask(d),
    train: source(512),
    test: source(64),
    schedule: constantSchedule({ batchSize: 8 }),
    config: config(1e9),
    seconds,
    milestones: [0.1, 0.1, 0.2],
    onMilestone: (m, row) => void seen.push([m, row.step]),
  });
  assert.equal(r.timedOut, true);
  const last = r.rows[r.rows.length - 1];
  assert.ok(last.wallClock >= seconds);
  assert.ok(r.rows[r.rows.length - 2].wallClock < seconds);
  // Each milestone once, in order, at the first row past it.
  assert.deepEqual(
    seen.map(([m]) => m),
    [0.1, 0.1, 0.2],
  );
  for (const [m, step] of seen) {
    const row = r.rows[step - 1];
    assert.ok(row.wallClock >= m && (step === 1 || r.rows[step - 2].wallClock < m));
  }
  model.dispose();
  optimizer.dispose();
});

test("trainForWallClock ends with the examples budget when it comes first", async () => {
  await useTrainingBackend();
  const model = linearModel([0, 0, 0, 0]);
  const optimizer = tf.train.sgd(0.01);
  const r = await trainForWallClock({
    model,
    optimizer,
    task: regressionTask(d),
    train: source(512),
    test: source(64),
    schedule: constantSchedule({ batchSize: 16 }),
    config: config(160),
    seconds: 1e6,
  });
  assert.equal(r.timedOut, false);
  assert.equal(r.rows.length, 10);
  assert.equal(r.steps.length, 10);
  await assert.rejects(
    trainForWallClock({
      model,
      optimizer,
      task: regressionTask(d),
      train: source(64),
      test: source(64),
      schedule: constantSchedule({ batchSize: 16 }),
      config: config(16),
      seconds: 1,
      milestones: [2],
    }),
    /milestones/,
  );
  model.dispose();
  optimizer.dispose();
});

test("trainForWallClock keeps the step records and the noise reading when time runs out", async () => {
  await useTrainingBackend();
  const model = linearModel([0, 0, 0, 0]);
  const optimizer = tf.train.sgd(0.01);
  const r = await trainForWallClock({
    model,
    optimizer,
    task: regressionTask(d),
    train: source(512),
    test: source(64),
    schedule: constantSchedule({ batchSize: 16 }),
    config: config(1e9),
    noise: noiseScaleEstimator({ datasetSize: 512 }),
    seconds: 0.2,
  });
  assert.equal(r.timedOut, true);
  assert.equal(r.steps.length, r.rows.length);
  // The loop forces the two-micro-batch split for the estimate on every 4th update
  // (LoopConfig.noiseEvery, default 4); the other updates run unsplit.
  assert.deepEqual(
    r.steps.map((s) => s.microBatchSizes),
    r.rows.map((_, i) => (i % 4 === 0 ? [8, 8] : [16])),
  );
  assert.ok(r.noise != null && Number.isFinite(r.noise.traceSigma));
  model.dispose();
  optimizer.dispose();
});
