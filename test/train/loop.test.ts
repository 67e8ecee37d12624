import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as tf from "@tensorflow/tfjs-core";
import { useTrainingBackend } from "../helpers/backends";
import { loadFashionMnist } from "../../lib/data/fashion-mnist";
import { subset } from "../../lib/data/dataset";
import { mlp } from "../../lib/models/small";
import { classificationTask } from "../../lib/grad/task";
import { classificationSource } from "../../lib/data/source";
import { trainLoop } from "../../lib/train/loop";
import { ConvergenceError } from "../../lib/core/errors";
import { geoDampLRSchedule, geoDampSchedule } from "../../lib/schedules/geodamp";
import { constantSchedule } from "../../lib/schedules/constant";
import { parseCompareConfig, runComparison } from "../../lib/jobs/compare";
import { readRunLog } from "../../lib/report/runlog";
import { parseSweepConfig, runSweep } from "../../lib/jobs/sweep";

const data = loadFashionMnist();
const train = subset(data.train, 600);
const testDs = subset(data.test, 200);
const task = classificationTask([28, 28, 1], 10);

const baseConfig = {
  runName: "t",
  examplesBudget: 1500,
  learningRate: 1e-3,
  microBatchSize: 64,
  evalEvery: 600,
  evalBatchSize: 100,
  seed: 3,
  maxLoss: 1e3,
};

test("the loop applies each step's batch size and learning rate, clips the last batch, and evaluates on schedule", async () => {
  await useTrainingBackend();
  const model = mlp({ inputShape: [28, 28, 1], numClasses: 10, hidden: [32], seed: 1 });
  const opt = tf.train.adam(1e-3);
  // GeoDamp B0 = 100, doubling every epoch (600 examples): epoch 0 → 6 steps of 100,
  // epoch 1 → 3 steps of 200, epoch 2 → 400 at 1200, then the budget leaves 1500−1600 < 0:
  // the step starting at 1200 is clipped to 300.
  const r = await trainLoop({
    model,
    optimizer: opt,
    task,
    train: classificationSource(train),
    test: classificationSource(testDs),
    schedule: geoDampSchedule({ initialBatchSize: 100, delay: 1 }),
    config: baseConfig,
  });
  assert.deepEqual(
    r.rows.map((x) => x.batchSize),
    [100, 100, 100, 100, 100, 100, 200, 200, 200, 300],
  );
  assert.deepEqual(
    r.rows.map((x) => x.examples),
    [100, 200, 300, 400, 500, 600, 800, 1000, 1200, 1500],
  );
  assert.ok(r.rows.every((x) => x.learningRate === 1e-3));
  // Evaluations at ≥ 600, ≥ 1200 and at the end.
  assert.deepEqual(
    r.rows.filter((x) => x.testAccuracy != null).map((x) => x.examples),
    [600, 1200, 1500],
  );
  assert.ok(r.rows.every((x, i) => i === 0 || x.wallClock >= r.rows[i - 1].wallClock));
  // Micro-batching: B = 200 with a cap of 64 → 4 micro-batches of 50.
  assert.deepEqual(r.steps[6].microBatchSizes, [50, 50, 50, 50]);
  model.dispose();
  opt.dispose();
});

test("a diverging run raises ConvergenceError naming step, batch size and learning rate", async () => {
  await useTrainingBackend();
  const model = mlp({ inputShape: [28, 28, 1], numClasses: 10, hidden: [32], seed: 1 });
  const opt = tf.train.sgd(1e6);
  await assert.rejects(
    trainLoop({
      model,
      optimizer: opt,
      task,
      train: classificationSource(train),
      test: classificationSource(testDs),
      schedule: constantSchedule({ batchSize: 50 }),
      config: { ...baseConfig, learningRate: 1e6, maxLoss: 50 },
    }),
    (e: Error) => {
      assert.ok(e instanceof ConvergenceError);
      assert.match(
        e.message,
        /diverged at step \d+: loss .* with batch size 50 and learning rate 1000000/,
      );
      return true;
    },
  );
  model.dispose();
  opt.dispose();
});

test("the main job runs end to end on a tiny subset and writes run logs and the report", async () => {
  await useTrainingBackend();
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "batchwise-main-"));
  const config = parseCompareConfig({
    outDir: out,
    epochs: 1,
    trainSubset: 512,
    testSubset: 200,
    growthEvery: 0.5,
    evalEvery: 0.5,
    schedule: "geodamp",
    replicas: 2,
  });
  const r = await runComparison(config, () => undefined);
  assert.equal(r.summaries.length, 2);
  for (const s of r.summaries) assert.equal(s.examples, 512);
  assert.match(r.table, /constant B=64/);
  const rows = readRunLog(r.files.parquet);
  assert.equal(rows.length, r.rows.length);
  assert.ok(rows.every((x) => x.replicas === 2));
  // Growing run: 4 steps of 64 (256 examples = 0.5 epoch), then B = 128: 2 steps.
  assert.deepEqual(
    rows.filter((x) => x.run.startsWith("growing")).map((x) => x.batchSize),
    [64, 64, 64, 64, 128, 128],
  );
  const html = fs.readFileSync(r.files.html, "utf8");
  assert.equal((html.match(/Plotly\.newPlot\(/g) ?? []).length, 7);
});

test("the main job's configuration rejects unknown keys and invalid values, naming them", () => {
  assert.throws(() => parseCompareConfig({ epoch: 3 }), /unknown option\(s\): epoch/);
  assert.throws(() => parseCompareConfig({ batchSize: 0 }), /batchSize: .* \(got 0\)/);
  assert.throws(() => parseCompareConfig({ growthFactor: 1 }), /growthFactor: .* \(got 1\)/);
  assert.throws(
    () => parseCompareConfig({ targetAccuracy: 1.5 }),
    /targetAccuracy: .* \(got 1.5\)/,
  );
  assert.equal(parseCompareConfig({}).batchSize, 64);
  assert.ok(Object.isFrozen(parseCompareConfig({})));
});

test("the B_crit sweep stops each run at the target, fits S = S_min(1 + B_crit/B) and writes its files", async () => {
  await useTrainingBackend();
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "batchwise-sweep-"));
  const r = await runSweep(
    parseSweepConfig({
      batchSizes: [32, 128],
      trainSubset: 3000,
      testSubset: 500,
      targetAccuracy: 0.7,
      maxEpochs: 2,
      outDir: out,
    }),
    () => undefined,
  );
  assert.equal(r.runs.length, 2);
  for (const run of r.runs) {
    assert.ok(run.steps != null && run.examples === run.steps * run.batchSize, JSON.stringify(run));
  }
  // Two points determine the line S = S_min + E_min/B exactly: zero residuals.
  assert.ok(r.fit != null);
  const fit = r.fit;
  for (const run of r.runs) {
    assert.ok(Math.abs(fit.sMin + fit.eMin / run.batchSize - (run.steps as number)) < 1e-6);
  }
  assert.ok(Math.abs(fit.bCrit - fit.eMin / fit.sMin) < 1e-9);
  assert.ok(
    fs.existsSync(r.files.fit) && fs.existsSync(r.files.html) && fs.existsSync(r.files.parquet),
  );
  assert.throws(
    () => parseSweepConfig({ batchSizes: [64] }),
    /batchSizes: Array must contain at least 2/,
  );
});

test("the loop applies each step's learning-rate factor (GeoDampLR), read back from the run log", async () => {
  await useTrainingBackend();
  const model = mlp({ inputShape: [28, 28, 1], numClasses: 10, hidden: [16], seed: 2 });
  const opt = tf.train.sgd(0.1);
  // GeoDampLR B = 100, factor 2, delay 1 epoch (600 examples): lr = 0.1·2^−⌊epoch⌋ →
  // 6 updates at 0.1, 6 at 0.05, 3 at 0.025 (budget 1500).
  const r = await trainLoop({
    model,
    optimizer: opt,
    task,
    train: classificationSource(train),
    test: classificationSource(testDs),
    schedule: geoDampLRSchedule({ initialBatchSize: 100, delay: 1, factor: 2 }),
    config: { ...baseConfig, learningRate: 0.1 },
  });
  assert.deepEqual(
    r.rows.map((x) => x.learningRate),
    [...Array(6).fill(0.1), ...Array(6).fill(0.05), ...Array(3).fill(0.025)],
  );
  assert.ok(r.rows.every((x) => x.batchSize === 100));
  model.dispose();
  opt.dispose();
});
