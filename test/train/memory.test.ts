import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as tf from "@tensorflow/tfjs-core";
import { useTrainingBackend, randn } from "../helpers/backends";
import { wasmInternals } from "../../lib/backend/wasm-module";
import { mlp } from "../../lib/models/small";
import { classificationTask } from "../../lib/grad/task";
import { trainStep } from "../../lib/train/step";
import { ConvergenceError } from "../../lib/core/errors";
import { trainLoop } from "../../lib/train/loop";
import { loadCheckpoint } from "../../lib/train/checkpoint";
import { constantSchedule } from "../../lib/schedules/constant";

test("live tensors stay constant and memory stays bounded over 1,000 steps with changing batch sizes", async () => {
  const info = await useTrainingBackend();
  const task = classificationTask([64], 10);
  const model = mlp({ inputShape: [64], numClasses: 10, hidden: [32], seed: 5 });
  const opt = tf.train.adam(1e-3);
  const sizes = [8, 33, 64, 5, 120, 17, 64, 250]; // 250 > cap 64 → 4 micro-batches
  const pool = randn(256 * 64, 1);
  const labels = new Int32Array(256).map((_, i) => i % 10);
  // wasm: the heap's size (it grows, never shrinks, when a live allocation does not fit);
  // other backends: the bytes tfjs counts in live tensors (same point of the batch-size cycle).
  const heap = () =>
    info.tfName === "wasm" ? wasmInternals().wasm.HEAPU8.buffer.byteLength : tf.memory().numBytes;
  let tensorsAfterWarmup = 0;
  let heapAfterWarmup = 0;
  for (let k = 0; k < 1000; k++) {
    const b = sizes[k % sizes.length];
    trainStep(
      model,
      opt,
      task,
      { x: pool.subarray(0, b * 64), y: labels.subarray(0, b), size: b },
      { microBatchSize: 64, learningRate: 1e-3 },
    );
    if (k === 2 * sizes.length - 1) {
      tensorsAfterWarmup = tf.memory().numTensors;
      heapAfterWarmup = heap();
    }
  }
  assert.equal(tf.memory().numTensors, tensorsAfterWarmup, "live tensors after 1,000 steps");
  // The heap only grows when a live allocation does not fit; with a constant working set it
  // must not grow after the first full cycle of batch sizes.
  assert.equal(
    heap(),
    heapAfterWarmup,
    `${info.tfName === "wasm" ? "wasm heap" : "live tensor bytes"} grew from ${heapAfterWarmup} to ${heap()} bytes`,
  );
  model.dispose();
  opt.dispose();
});

test("divergence leaves the last good checkpoint as the newest", async () => {
  await useTrainingBackend();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "batchwise-div-"));
  const n = 200;
  const x = randn(n * 64, 9);
  const y = new Int32Array(n).map((_, i) => i % 10);
  const source = {
    n,
    batch: (idx: Int32Array) => {
      const xb = new Float32Array(idx.length * 64);
      idx.forEach((j, r) => xb.set(x.subarray(j * 64, j * 64 + 64), r * 64));
      return { x: xb, y: Int32Array.from(idx, (j) => y[j]), size: idx.length };
    },
  };
  const model = mlp({ inputShape: [64], numClasses: 10, hidden: [16], seed: 1 });
  // Huge SGD steps: the loss explodes within a few updates.
  const opt = tf.train.sgd(50);
  const config = {
    runName: "div",
    examplesBudget: 4000,
    learningRate: 50,
    microBatchSize: 64,
    evalEvery: 100000,
    evalBatchSize: 100,
    seed: 1,
    maxLoss: 30,
  };
  let failedAt = -1;
  await assert.rejects(
    trainLoop({
      model,
      optimizer: opt,
      task: classificationTask([64], 10),
      train: source,
      test: source,
      schedule: constantSchedule({ batchSize: 20 }),
      config,
      checkpoint: { dir, everySteps: 1, everySeconds: 0, resume: false, config },
    }),
    (e: Error) => {
      assert.ok(e instanceof ConvergenceError, String(e));
      failedAt = Number(/at step (\d+)/.exec(e.message)?.[1]);
      return true;
    },
  );
  const ck = loadCheckpoint(dir);
  assert.equal(
    ck.meta.state.step,
    failedAt - 1,
    "newest checkpoint is the update before divergence",
  );
  assert.ok(ck.rows.every((r) => Number.isFinite(r.trainLoss) && r.trainLoss <= 30));
  tf.dispose([...ck.weights, ...ck.optimizer.weights.map((w) => w.tensor)]);
  model.dispose();
  opt.dispose();
});
