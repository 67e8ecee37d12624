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
import { trainLoop, type TrainLoopArgs } from "../../lib/train/loop";
import { ConfigError } from "../../lib/core/errors";
import { geoDampSchedule } from "../../lib/schedules/geodamp";
import { noiseScaleEstimator } from "../../lib/noise/noise-scale-estimator";
import { AdaScale, adaScaleGainRatio } from "../../lib/optim/adascale";
import { readRunLog, writeRunLog } from "../../lib/report/runlog";

const data = loadFashionMnist();
const train = classificationSource(subset(data.train, 600));
const testSrc = classificationSource(subset(data.test, 200));
const task = classificationTask([28, 28, 1], 10);
const config = {
  runName: "adascale",
  examplesBudget: 1800,
  learningRate: 0.05,
  microBatchSize: 256,
  evalEvery: 600,
  evalBatchSize: 100,
  seed: 3,
  noiseMicroBatches: 2,
  noiseEvery: 1,
};

/** GeoDamp from B₀ = 50, doubling every epoch (600 examples): S = 1, 2, 4. */
function args(optimizer: tf.Optimizer, extra: Partial<TrainLoopArgs<unknown>> = {}) {
  return {
    model: mlp({ inputShape: [28, 28, 1], numClasses: 10, hidden: [32], seed: 1 }),
    optimizer,
    task,
    train,
    test: testSrc,
    schedule: geoDampSchedule({ initialBatchSize: 50, delay: 1 }),
    config,
    noise: noiseScaleEstimator({ datasetSize: train.n }),
    ...extra,
  } as TrainLoopArgs<unknown>;
}

test("the loop drives AdaScale: S = B/B₀, r from the noise estimate, τ = Σ r, lr = r·η logged", async () => {
  await useTrainingBackend();
  const ada = new AdaScale(tf.train.sgd(0.05), { baseBatchSize: 50 });
  const a = args(ada);
  const r = await trainLoop(a);
  a.model.dispose();
  let tau = 0;
  let gained = 0;
  for (const row of r.rows) {
    const S = row.batchSize / 50;
    const gain = row.adaScaleGain as number;
    assert.ok(gain >= 1 && gain <= S + 1e-12, `r = ${gain} outside [1, ${S}] at step ${row.step}`);
    if (S === 1) assert.equal(gain, 1, `r must be exactly 1 at S = 1 (step ${row.step})`);
    if (gain > 1.01) gained++;
    tau += gain;
    assert.ok(Math.abs((row.scaleInvariantSteps as number) - tau) < 1e-9);
    assert.ok(Math.abs(row.learningRate - gain * 0.05) < 1e-12, `lr at step ${row.step}`);
  }
  // S = 2 and 4 with a noisy gradient: the gain is above 1 on most larger-batch updates.
  const large = r.rows.filter((x) => x.batchSize > 50).length;
  assert.ok(gained >= large / 2, `only ${gained} of ${large} updates at S > 1 had r > 1.01`);
  assert.equal(ada.scaleInvariantSteps, tau);
  // The gain is the closed form of the statistics fed before the last update.
  const st = ada.getState();
  assert.ok(st.statistics !== null);
  assert.equal(
    ada.lastGain,
    adaScaleGainRatio(st.statistics.sigmaSq, st.statistics.muSq, st.scale),
  );
  // The run log keeps both columns through CSV.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bw-adascale-"));
  const { csv } = writeRunLog(r.rows, dir, "runlog");
  const back = readRunLog(csv);
  assert.deepEqual(
    back.map((x) => [x.adaScaleGain, x.scaleInvariantSteps]),
    r.rows.map((x) => [x.adaScaleGain, x.scaleInvariantSteps]),
  );
  fs.rmSync(dir, { recursive: true });
  ada.dispose();
});

test("AdaScale in the loop: a run stopped at a checkpoint and resumed continues τ exactly", async () => {
  await useTrainingBackend();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bw-adascale-ckpt-"));
  const ck = (resume: boolean) => ({
    dir,
    everySteps: 0,
    everySeconds: 0,
    config: { test: "adascale" },
    resume,
  });
  const reference = new AdaScale(tf.train.sgd(0.05), { baseBatchSize: 50 });
  const ra = args(reference);
  const full = await trainLoop(ra);
  ra.model.dispose();
  let calls = 0;
  const first = new AdaScale(tf.train.sgd(0.05), { baseBatchSize: 50 });
  const fa = args(first, { checkpoint: ck(false), shouldStop: () => ++calls === 14 });
  const part = await trainLoop(fa);
  fa.model.dispose();
  assert.equal(part.stopped, true);
  const second = new AdaScale(tf.train.sgd(0.05), { baseBatchSize: 50 });
  const sa = args(second, { checkpoint: ck(true) });
  const rest = await trainLoop(sa);
  sa.model.dispose();
  const cols = (rows: typeof full.rows) =>
    rows.map((x) => [x.step, x.batchSize, x.adaScaleGain, x.scaleInvariantSteps, x.trainLoss]);
  assert.deepEqual(cols(rest.rows), cols(full.rows));
  assert.equal(second.scaleInvariantSteps, reference.scaleInvariantSteps);
  fs.rmSync(dir, { recursive: true });
  [reference, first, second].forEach((o) => o.dispose());
});

test("AdaScale in the loop: no baseBatchSize or no noise estimator is a ConfigError; other optimizers are left alone", async () => {
  await useTrainingBackend();
  const noBase = args(new AdaScale(tf.train.sgd(0.05)));
  await assert.rejects(
    trainLoop(noBase),
    (e: unknown) => e instanceof ConfigError && /needs baseBatchSize/.test(e.message),
  );
  noBase.model.dispose();
  const noNoise = args(new AdaScale(tf.train.sgd(0.05), { baseBatchSize: 50 }), {
    noise: undefined,
  });
  await assert.rejects(
    trainLoop(noNoise),
    (e: unknown) => e instanceof ConfigError && /noise-scale estimator/.test(e.message),
  );
  noNoise.model.dispose();
  // Any other optimizer is left alone (tf.Optimizer's duck-typed instanceof would say every
  // optimizer is an AdaScale; the loop asks AdaScale.is).
  const sgd = tf.train.sgd(0.05);
  assert.equal(sgd instanceof AdaScale, true);
  assert.equal(AdaScale.is(sgd), false);
  const plain = args(sgd, { config: { ...config, examplesBudget: 200 } });
  const r = await trainLoop(plain);
  plain.model.dispose();
  assert.ok(
    r.rows.every((x) => x.adaScaleGain === undefined && x.scaleInvariantSteps === undefined),
  );
  assert.ok(r.rows.every((x) => x.learningRate === 0.05));
  assert.throws(
    () => new AdaScale(tf.train.sgd(0.05), { baseBatchSize: 0 }),
    /baseBatchSize must be an integer >= 1, got 0/,
  );
});
