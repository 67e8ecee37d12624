/**
 * Gradient helpers shared by the noise diagnostics: tensors from a slice of a raw batch, the
 * squared norm of a gradient map, and micro-batch gradients without an update — the same
 * gradient code as `trainStep` (lib/train/step.ts), minus the optimizer.
 */
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { StepBatch, splitBatch, trainableVariables } from "../train/step";
import type { Task } from "../train/task";
import type { MicroBatchNorms } from "./estimators";

/**
 * Checks that a raw batch has the layout `task` expects.
 * @param task - The task whose shapes apply.
 * @param batch - `x`: B·prod(xShape) values, `y`: B·yPerExample values, B ≥ 1.
 * @throws Error naming the array and the expected length.
 * @example checkBatch(task, { x, y, size: 8 });
 */
export function checkBatch(task: Task, batch: StepBatch): void {
  const xPer = task.xShape.reduce((p, q) => p * q, 1);
  if (!Number.isInteger(batch.size) || batch.size < 1) {
    throw new Error(`batch.size must be an integer >= 1, got ${batch.size}`);
  }
  if (batch.x.length !== batch.size * xPer) {
    throw new Error(`batch.x has ${batch.x.length} values, expected ${batch.size}·${xPer}`);
  }
  if (batch.y.length !== batch.size * task.yPerExample) {
    throw new Error(
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
 * @throws Error if the range lies outside the batch or the arrays have the wrong length.
 * @example const { x, y } = batchTensors(task, batch, 0, 8);
 */
export function batchTensors(
  task: Task,
  batch: StepBatch,
  start: number,
  count: number,
): { x: tf.Tensor; y: tf.Tensor } {
  checkBatch(task, batch);
  const xPer = task.xShape.reduce((p, q) => p * q, 1);
  if (!(Number.isInteger(start) && Number.isInteger(count) && start >= 0 && count >= 1)) {
    throw new Error(
      `example range must be integers start >= 0, count >= 1, got ${start}, ${count}`,
    );
  }
  if (start + count > batch.size) {
    throw new Error(`examples [${start}, ${start + count}) exceed the batch size ${batch.size}`);
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
 * Σ over all tensors of Σ entries², as a scalar tensor.
 * @param grads - A gradient map (any shapes).
 * @returns |g|², a fresh scalar.
 * @example sqNormOf({ a: tf.tensor([3, 4]) }); // scalar 25
 */
export function sqNormOf(grads: tf.NamedTensorMap): tf.Scalar {
  return tf.tidy(() => tf.addN(Object.values(grads).map((g) => tf.sum(tf.square(g)))) as tf.Scalar);
}

/** A diagonal preconditioner: gradients are divided elementwise by `(√v̂ + ε)^power`. */
export interface Preconditioner {
  /** v̂ per trainable variable name (same shapes as the variables), entries ≥ 0. */
  vhat: tf.NamedTensorMap;
  /** ε ≥ 0 added to √v̂ (Adam's placement: outside the square root). */
  epsilon: number;
  /** Exponent of the divisor, > 0: 1 = Adam's update direction (default), ½ = its square root. */
  power?: number;
}

/** Options of {@link microBatchGradNorms}. */
export interface MicroBatchOptions {
  /** Largest micro-batch (examples), integer ≥ 1; B is split as trainStep splits it. */
  microBatchSize: number;
  /** Apply this diagonal preconditioner to every gradient before taking norms. */
  preconditioner?: Preconditioner;
  /** Run the model in training mode (dropout, batch-norm batch statistics); default true. */
  training?: boolean;
}

/**
 * Micro-batch gradient norms of one batch without updating the model: the numbers
 * `trainStep` returns (b_i, |g_i|², |G_B|²), optionally of preconditioned gradients P·g.
 *
 * Formula: g_i = ∇(1/b_i)Σ_{x∈i} L_x, G_B = Σ_i (b_i/B)·g_i; with a preconditioner
 * P = diag(1/(√v̂ + ε)^p), the norms are |P·g_i|² and |P·G_B|² (P is linear, so P·G_B is the
 * b-weighted mean of the P·g_i). One device→host read.
 *
 * Cost: one forward+backward per micro-batch (as trainStep), plus O(parameters) per
 * micro-batch for the norms and the accumulation.
 *
 * @param model - A tfjs-layers model; its trainable variables are differentiated.
 * @param task - Task giving the loss (lib/train/task.ts).
 * @param batch - The batch (B ≥ 1 examples).
 * @param opts - `microBatchSize` (integer ≥ 1), optional `preconditioner`, `training`.
 * @returns `{ batchSize, microBatchSizes, microBatchSqNorms, gradSqNorm }` — feed it to
 *   {@link microBatchEstimate} or a noise-scale estimator.
 * @throws Error on a bad batch, micro-batch size, or a preconditioner missing a variable or
 *   with a mismatched shape, ε < 0 or power ≤ 0.
 * @example
 * const rec = microBatchGradNorms(model, task, batch, { microBatchSize: 64 });
 * microBatchEstimate(rec);
 */
export function microBatchGradNorms(
  model: tfl.LayersModel,
  task: Task,
  batch: StepBatch,
  opts: MicroBatchOptions,
): MicroBatchNorms & { batchSize: number } {
  const sizes = splitBatch(batch.size, opts.microBatchSize);
  const vars = trainableVariables(model);
  const pre = opts.preconditioner;
  if (pre != null) checkPreconditioner(pre, vars);
  const training = opts.training ?? true;
  const B = batch.size;
  const stats = tf.tidy(() => {
    const divisors: tf.NamedTensorMap | null =
      pre == null
        ? null
        : Object.fromEntries(
            vars.map((v) => {
              const d = tf.add(tf.sqrt(pre.vhat[v.name]), pre.epsilon);
              return [v.name, (pre.power ?? 1) === 1 ? d : tf.pow(d, pre.power ?? 1)];
            }),
          );
    let acc: tf.NamedTensorMap | null = null;
    const norms: tf.Scalar[] = [];
    let offset = 0;
    for (const b of sizes) {
      const { x, y } = batchTensors(task, batch, offset, b);
      const { grads } = tf.variableGrads(
        () => tf.div(task.lossSum(model, x, y, training), b) as tf.Scalar,
        vars,
      );
      const g: tf.NamedTensorMap =
        divisors == null
          ? grads
          : Object.fromEntries(Object.entries(grads).map(([k, t]) => [k, tf.div(t, divisors[k])]));
      norms.push(sqNormOf(g));
      const w = b / B;
      const prev: tf.NamedTensorMap | null = acc;
      acc = Object.fromEntries(
        Object.entries(g).map(([k, t]): [string, tf.Tensor] => [
          k,
          prev == null ? tf.mul(t, w) : tf.add(prev[k], tf.mul(t, w)),
        ]),
      );
      offset += b;
    }
    const big = sizes.length === 1 ? norms[0] : sqNormOf(acc as tf.NamedTensorMap);
    return tf.stack([big, ...norms]);
  });
  const v = stats.dataSync();
  stats.dispose();
  return {
    batchSize: B,
    microBatchSizes: sizes,
    microBatchSqNorms: Array.from(v.subarray(1)),
    gradSqNorm: v[0],
  };
}

/**
 * Checks that a preconditioner covers every variable with the right shape.
 *
 * Formula: valid when ε ≥ 0, power > 0 and shape(v̂[name]) = shape(variable) for every
 * variable.
 *
 * @param pre - The preconditioner.
 * @param vars - The variables it must cover (a model's trainable variables).
 * @throws Error naming the variable, ε or power.
 * @example checkPreconditioner(pre, trainableVariables(model));
 */
export function checkPreconditioner(pre: Preconditioner, vars: tf.Variable[]): void {
  if (!(Number.isFinite(pre.epsilon) && pre.epsilon >= 0)) {
    throw new Error(`preconditioner.epsilon must be a finite number >= 0, got ${pre.epsilon}`);
  }
  const p = pre.power ?? 1;
  if (!(Number.isFinite(p) && p > 0)) {
    throw new Error(`preconditioner.power must be a finite number > 0, got ${p}`);
  }
  for (const v of vars) {
    const t = pre.vhat[v.name];
    if (t == null) throw new Error(`preconditioner.vhat has no entry for variable '${v.name}'`);
    if (t.shape.join(",") !== v.shape.join(",")) {
      throw new Error(
        `preconditioner.vhat['${v.name}'] has shape [${t.shape}], variable has [${v.shape}]`,
      );
    }
  }
}
