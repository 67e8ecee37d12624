/**
 * Raw batches to tensors for the gradient core: layout checks, the tensors of a slice of a
 * batch, the split of B into micro-batches, a model's trainable variables and the squared norm
 * of a gradient map.
 */
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { ConfigError } from "../core/errors";
import { requireInt } from "../core/validate";
import type { StepBatch } from "../data/source";
import type { Task } from "./task";

/** Values per example of `task`'s input: prod(xShape). */
export function valuesPerExample(task: Task): number {
  return task.xShape.reduce((p, q) => p * q, 1);
}

/**
 * Checks that a raw batch has the layout `task` expects.
 * @param task - The task whose shapes apply.
 * @param batch - `x`: B·prod(xShape) values, `y`: B·yPerExample values, B ≥ 1.
 * @throws ConfigError naming the array and the expected length.
 * @example checkBatch(task, { x, y, size: 8 });
 */
export function checkBatch(task: Task, batch: StepBatch): void {
  const xPer = valuesPerExample(task);
  requireInt("batch.size", batch.size, 1);
  if (batch.x.length !== batch.size * xPer) {
    throw new ConfigError(`batch.x has ${batch.x.length} values, expected ${batch.size}·${xPer}`);
  }
  if (batch.y.length !== batch.size * task.yPerExample) {
    throw new ConfigError(
      `batch.y has ${batch.y.length} values, expected ${batch.size}·${task.yPerExample}`,
    );
  }
}

/**
 * The tensors of examples `[start, start + count)` of `batch`, laid out as `task` expects
 * (x: [count, ...task.xShape]; y: [count] or [count, yPerExample], int32).
 * @param task - The task whose shapes and dtypes apply.
 * @param batch - Raw batch data (`x`: B·prod(xShape) values, `y`: B·yPerExample).
 * @param start - First example, integer in [0, B).
 * @param count - Number of examples, integer in [1, B − start].
 * @returns Fresh tensors `{ x, y }` (the caller disposes them, or runs inside tf.tidy).
 * @throws ConfigError if the range lies outside the batch or the arrays have the wrong length.
 * @example const { x, y } = batchTensors(task, batch, 0, 8);
 */
export function batchTensors(
  task: Task,
  batch: StepBatch,
  start: number,
  count: number,
): { x: tf.Tensor; y: tf.Tensor } {
  checkBatch(task, batch);
  const xPer = valuesPerExample(task);
  if (!(Number.isInteger(start) && Number.isInteger(count) && start >= 0 && count >= 1)) {
    throw new ConfigError(
      `example range must be integers start >= 0, count >= 1, got ${start}, ${count}`,
    );
  }
  if (start + count > batch.size) {
    throw new ConfigError(
      `examples [${start}, ${start + count}) exceed the batch size ${batch.size}`,
    );
  }
  const x = tf.tensor(
    batch.x.subarray(start * xPer, (start + count) * xPer),
    [count, ...task.xShape],
    task.xDtype,
  );
  const ys = batch.y.subarray(start * task.yPerExample, (start + count) * task.yPerExample);
  const y =
    task.yPerExample === 1
      ? tf.tensor1d(ys, "int32")
      : tf.tensor2d(ys, [count, task.yPerExample], "int32");
  return { x, y };
}

/**
 * Splits B into ⌈B/m⌉ micro-batch sizes as equal as possible (they differ by at most 1).
 * @param batchSize - B, integer ≥ 1.
 * @param microBatchSize - m, the largest micro-batch, integer ≥ 1.
 * @returns The sizes b_i, Σ b_i = B, in order.
 * @throws ConfigError naming the parameter.
 * @example splitBatch(10, 4) // [4, 3, 3]
 */
export function splitBatch(batchSize: number, microBatchSize: number): number[] {
  requireInt("batchSize", batchSize, 1);
  requireInt("microBatchSize", microBatchSize, 1);
  const k = Math.ceil(batchSize / microBatchSize);
  const base = Math.floor(batchSize / k);
  const extra = batchSize - base * k;
  return Array.from({ length: k }, (_, i) => base + (i < extra ? 1 : 0));
}

/** The model's trainable tf.Variables (tfjs-layers wraps them in LayerVariables). */
export function trainableVariables(model: tfl.LayersModel): tf.Variable[] {
  return model.trainableWeights.map((w) => w.read() as tf.Variable);
}

/**
 * Σ over all tensors of Σ entries², as a scalar tensor.
 * @param grads - A gradient map (any shapes).
 * @returns |g|², a fresh scalar.
 * @example sqNormOf({ a: tf.tensor([3, 4]) }); // scalar 25
 */
export function sqNormOf(grads: tf.NamedTensorMap): tf.Scalar {
  return tf.tidy(() => tf.addN(Object.values(grads).map((g) => tf.sum(tf.square(g)))) as tf.Scalar);
}

/**
 * Per-variable squared norms `|g_v|² = Σ entries²` of a gradient map, stacked in `names` order:
 * Σ_v |g_v|² = |g|² ({@link sqNormOf}) up to float rounding (Gray et al. 2024, nanoGNS: the
 * per-layer split of the noise scale's norms).
 * @param grads - A gradient map holding every name in `names`.
 * @param names - The variable names, in the order wanted.
 * @returns A fresh [V] tensor, V = names.length.
 * @example sqNormsByVariable({ a: tf.tensor([3, 4]), b: tf.tensor([1]) }, ["a", "b"]); // [25, 1]
 */
export function sqNormsByVariable(grads: tf.NamedTensorMap, names: readonly string[]): tf.Tensor1D {
  return tf.tidy(() => tf.stack(names.map((n) => tf.sum(tf.square(grads[n])))) as tf.Tensor1D);
}
