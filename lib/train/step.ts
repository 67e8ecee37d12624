/**
 * One model update at any batch size: forward, backward, update — with the batch split into
 * micro-batches when it exceeds a memory cap, their gradients accumulated, and each
 * micro-batch's squared gradient norm returned for the noise-scale estimators (McCandlish et
 * al. 2018, App. A.1: the micro-batches are the "small" batches and their mean the "big" one).
 */
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { Task } from "./task";

/** One batch of raw data: `x` holds B·prod(task.xShape) values, `y` B·task.yPerExample. */
export interface StepBatch {
  x: Float32Array | Int32Array;
  y: Int32Array;
  /** B, the number of examples. */
  size: number;
}

/** Options of {@link trainStep}. */
export interface StepOptions {
  /** Largest micro-batch (examples) that fits in memory; integer ≥ 1. */
  microBatchSize: number;
  /** Learning rate of this update (> 0); set on the optimizer before applying. */
  learningRate: number;
}

/** What one model update measured. All numbers come from one device→host read. */
export interface StepResult {
  /** Mean training loss over the batch (before the update). */
  loss: number;
  /** Sizes b_i of the micro-batches (sum = B). */
  microBatchSizes: number[];
  /** |g_i|² of each micro-batch's mean gradient, in the same order. */
  microBatchSqNorms: number[];
  /** |G_B|² of the whole batch's mean gradient (the one applied). */
  gradSqNorm: number;
}

/** Raised when the loss or gradient is NaN/Inf; names the step, batch size and learning rate. */
export class ConvergenceError extends Error {
  override name = "ConvergenceError";
}

/** Sets an optimizer's learning rate (tfjs SGD/momentum use a setter, Adam a field). */
export function setLearningRate(optimizer: tf.Optimizer, lr: number): void {
  const o = optimizer as unknown as {
    setLearningRate?: (v: number) => void;
    learningRate?: number;
  };
  if (typeof o.setLearningRate === "function") o.setLearningRate(lr);
  else o.learningRate = lr;
}

/** Splits B into ⌈B/m⌉ micro-batch sizes as equal as possible (differ by at most 1). */
export function splitBatch(batchSize: number, microBatchSize: number): number[] {
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new Error(`batchSize must be an integer >= 1, got ${batchSize}`);
  if (!Number.isInteger(microBatchSize) || microBatchSize < 1) {
    throw new Error(`microBatchSize must be an integer >= 1, got ${microBatchSize}`);
  }
  const k = Math.ceil(batchSize / microBatchSize);
  const base = Math.floor(batchSize / k);
  const extra = batchSize - base * k;
  return Array.from({ length: k }, (_, i) => base + (i < extra ? 1 : 0));
}

/** The model's trainable tf.Variables (tfjs-layers wraps them in LayerVariables). */
export function trainableVariables(model: tfl.LayersModel): tf.Variable[] {
  return model.trainableWeights.map((w) => w.read() as tf.Variable);
}

function sqNorm(grads: tf.NamedTensorMap): tf.Scalar {
  return tf.addN(Object.values(grads).map((g) => tf.sum(tf.square(g)))) as tf.Scalar;
}

/**
 * Performs one model update on `batch`.
 *
 * Gradient of the batch: G_B = Σ_i (b_i/B)·g_i where g_i is the mean gradient of micro-batch
 * i, so the result equals the one-shot gradient up to float rounding.
 *
 * @throws Error on an empty batch or inconsistent array lengths.
 */
export function trainStep(
  model: tfl.LayersModel,
  optimizer: tf.Optimizer,
  task: Task,
  batch: StepBatch,
  opts: StepOptions,
): StepResult {
  const B = batch.size;
  const xPer = task.xShape.reduce((p, q) => p * q, 1);
  if (batch.x.length !== B * xPer)
    throw new Error(`batch.x has ${batch.x.length} values, expected ${B}·${xPer}`);
  if (batch.y.length !== B * task.yPerExample) {
    throw new Error(`batch.y has ${batch.y.length} values, expected ${B}·${task.yPerExample}`);
  }
  const sizes = splitBatch(B, opts.microBatchSize);
  const vars = trainableVariables(model);
  setLearningRate(optimizer, opts.learningRate);

  const stats = tf.tidy(() => {
    let acc: tf.NamedTensorMap | null = null;
    let lossSum: tf.Tensor = tf.scalar(0);
    const norms: tf.Scalar[] = [];
    let offset = 0;
    for (const b of sizes) {
      const x = tf.tensor(
        batch.x.subarray(offset * xPer, (offset + b) * xPer),
        [b, ...task.xShape],
        task.xDtype,
      );
      const ySlice = batch.y.subarray(offset * task.yPerExample, (offset + b) * task.yPerExample);
      const y =
        task.yPerExample === 1
          ? tf.tensor1d(ySlice, "int32")
          : tf.tensor2d(ySlice, [b, task.yPerExample], "int32");
      const { value, grads } = tf.variableGrads(
        () => tf.div(task.lossSum(model, x, y, true), b) as tf.Scalar,
        vars,
      );
      norms.push(sqNorm(grads));
      lossSum = tf.add(lossSum, tf.mul(value, b));
      const w = b / B;
      if (acc == null) {
        acc =
          sizes.length === 1
            ? grads
            : Object.fromEntries(Object.entries(grads).map(([k, g]) => [k, tf.mul(g, w)]));
      } else {
        const prev: tf.NamedTensorMap = acc;
        acc = Object.fromEntries(
          Object.entries(grads).map(([k, g]) => [k, tf.add(prev[k], tf.mul(g, w))]),
        );
      }
      offset += b;
    }
    const G = acc as unknown as tf.NamedTensorMap;
    const bigNorm = sizes.length === 1 ? norms[0] : sqNorm(G);
    optimizer.applyGradients(G);
    return tf.stack([tf.div(lossSum, B), bigNorm, ...norms]);
  });
  const v = stats.dataSync();
  stats.dispose();
  return {
    loss: v[0],
    gradSqNorm: v[1],
    microBatchSizes: sizes,
    microBatchSqNorms: Array.from(v.subarray(2)),
  };
}
