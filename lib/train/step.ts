/**
 * One model update at any batch size: forward, backward, update — with the batch split into
 * micro-batches when it exceeds a memory cap (the gradient core, lib/grad/micro-batch.ts), their
 * gradients accumulated, and each micro-batch's squared gradient norm returned for the
 * noise-scale estimators (McCandlish et al. 2018, App. A.1: the micro-batches are the "small"
 * batches and their mean the "big" one).
 */
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import type { StepBatch } from "../data/source";
import { microBatchGradients } from "../grad/micro-batch";
import type { Task } from "../grad/task";
import type { StepResult } from "../grad/types";
import { setLearningRate } from "../optim/learning-rate";

/** Options of {@link trainStep}. */
export interface StepOptions {
  /** Largest micro-batch (examples) that fits in memory; integer ≥ 1. */
  microBatchSize: number;
  /** Learning rate of this update (> 0); set on the optimizer before applying. */
  learningRate: number;
}

/**
 * Performs one model update on `batch`.
 *
 * Gradient of the batch: G_B = Σ_i (b_i/B)·g_i where g_i is the mean gradient of micro-batch
 * i, so the result equals the one-shot gradient up to float rounding.
 *
 * @param model - A tfjs-layers model; its trainable variables are updated.
 * @param optimizer - Any tf.Optimizer; its learning rate is set to `opts.learningRate`.
 * @param task - Task giving the loss (lib/grad/task.ts).
 * @param batch - B ≥ 1 examples laid out as `task` expects.
 * @returns The loss before the update, b_i, |g_i|² and |G_B|² (one device→host read).
 * @throws ConfigError on an empty batch or inconsistent array lengths.
 */
export function trainStep(
  model: tfl.LayersModel,
  optimizer: tf.Optimizer,
  task: Task,
  batch: StepBatch,
  opts: StepOptions,
): StepResult {
  let sizes: number[] = [];
  const stats = tf.tidy(() => {
    const r = microBatchGradients(model, task, batch, { microBatchSize: opts.microBatchSize });
    sizes = r.sizes;
    setLearningRate(optimizer, opts.learningRate);
    optimizer.applyGradients(r.grad);
    return tf.stack([r.loss, r.gradSqNorm as tf.Scalar, ...r.microBatchSqNorms]);
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
