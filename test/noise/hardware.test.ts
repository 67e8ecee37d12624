import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { useTrainingBackend, randn } from "../helpers/backends";
import { classificationTask } from "../../lib/grad/task";
import { trainStep } from "../../lib/train/step";
import {
  findLargestBatch,
  largestBatchThatFits,
  measureThroughput,
  memoryBoundBatch,
  probeMemoryModel,
} from "../../lib/probes/hardware";

test("largest-batch search: geometric growth, then bisection, on an injectable predicate", () => {
  // Fits iff B ≤ 300, from 16: 16, 32, 64, 128, 256 ok, 512 fails; bisect (256, 512):
  // 384 ✗, 320 ✗, 288 ✓, 304 ✗, 296 ✓, 300 ✓, 302 ✗, 301 ✗ → hi − lo = 1.
  const r = findLargestBatch((B) => B <= 300, { start: 16 });
  assert.equal(r.largest, 300);
  assert.equal(r.smallestFailure, 301);
  assert.equal(r.stoppedBy, "failure");
  assert.deepEqual(
    r.trials.map((t) => `${t.batchSize}${t.ok ? "+" : "-"}`),
    [
      "16+",
      "32+",
      "64+",
      "128+",
      "256+",
      "512-",
      "384-",
      "320-",
      "288+",
      "304-",
      "296+",
      "300+",
      "302-",
      "301-",
    ],
  );
  // A bound: every trial succeeds up to maxBatch, which is tried exactly once.
  const b = findLargestBatch(() => true, { start: 16, maxBatch: 100 });
  assert.deepEqual(
    b.trials.map((t) => t.batchSize),
    [16, 32, 64, 100],
  );
  assert.equal(b.largest, 100);
  assert.equal(b.stoppedBy, "bound");
  // The start fails: bisect on (0, start).
  const c = findLargestBatch((B) => B <= 5, { start: 64 });
  assert.equal(c.largest, 5);
  assert.equal(findLargestBatch(() => false, { start: 4 }).largest, null);
  // Tolerance: stop when hi − lo ≤ 0.1·lo.
  const t = findLargestBatch((B) => B <= 1000, { start: 1, tolerance: 0.1 });
  assert.ok((t.largest as number) <= 1000 && (t.largest as number) >= 900, `${t.largest}`);
  assert.ok(t.trials.length < 16);
  // Time budget, with an injected clock that advances 10 ms per reading.
  let clock = 0;
  const d = findLargestBatch(() => true, { start: 1, timeBudgetMs: 35, now: () => (clock += 10) });
  assert.equal(d.stoppedBy, "budget");
  assert.equal(d.largest, 4); // trials at t = 10, 20, 30 (B = 1, 2, 4); t = 40 > 35 stops
  assert.throws(
    () => findLargestBatch(() => true, { growth: 1 }),
    /growth must be a number > 1, got 1/,
  );
  // The memory-bound model.
  assert.equal(memoryBoundBatch({ fixedBytes: 1e6, bytesPerExample: 1e5 }, 1e7, 1), 90);
  assert.equal(memoryBoundBatch({ fixedBytes: 1e6, bytesPerExample: 1e5 }, 1e7, 0.5), 40);
  assert.equal(memoryBoundBatch({ fixedBytes: 2e7, bytesPerExample: 1e5 }, 1e7, 1), 0);
});

function model(): tfl.LayersModel {
  return tfl.sequential({
    layers: [
      tfl.layers.dense({ inputShape: [20], units: 32, activation: "relu" }),
      tfl.layers.batchNormalization(), // moving statistics change in training mode
      tfl.layers.dense({ units: 5 }),
    ],
  });
}

const task = classificationTask([20], 5);
const makeBatch = (B: number) => ({
  x: randn(B * 20, B),
  y: Int32Array.from({ length: B }, (_, i) => i % 5),
  size: B,
});

async function snapshot(m: tfl.LayersModel, opt: tf.Optimizer): Promise<number[][]> {
  const w = m.weights.map((v) => Array.from(v.read().dataSync()));
  const ow = await opt.getWeights();
  const o = ow.map((t) => Array.from(t.tensor.dataSync()));
  tf.dispose(ow.filter((t) => t.name === "iter").map((t) => t.tensor)); // a fresh scalar
  return [...w, ...o];
}

test("the real probes leave weights (incl. batch-norm statistics) and the optimizer untouched", async () => {
  await useTrainingBackend();
  const m = model();
  const opt = tf.train.adam(1e-3);
  trainStep(m, opt, task, makeBatch(16), { microBatchSize: 16, learningRate: 1e-3 });
  const before = await snapshot(m, opt);
  const tensors = tf.memory().numTensors;

  const mem = await probeMemoryModel(m, task, makeBatch);
  assert.ok(mem.bytesPerExample > 0, `${mem.bytesPerExample}`);
  // A bound that allows exactly 100 examples: the search grows 8 → 100 and stops at the bound.
  const bound = mem.fixedBytes + 100.5 * mem.bytesPerExample;
  const r = await largestBatchThatFits(m, task, makeBatch, { memoryBoundBytes: bound, safety: 1 });
  assert.equal(r.memoryBound, 100);
  assert.equal(r.largest, 100);
  assert.equal(r.stoppedBy, "bound");
  // An allocation failure (simulated: makeBatch throws above 50) is caught and bisected.
  const failing = (B: number) => {
    if (B > 50) throw new Error("simulated allocation failure");
    return makeBatch(B);
  };
  const f = await largestBatchThatFits(m, task, failing, {
    memoryBoundBytes: bound,
    safety: 1,
    tolerance: 0,
  });
  assert.equal(f.largest, 50);
  assert.equal(f.stoppedBy, "failure");

  const tp = measureThroughput(m, task, makeBatch, {
    batchSizes: [8, 32],
    steps: 2,
    warmupSteps: 1,
  });
  assert.deepEqual(
    tp.map((p) => p.batchSize),
    [8, 32],
  );
  assert.ok(
    tp.every(
      (p) =>
        p.msPerStep > 0 &&
        Math.abs(p.examplesPerSecond - (1000 * p.batchSize) / p.msPerStep) < 1e-6,
    ),
  );

  assert.deepEqual(await snapshot(m, opt), before, "weights or optimizer state changed");
  assert.equal(tf.memory().numTensors, tensors, "tensors leaked");
  m.dispose();
  opt.dispose();
});
