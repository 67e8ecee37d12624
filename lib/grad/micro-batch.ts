/**
 * The gradient core: the mean gradient of a batch computed micro-batch by micro-batch, with each
 * micro-batch's squared gradient norm — the one loop every caller shares (`trainStep` in
 * lib/train/step.ts, the noise diagnostics in lib/noise, the replica workers in lib/parallel and
 * the benches).
 *
 * Formula: g_i = ∇(1/b_i)Σ_{x∈i} L_x, G_B = Σ_i (b_i/B)·g_i, so G_B equals the one-shot gradient
 * of the batch up to float rounding; the |g_i|² and |G_B|² are the "small" and "big" batch norms
 * of McCandlish et al. 2018, App. A.1 (docs/design.md §1). With a diagonal preconditioner
 * P = diag(1/(√v̂ + ε)^p) the gradients are P·g_i and P·G_B (P is linear, so P·G_B is the
 * b-weighted mean of the P·g_i).
 */
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { ConfigError } from "../core/errors";
import { requireNumber } from "../core/validate";
import type { StepBatch } from "../data/source";
import type { Task } from "./task";
import {
  batchTensors,
  checkBatch,
  splitBatch,
  sqNormOf,
  sqNormsByVariable,
  trainableVariables,
} from "./batch";
import type { MicroBatchNorms } from "./types";

/** A diagonal preconditioner: gradients are divided elementwise by `(√v̂ + ε)^power`. */
export interface Preconditioner {
  /** v̂ per trainable variable name (same shapes as the variables), entries ≥ 0. */
  vhat: tf.NamedTensorMap;
  /** ε ≥ 0 added to √v̂ (Adam's placement: outside the square root). */
  epsilon: number;
  /** Exponent of the divisor, > 0: 1 = Adam's update direction (default), ½ = its square root. */
  power?: number;
}

/** Options of {@link microBatchGradients} and {@link microBatchGradNorms}. */
export interface MicroBatchOptions {
  /** Largest micro-batch (examples), integer ≥ 1; B is split by `splitBatch`. */
  microBatchSize: number;
  /** Apply this diagonal preconditioner to every gradient before taking norms. */
  preconditioner?: Preconditioner;
  /** Run the model in training mode (dropout, batch-norm batch statistics); default true. */
  training?: boolean;
  /** Compute the norms |g_i|² and |G_B|² (default true); false leaves them out (benches). */
  norms?: boolean;
  /**
   * Also split every norm by trainable variable (|g_{i,v}|², |G_{B,v}|², for per-layer noise
   * scales); default false. Cost: one reduction per variable per micro-batch, which replaces
   * the global one (the global norm is their sum).
   */
  perVariable?: boolean;
}

/** The tensors {@link microBatchGradients} returns; all belong to the caller's `tf.tidy`. */
export interface MicroBatchGradients {
  /** Sizes b_i of the micro-batches (Σ b_i = B). */
  sizes: number[];
  /** G_B = Σ_i (b_i/B)·g_i per trainable variable name (preconditioned when asked). */
  grad: tf.NamedTensorMap;
  /** Mean loss over the batch, (1/B)Σ_x L_x. */
  loss: tf.Scalar;
  /** |g_i|² per micro-batch, in order (empty with `norms: false`). */
  microBatchSqNorms: tf.Scalar[];
  /** |G_B|² (null with `norms: false`). */
  gradSqNorm: tf.Scalar | null;
  /** With `perVariable`: the trainable variables' names, the order of the vectors below. */
  variableNames?: string[];
  /** With `perVariable`: per micro-batch, the [V] vector of |g_{i,v}|² (sums to |g_i|²). */
  microBatchSqNormsByVariable?: tf.Tensor1D[];
  /** With `perVariable`: the [V] vector of |G_{B,v}|² (sums to |G_B|²). */
  gradSqNormByVariable?: tf.Tensor1D;
}

/**
 * The micro-batch loop: mean gradient of `batch`, micro-batch by micro-batch, without updating
 * the model. Call it inside `tf.tidy` (it returns tensors and does not read them); for one
 * micro-batch G_B is that micro-batch's gradient itself (no scaling by 1).
 *
 * Cost: one forward+backward per micro-batch, plus O(parameters) per micro-batch for the norms
 * and the accumulation.
 *
 * @param model - A tfjs-layers model; its trainable variables are differentiated.
 * @param task - Task giving the loss (lib/grad/task.ts).
 * @param batch - The batch (B ≥ 1 examples, laid out as `task` expects).
 * @param opts - `microBatchSize` (integer ≥ 1), optional `preconditioner`, `training`, `norms`,
 *   `perVariable` (per-variable squared norms as well, for per-layer noise scales).
 * @throws ConfigError on a bad batch, micro-batch size, or a preconditioner missing a variable or
 *   with a mismatched shape, ε < 0 or power ≤ 0.
 */
export function microBatchGradients(
  model: tfl.LayersModel,
  task: Task,
  batch: StepBatch,
  opts: MicroBatchOptions,
): MicroBatchGradients {
  checkBatch(task, batch);
  const sizes = splitBatch(batch.size, opts.microBatchSize);
  const vars = trainableVariables(model);
  const pre = opts.preconditioner;
  if (pre != null) checkPreconditioner(pre, vars);
  const training = opts.training ?? true;
  const withNorms = opts.norms ?? true;
  const B = batch.size;
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
  let lossSum: tf.Tensor = tf.scalar(0);
  const norms: tf.Scalar[] = [];
  const perVariable = withNorms && (opts.perVariable ?? false);
  const names = vars.map((v) => v.name);
  const byVar: tf.Tensor1D[] = [];
  let offset = 0;
  for (const b of sizes) {
    const { x, y } = batchTensors(task, batch, offset, b);
    const { value, grads } = tf.variableGrads(
      () => tf.div(task.lossSum(model, x, y, training), b) as tf.Scalar,
      vars,
    );
    const g: tf.NamedTensorMap =
      divisors == null
        ? grads
        : Object.fromEntries(Object.entries(grads).map(([k, t]) => [k, tf.div(t, divisors[k])]));
    if (perVariable) {
      const v = sqNormsByVariable(g, names);
      byVar.push(v);
      norms.push(tf.sum(v) as tf.Scalar);
    } else if (withNorms) norms.push(sqNormOf(g));
    lossSum = tf.add(lossSum, tf.mul(value, b));
    if (sizes.length === 1) {
      acc = g;
    } else {
      const w = b / B;
      const prev: tf.NamedTensorMap | null = acc;
      acc = Object.fromEntries(
        Object.entries(g).map(([k, t]): [string, tf.Tensor] => [
          k,
          prev == null ? tf.mul(t, w) : tf.add(prev[k], tf.mul(t, w)),
        ]),
      );
    }
    offset += b;
  }
  const grad = acc as tf.NamedTensorMap;
  const out: MicroBatchGradients = {
    sizes,
    grad,
    loss: tf.div(lossSum, B) as tf.Scalar,
    microBatchSqNorms: norms,
    gradSqNorm: null,
  };
  if (perVariable) {
    const total = sizes.length === 1 ? byVar[0] : sqNormsByVariable(grad, names);
    out.gradSqNorm = sizes.length === 1 ? norms[0] : (tf.sum(total) as tf.Scalar);
    out.variableNames = names;
    out.microBatchSqNormsByVariable = byVar;
    out.gradSqNormByVariable = total;
  } else if (withNorms) {
    out.gradSqNorm = sizes.length === 1 ? norms[0] : sqNormOf(grad);
  }
  return out;
}

/**
 * Micro-batch gradient norms of one batch without updating the model: the numbers
 * `trainStep` returns (b_i, |g_i|², |G_B|²), optionally of preconditioned gradients P·g.
 * One device→host read; see {@link microBatchGradients} for the formula and cost.
 *
 * @param model - A tfjs-layers model; its trainable variables are differentiated.
 * @param task - Task giving the loss (lib/grad/task.ts).
 * @param batch - The batch (B ≥ 1 examples).
 * @param opts - `microBatchSize` (integer ≥ 1), optional `preconditioner`, `training`.
 * @returns `{ batchSize, microBatchSizes, microBatchSqNorms, gradSqNorm }` — feed it to
 *   `microBatchEstimate` (lib/noise) or a noise-scale estimator.
 * @throws ConfigError as {@link microBatchGradients}.
 * @example
 * const rec = microBatchGradNorms(model, task, batch, { microBatchSize: 64 });
 * microBatchEstimate(rec);
 */
export function microBatchGradNorms(
  model: tfl.LayersModel,
  task: Task,
  batch: StepBatch,
  opts: MicroBatchOptions,
): MicroBatchNorms & { batchSize: number; microBatchSizes: number[]; microBatchSqNorms: number[] } {
  let sizes: number[] = [];
  const stats = tf.tidy(() => {
    const r = microBatchGradients(model, task, batch, { ...opts, norms: true });
    sizes = r.sizes;
    return tf.stack([r.gradSqNorm as tf.Scalar, ...r.microBatchSqNorms]);
  });
  const v = stats.dataSync();
  stats.dispose();
  return {
    batchSize: batch.size,
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
 * @throws ConfigError naming the variable, ε or power.
 * @example checkPreconditioner(pre, trainableVariables(model));
 */
export function checkPreconditioner(pre: Preconditioner, vars: tf.Variable[]): void {
  requireNumber("preconditioner.epsilon", pre.epsilon, 0, true);
  requireNumber("preconditioner.power", pre.power ?? 1, 0);
  for (const v of vars) {
    const t = pre.vhat[v.name];
    if (t == null)
      throw new ConfigError(`preconditioner.vhat has no entry for variable '${v.name}'`);
    if (t.shape.join(",") !== v.shape.join(",")) {
      throw new ConfigError(
        `preconditioner.vhat['${v.name}'] has shape [${t.shape}], variable has [${v.shape}]`,
      );
    }
  }
}
