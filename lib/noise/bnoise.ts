/**
 * The full noise scale B_noise = tr(HΣ)/(GᵀHG) (McCandlish et al. 2018, §2.2), an opt-in
 * diagnostic: Hessian-vector products by central finite differences of gradients.
 *
 * Everything is measured on the examples the caller passes, treated as the population:
 * G = their mean gradient, H = the Hessian of their mean loss, Σ = the population covariance
 * (1/n)Σ_x (g_x − G)(g_x − G)ᵀ of their per-example gradients.
 */
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { StepBatch } from "../data/source";
import { splitBatch, trainableVariables } from "../grad/batch";
import type { Task } from "../grad/task";
import { batchTensors, checkBatch } from "../grad/batch";
import { ConfigError } from "../core/errors";

/** Default relative finite-difference step: ε_f32^{1/3} = 2^{−23/3} ≈ 4.9e-3. */
export const DEFAULT_FD_ETA = Math.cbrt(Math.pow(2, -23));

/** Options for gradient evaluations over a data set. */
export interface GradientOptions {
  /** Run the model in training mode; default false (dropout off, so gradients are deterministic). */
  training?: boolean;
}

/** Options of {@link hessianVectorProduct}. */
export interface HvpOptions extends GradientOptions {
  /** Relative step η > 0: the perturbation has norm h·|v| = η·(1 + |θ|). Default ε_f32^{1/3}. */
  eta?: number;
}

function checkBatches(task: Task, batches: readonly StepBatch[]): number {
  if (batches.length === 0) throw new ConfigError("batches must not be empty");
  for (const b of batches) checkBatch(task, b);
  return batches.reduce((p, b) => p + b.size, 0);
}

function dot(a: tf.NamedTensorMap, b: tf.NamedTensorMap): tf.Scalar {
  return tf.tidy(() => tf.addN(Object.keys(a).map((k) => tf.sum(tf.mul(a[k], b[k])))) as tf.Scalar);
}

/**
 * The mean gradient ∇L(θ) = (1/n)Σ_x ∇L_x(θ) over all examples of `batches` (each batch one
 * forward+backward pass).
 * @param model - tfjs-layers model; its trainable variables are differentiated.
 * @param task - Task giving the loss.
 * @param batches - One or more batches (n = Σ sizes ≥ 1 examples).
 * @param opts - `training` (default false).
 * @returns The gradient per trainable variable name (fresh tensors; dispose them).
 * @throws Error on an empty list or a malformed batch.
 * @example const G = meanGradient(model, task, [batch]); tf.dispose(Object.values(G));
 */
export function meanGradient(
  model: tfl.LayersModel,
  task: Task,
  batches: readonly StepBatch[],
  opts: GradientOptions = {},
): tf.NamedTensorMap {
  const n = checkBatches(task, batches);
  const vars = trainableVariables(model);
  const training = opts.training ?? false;
  return tf.tidy(() => {
    let acc: tf.NamedTensorMap | null = null;
    for (const batch of batches) {
      const { x, y } = batchTensors(task, batch, 0, batch.size);
      const { grads } = tf.variableGrads(() => task.lossSum(model, x, y, training), vars);
      const prev: tf.NamedTensorMap | null = acc;
      acc =
        prev == null
          ? grads
          : Object.fromEntries(Object.entries(grads).map(([k, g]) => [k, tf.add(prev[k], g)]));
    }
    const sum = acc as unknown as tf.NamedTensorMap;
    return Object.fromEntries(Object.entries(sum).map(([k, g]) => [k, tf.div(g, n)]));
  });
}

/**
 * Hessian-vector product H·v of the mean loss over `batches` by a central difference of
 * gradients.
 *
 * Formula: H·v ≈ (∇L(θ + h·v) − ∇L(θ − h·v)) / (2h), with h = η·(1 + |θ|)/|v|.
 *
 * Step size: the central difference has truncation error O(h²·|∇³L|) and rounding error
 * O(ε·|∇L|/h) with float32 ε = 2⁻²³; balancing them gives h ∝ ε^{1/3}, scaled with the
 * parameters (Nocedal & Wright, "Numerical Optimization", 2nd ed., §8.1, central differences),
 * so the default η = ε^{1/3} ≈ 4.9e-3 moves θ by about 0.5% of (1 + |θ|). For a quadratic loss
 * the difference is exact for any h (the gradient is linear in θ). ReLU kinks inside ±h·v make
 * it a smoothed curvature. Departure: Pearlmutter's exact R-operator needs forward-mode or
 * double backprop, which tfjs lacks for several training kernels on wasm.
 *
 * The model's variables are restored bit for bit afterwards (also on error).
 *
 * @param model - tfjs-layers model; its trainable variables are perturbed.
 * @param task - Task giving the loss.
 * @param batches - The examples defining L (n ≥ 1).
 * @param v - Direction per trainable variable name (same shapes), |v| > 0.
 * @param opts - `eta` > 0 (default ε_f32^{1/3}), `training` (default false).
 * @returns `{ hv, h }`: H·v per variable name (fresh tensors; dispose) and the step h used.
 * @throws Error if v misses a variable, |v| = 0 or is not finite, or eta ≤ 0.
 * @example
 * const { hv } = hessianVectorProduct(model, task, [batch], G);
 */
export function hessianVectorProduct(
  model: tfl.LayersModel,
  task: Task,
  batches: readonly StepBatch[],
  v: tf.NamedTensorMap,
  opts: HvpOptions = {},
): { hv: tf.NamedTensorMap; h: number } {
  checkBatches(task, batches);
  const eta = opts.eta ?? DEFAULT_FD_ETA;
  if (!(Number.isFinite(eta) && eta > 0))
    throw new ConfigError(`eta must be a finite number > 0, got ${eta}`);
  const vars = trainableVariables(model);
  for (const w of vars) {
    if (v[w.name] == null)
      throw new ConfigError(`direction v has no entry for variable '${w.name}'`);
  }
  const norms = tf.tidy(() =>
    tf.stack([
      tf.addN(vars.map((w) => tf.sum(tf.square(w)))),
      tf.addN(vars.map((w) => tf.sum(tf.square(v[w.name])))),
    ]),
  );
  const [thetaSq, vSq] = norms.dataSync();
  norms.dispose();
  if (!(Number.isFinite(vSq) && vSq > 0))
    throw new ConfigError(`direction v must have a finite norm > 0, got |v|² = ${vSq}`);
  const h = (eta * (1 + Math.sqrt(thetaSq))) / Math.sqrt(vSq);
  const saved = vars.map((w) => tf.clone(w));
  let plus: tf.NamedTensorMap | null = null;
  let minus: tf.NamedTensorMap | null = null;
  try {
    const shift = (sign: number) =>
      tf.tidy(() =>
        vars.forEach((w, i) => w.assign(tf.add(saved[i], tf.mul(v[w.name], sign * h)))),
      );
    shift(1);
    plus = meanGradient(model, task, batches, opts);
    shift(-1);
    minus = meanGradient(model, task, batches, opts);
    const p = plus;
    const m = minus;
    const hv = tf.tidy(() =>
      Object.fromEntries(Object.keys(p).map((k) => [k, tf.div(tf.sub(p[k], m[k]), 2 * h)])),
    );
    return { hv, h };
  } finally {
    vars.forEach((w, i) => w.assign(saved[i]));
    tf.dispose(saved);
    if (plus != null) tf.dispose(Object.values(plus));
    if (minus != null) tf.dispose(Object.values(minus));
  }
}

/** Options of {@link estimateBNoise}. */
export interface BNoiseOptions extends HvpOptions {
  /**
   * Examples per gradient sample for Σ: 1 (default) = exact per-example gradients; b > 1 =
   * consecutive groups of ≤ b examples within each batch (shuffle the data first), cheaper and
   * noisier, corrected by b(n−1)/(n−b).
   */
  groupSize?: number;
  /** Use at most this many gradient samples (the first ones), integer ≥ 2; default all. */
  maxDirections?: number;
}

/** What {@link estimateBNoise} measured. */
export interface BNoiseResult {
  /** GᵀHG (curvature along the mean gradient, times |G|²). */
  gHg: number;
  /** tr(HΣ) estimate. */
  traceHSigma: number;
  /** B_noise = tr(HΣ)/(GᵀHG), or null when GᵀHG ≤ 0 (not a descent-curvature regime). */
  bNoise: number | null;
  /** |G|² of the mean gradient over the examples. */
  gradSqNorm: number;
  /** tr(Σ) from the same gradient samples (population covariance). */
  traceSigma: number;
  /** B_simple = tr(Σ)/|G|² from the same samples (null when |G|² = 0). */
  bSimple: number | null;
  /** Number of examples n. */
  examples: number;
  /** Gradient samples (directions) used for Σ. */
  directions: number;
  /** Hessian-vector products computed (directions + 1, minus any zero directions). */
  hvps: number;
}

/**
 * The full noise scale B_noise = tr(HΣ)/(GᵀHG) of the examples in `batches`.
 *
 * Estimator. G = (1/n)Σ_x g_x; GᵀHG = G·(H·G) with one Hessian-vector product
 * ({@link hessianVectorProduct}, v = G). With groups j of sizes b_j (b_j = 1: single
 * examples) and d_j = ḡ_j − G (ḡ_j the group's mean gradient),
 *
 *     tr(HΣ) ≈ (1/m) Σ_j w_j · d_jᵀ H d_j,    tr(Σ) ≈ (1/m) Σ_j w_j · |d_j|²,
 *     w_j = b_j (n−1)/(n−b_j),
 *
 * over the m groups used. Reason: a group of b examples drawn without replacement from the n
 * has Cov(ḡ) = Σ/b · (n−b)/(n−1), so E[d_jᵀHd_j] = tr(HΣ)·(n−b)/(b(n−1)). With b = 1 and all n
 * examples (the default) both sums are exact population values (w = 1) — a sum over x of
 * (g_x − G)ᵀH(g_x − G)/n. Departure: for b > 1 the groups are a fixed, not random, partition,
 * so the correction is unbiased only over shufflings of the data.
 *
 * Cost: (m + 1) Hessian-vector products × 2 gradient passes over all n examples, plus one pass
 * for G and m group gradients: ≈ 2(m + 1) + 1 epochs of the given data. Keep n small
 * (tens to a few hundred examples) or use `groupSize`/`maxDirections`.
 *
 * @param model - tfjs-layers model (restored exactly afterwards).
 * @param task - Task giving the loss.
 * @param batches - The examples (n ≥ 2, and n > groupSize).
 * @param opts - `groupSize` (integer ≥ 1, default 1), `maxDirections` (integer ≥ 2),
 *   `eta` (finite-difference step, see {@link hessianVectorProduct}), `training` (default false).
 * @returns {@link BNoiseResult}.
 * @throws Error for < 2 groups, n ≤ groupSize, invalid options, or a malformed batch.
 * @example
 * const r = estimateBNoise(model, task, [batch]); // per-example, exact on these examples
 * console.log(r.bNoise, r.bSimple);
 */
export function estimateBNoise(
  model: tfl.LayersModel,
  task: Task,
  batches: readonly StepBatch[],
  opts: BNoiseOptions = {},
): BNoiseResult {
  const n = checkBatches(task, batches);
  const groupSize = opts.groupSize ?? 1;
  if (!Number.isInteger(groupSize) || groupSize < 1) {
    throw new ConfigError(`groupSize must be an integer >= 1, got ${groupSize}`);
  }
  if (n <= groupSize)
    throw new ConfigError(`need more than groupSize = ${groupSize} examples, got ${n}`);
  const groups: { batch: StepBatch; start: number; size: number }[] = [];
  for (const batch of batches) {
    let start = 0;
    for (const size of splitBatch(batch.size, groupSize)) {
      groups.push({ batch, start, size });
      start += size;
    }
  }
  const maxDir = opts.maxDirections ?? groups.length;
  if (!Number.isInteger(maxDir) || maxDir < 2) {
    throw new ConfigError(`maxDirections must be an integer >= 2, got ${maxDir}`);
  }
  const used = groups.slice(0, maxDir);
  if (used.length < 2)
    throw new ConfigError(`need at least 2 gradient samples, got ${used.length}`);
  const vars = trainableVariables(model);
  const training = opts.training ?? false;

  const G = meanGradient(model, task, batches, { training });
  try {
    const gg = dot(G, G);
    const gradSqNorm = gg.dataSync()[0];
    gg.dispose();
    let gHg = 0;
    if (gradSqNorm > 0) {
      const { hv } = hessianVectorProduct(model, task, batches, G, opts);
      const s = dot(G, hv);
      gHg = s.dataSync()[0];
      s.dispose();
      tf.dispose(Object.values(hv));
    }
    let hvps = gradSqNorm > 0 ? 1 : 0;
    let sumQ = 0;
    let sumS = 0;
    for (const g of used) {
      const w = (g.size * (n - 1)) / (n - g.size);
      const dj = tf.tidy(() => {
        const { x, y } = batchTensors(task, g.batch, g.start, g.size);
        const { grads } = tf.variableGrads(
          () => tf.div(task.lossSum(model, x, y, training), g.size) as tf.Scalar,
          vars,
        );
        return Object.fromEntries(Object.entries(grads).map(([k, t]) => [k, tf.sub(t, G[k])]));
      });
      try {
        const ss = dot(dj, dj);
        const s = ss.dataSync()[0];
        ss.dispose();
        let q = 0;
        if (s > 0) {
          const { hv } = hessianVectorProduct(model, task, batches, dj, opts);
          hvps++;
          const qq = dot(dj, hv);
          q = qq.dataSync()[0];
          qq.dispose();
          tf.dispose(Object.values(hv));
        }
        sumQ += w * q;
        sumS += w * s;
      } finally {
        tf.dispose(Object.values(dj));
      }
    }
    const m = used.length;
    const traceHSigma = sumQ / m;
    const traceSigma = sumS / m;
    return {
      gHg,
      traceHSigma,
      bNoise: gHg > 0 ? traceHSigma / gHg : null,
      gradSqNorm,
      traceSigma,
      bSimple: gradSqNorm > 0 ? traceSigma / gradSqNorm : null,
      examples: n,
      directions: m,
      hvps,
    };
  } finally {
    tf.dispose(Object.values(G));
  }
}
