/**
 * Timescale-preserving weight decay (Power Lines, Bergsma et al. 2025;
 * lib/schedules/weight-decay.ts): τ = B/(η·λ·D) in closed form, the factor (B/B₀)/(η/η₀), τ
 * invariant across a Seesaw ramp and a GeoDamp ramp, and the loop setting λ on AdamW per update
 * and logging it (CSV round trip); Adam with such a schedule is refused before any update.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { useTrainingBackend } from "../helpers/backends";
import { loadFashionMnist } from "../../lib/data/fashion-mnist";
import { subset } from "../../lib/data/dataset";
import { mlp } from "../../lib/models/small";
import { classificationTask } from "../../lib/grad/task";
import { classificationSource } from "../../lib/data/source";
import { trainLoop } from "../../lib/train/loop";
import { geoDampSchedule } from "../../lib/schedules/geodamp";
import { seesawSchedule } from "../../lib/schedules/seesaw";
import { lrDecayFactor } from "../../lib/schedules/lr-decay";
import {
  adamwTimescale,
  timescaleWeightDecayFactor,
  withTimescaleWeightDecay,
} from "../../lib/schedules/weight-decay";
import { AdamW } from "../../lib/optim/adamw";
import { Adam } from "../../lib/optim/adam";
import { readRunLog, writeRunLog } from "../../lib/report/runlog";
import { obs } from "./obs";

const rel = (a: number, b: number) =>
  assert.ok(Math.abs(a - b) <= 1e-12 * Math.abs(b), `${a} vs ${b}`);

test("τ = B/(η·λ·D) and the factor that keeps it: (B/B₀)/(η/η₀); 0 at η = 0", () => {
  rel(adamwTimescale(256, 1e-3, 0.1, 1_000_000), 2.56);
  rel(timescaleWeightDecayFactor(256, 64, 2), 2);
  rel(timescaleWeightDecayFactor(64, 64, 0.5), 2);
  assert.equal(timescaleWeightDecayFactor(128, 64, 0), 0);
  assert.throws(() => adamwTimescale(1, 1, 0, 1), /weightDecay .*got 0/);
  assert.throws(
    () =>
      withTimescaleWeightDecay(geoDampSchedule({ initialBatchSize: 8, delay: 1 }), {
        baseBatchSize: 0,
      }),
    /baseBatchSize .*got 0/,
  );
});

test("τ stays at its starting value across a Seesaw ramp (λ ∝ B/η)", () => {
  const b0 = 64;
  const [eta0, lambda0, D] = [1e-3, 0.1, 50_000];
  const s = withTimescaleWeightDecay(
    seesawSchedule({
      initialBatchSize: b0,
      maxBatchSize: 512,
      base: { totalExamples: 40_000, finalFactor: 0.05 },
    }),
    { baseBatchSize: b0 },
  );
  assert.equal(s.name, "seesaw+tau");
  const tau0 = adamwTimescale(b0, eta0, lambda0, D);
  for (let e = 0; e < 40_000; e += 997) {
    const d = s.update(s.init(), obs({ examples: e }));
    const tau = adamwTimescale(
      d.batchSize,
      eta0 * d.lrFactor,
      lambda0 * (d.weightDecayFactor as number),
      D,
    );
    rel(tau, tau0);
  }
  // past the first crossing (base factor f ∈ (1/4, 1/2]): B ×2, η = f·√2·η₀, so λ = λ₀·2/(f·√2)
  const f = lrDecayFactor(24_000, { totalExamples: 40_000, finalFactor: 0.05 });
  const d = s.update(s.init(), obs({ examples: 24_000 }));
  assert.equal(d.batchSize, 128);
  rel(d.weightDecayFactor as number, 2 / (f * Math.SQRT2));
});

const data = loadFashionMnist();
const train = classificationSource(subset(data.train, 400));
const testSrc = classificationSource(subset(data.test, 100));
const task = classificationTask([28, 28, 1], 10);
const config = {
  runName: "tau",
  examplesBudget: 1200,
  learningRate: 1e-3,
  microBatchSize: 256,
  evalEvery: 400,
  evalBatchSize: 100,
  seed: 3,
};

test("the loop sets λ = λ₀·(B/B₀) on AdamW under a GeoDamp ramp and logs weight_decay (CSV round trip)", async () => {
  await useTrainingBackend();
  const model = mlp({ inputShape: [28, 28, 1], numClasses: 10, hidden: [16], seed: 1 });
  const optimizer = new AdamW({ learningRate: 1e-3, weightDecay: 0.02 });
  const schedule = withTimescaleWeightDecay(geoDampSchedule({ initialBatchSize: 25, delay: 1 }), {
    baseBatchSize: 25,
  });
  const r = await trainLoop({ model, optimizer, task, train, test: testSrc, schedule, config });
  model.dispose();
  assert.ok(new Set(r.rows.map((x) => x.batchSize)).size >= 3, "the ramp did not happen");
  for (const row of r.rows) rel(row.weightDecay as number, 0.02 * (row.batchSize / 25));
  assert.equal(optimizer.weightDecay, r.rows[r.rows.length - 1].weightDecay);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tau-"));
  const files = writeRunLog(r.rows, dir, "runlog");
  const back = readRunLog(files.csv);
  assert.deepEqual(
    back.map((x) => x.weightDecay),
    r.rows.map((x) => x.weightDecay),
  );
  fs.rmSync(dir, { recursive: true });
});

test("a schedule that sets the weight decay with Adam (no λ) is refused before the first update", async () => {
  await useTrainingBackend();
  const model = mlp({ inputShape: [28, 28, 1], numClasses: 10, hidden: [16], seed: 1 });
  const schedule = withTimescaleWeightDecay(geoDampSchedule({ initialBatchSize: 25, delay: 1 }), {
    baseBatchSize: 25,
  });
  await assert.rejects(
    trainLoop({
      model,
      optimizer: new Adam({ learningRate: 1e-3 }),
      task,
      train,
      test: testSrc,
      schedule,
      config,
    }),
    /tau: the schedule sets the weight decay \(weightDecayFactor 1\) but the optimizer BatchwiseAdam has none; use AdamW or Lamb/,
  );
  model.dispose();
});
