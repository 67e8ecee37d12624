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
  /** Also return the norms split by trainable variable (per-layer noise scales); default false. */
  perVariable?: boolean;
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
 * @returns The loss before the update, b_i, |g_i|² and |G_B|² (one device→host read); with
 *   `perVariable`, also the same norms split by trainable variable.
 * @throws ConfigError on an empty batch or inconsistent array lengths.
 */
export function trainStep(
  model: tfl.LayersModel,
  optimizer: tf.Optimizer,
  task: Task,
  batch: StepBatch,
  opts: StepOptions,
): StepResult {
  const step = stepTensors(model, optimizer, task, batch, opts);
  const v = step.stats.dataSync() as Float32Array;
  step.stats.dispose();
  return decodeStep(v, step);
}

/**
 * {@link trainStep} with an asynchronous device→host read (`await tensor.data()`): the same
 * update and the same numbers, for backends that cannot read synchronously — tfjs-backend-webgpu
 * under Node reads synchronously through `OffscreenCanvas`, which Node lacks — and for callers
 * that want the event loop to run during the read. `trainLoop` uses this one.
 * @throws ConfigError on an empty batch or inconsistent array lengths.
 */
export async function trainStepAsync(
  model: tfl.LayersModel,
  optimizer: tf.Optimizer,
  task: Task,
  batch: StepBatch,
  opts: StepOptions,
): Promise<StepResult> {
  const step = stepTensors(model, optimizer, task, batch, opts);
  try {
    return decodeStep((await step.stats.data()) as Float32Array, step);
  } finally {
    step.stats.dispose();
  }
}

/** The update applied, and its statistics still on the device as one vector. */
function stepTensors(
  model: tfl.LayersModel,
  optimizer: tf.Optimizer,
  task: Task,
  batch: StepBatch,
  opts: StepOptions,
): { stats: tf.Tensor1D; sizes: number[]; names: string[] | undefined; perVariable: boolean } {
  let sizes: number[] = [];
  let names: string[] | undefined;
  const perVariable = opts.perVariable ?? false;
  const stats = tf.tidy(() => {
    const r = microBatchGradients(model, task, batch, {
      microBatchSize: opts.microBatchSize,
      perVariable,
    });
    sizes = r.sizes;
    names = r.variableNames;
    setLearningRate(optimizer, opts.learningRate);
    optimizer.applyGradients(r.grad);
    const head = tf.stack([r.loss, r.gradSqNorm as tf.Scalar, ...r.microBatchSqNorms]);
    if (!perVariable) return head;
    // One read: [loss, |G_B|², |g_i|²…, |G_{B,v}|²…, |g_{1,v}|²…, |g_{2,v}|²…]
    return tf.concat([
      head,
      r.gradSqNormByVariable as tf.Tensor1D,
      ...(r.microBatchSqNormsByVariable as tf.Tensor1D[]),
    ]);
  }) as tf.Tensor1D;
  return { stats, sizes, names, perVariable };
}

/** The {@link StepResult} of the statistics vector `v` (layout in `stepTensors`). */
function decodeStep(
  v: Float32Array,
  step: { sizes: number[]; names: string[] | undefined; perVariable: boolean },
): StepResult {
  const { sizes, names, perVariable } = step;
  const k = sizes.length;
  const out: StepResult = {
    loss: v[0],
    gradSqNorm: v[1],
    microBatchSizes: sizes,
    microBatchSqNorms: Array.from(v.subarray(2, 2 + k)),
  };
  if (perVariable && names !== undefined) {
    const V = names.length;
    const at = 2 + k;
    out.variableNames = names;
    out.gradSqNormByVariable = Array.from(v.subarray(at, at + V));
    out.microBatchSqNormsByVariable = Array.from({ length: k }, (_, i) =>
      Array.from(v.subarray(at + V * (i + 1), at + V * (i + 2))),
    );
  }
  return out;
}
