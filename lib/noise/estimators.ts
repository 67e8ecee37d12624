/**
 * The gradient noise scale from squared gradient norms at two or more batch sizes
 * (McCandlish, Kaplan, Amodei 2018, "An Empirical Model of Large-Batch Training",
 * arXiv:1812.06162, §2.2 and Appendix A.1) — pure functions on plain numbers, plus a
 * serialisable state machine that keeps bias-corrected EMAs of the per-step estimates.
 *
 * Model. Per-example gradients g_x with mean G and covariance Σ; a batch of B examples drawn
 * independently (with replacement, or from an infinite stream) has mean gradient G_B with
 *
 *     E|G_B|² = |G|² + tr(Σ)/B.                                                      (1)
 *
 * Without replacement from a finite training set of n examples (our epoch sampler), Σ is the
 * population covariance Σ_pop = (1/n)Σ_x (g_x − G)(g_x − G)ᵀ and the variance of the batch
 * mean carries the finite-population correction (n−B)/(n−1):
 *
 *     E|G_B|² = |G|² + tr(Σ_pop)/B · (n−B)/(n−1) = |G|² − tr(S)/n + tr(S)/B,        (2)
 *
 * with S = n/(n−1)·Σ_pop. So the estimators below, which assume (1), estimate tr(S) in place
 * of tr(Σ) and |G|² − tr(S)/n in place of |G|²; {@link finitePopulationCorrection} undoes
 * both exactly (it is applied only when the caller gives the dataset size n).
 */
import type { NoiseObservation } from "../schedules/types";
import { LineFit, fitLine } from "./linfit";

/** Per-step estimates of |G|² and tr(Σ) (either may be negative: they are unbiased, not clipped). */
export interface NoiseEstimate {
  /** Unbiased estimate of |G|², the squared norm of the true gradient. */
  gradSqNorm: number;
  /** Unbiased estimate of tr(Σ), the trace of the per-example gradient covariance. */
  traceSigma: number;
}

/** One update's gradient norms as {@link trainStep} reports them (a `StepRecord` fits). */
export interface MicroBatchNorms {
  /** Sizes b_i of the micro-batches, integers ≥ 1. */
  microBatchSizes: readonly number[];
  /** |g_i|² of each micro-batch's mean gradient, same order, ≥ 0. */
  microBatchSqNorms: readonly number[];
  /** |G_B|² of the whole batch's mean gradient G_B = Σ (b_i/B) g_i. */
  gradSqNorm: number;
  /** B = Σ b_i; optional (checked when given). */
  batchSize?: number;
}

function requirePositive(name: string, v: number): void {
  if (!(Number.isFinite(v) && v > 0)) {
    throw new Error(`${name} must be a finite number > 0, got ${v}`);
  }
}

/**
 * Unbiased |G|² and tr(Σ) from the squared norms of mean gradients at two batch sizes.
 *
 * Formula (McCandlish et al. 2018, App. A.1), from E|G_B|² = |G|² + tr(Σ)/B at B_small and
 * B_big:
 *
 *     |G|² ≈ (B_big·|G_big|² − B_small·|G_small|²) / (B_big − B_small)
 *     tr(Σ) ≈ (|G_small|² − |G_big|²) / (1/B_small − 1/B_big)
 *
 * Each estimate is unbiased but noisy (and can be negative); average many before dividing.
 *
 * @param small - `{ batchSize: B_small, sqNorm: |G_small|² }`, B_small > 0 (any real, e.g. a
 *   mean micro-batch size), |G_small|² finite.
 * @param big - `{ batchSize: B_big, sqNorm: |G_big|² }`, B_big > B_small.
 * @returns `{ gradSqNorm, traceSigma }` in the squared units of the gradient.
 * @throws Error if a batch size is not > 0, B_small ≥ B_big, or a norm is not finite.
 * @example
 * // |G|² = 1, tr Σ = 16: E|G_4|² = 5, E|G_16|² = 2
 * twoBatchEstimate({ batchSize: 4, sqNorm: 5 }, { batchSize: 16, sqNorm: 2 });
 * // → { gradSqNorm: 1, traceSigma: 16 }
 */
export function twoBatchEstimate(
  small: { batchSize: number; sqNorm: number },
  big: { batchSize: number; sqNorm: number },
): NoiseEstimate {
  requirePositive("small.batchSize", small.batchSize);
  requirePositive("big.batchSize", big.batchSize);
  if (!(small.batchSize < big.batchSize)) {
    throw new Error(
      `small.batchSize must be < big.batchSize, got ${small.batchSize} and ${big.batchSize}`,
    );
  }
  if (!Number.isFinite(small.sqNorm))
    throw new Error(`small.sqNorm must be finite, got ${small.sqNorm}`);
  if (!Number.isFinite(big.sqNorm)) throw new Error(`big.sqNorm must be finite, got ${big.sqNorm}`);
  const bs = small.batchSize;
  const bb = big.batchSize;
  return {
    gradSqNorm: (bb * big.sqNorm - bs * small.sqNorm) / (bb - bs),
    traceSigma: (small.sqNorm - big.sqNorm) / (1 / bs - 1 / bb),
  };
}

/**
 * Checks a {@link MicroBatchNorms} record and returns B = Σ b_i.
 *
 * Formula: B = Σ_i b_i (must equal `batchSize` when that is given).
 *
 * @param rec - The record: k ≥ 1 integer sizes b_i ≥ 1 and k squared norms.
 * @returns B, the number of examples in the update.
 * @throws Error naming the field on inconsistent lengths, non-integer sizes, or a wrong B.
 * @example checkMicroBatchNorms({ microBatchSizes: [2, 3], microBatchSqNorms: [1, 2], gradSqNorm: 1 }); // 5
 */
export function checkMicroBatchNorms(rec: MicroBatchNorms): number {
  const { microBatchSizes: b, microBatchSqNorms: s } = rec;
  if (b.length !== s.length) {
    throw new Error(`microBatchSqNorms has ${s.length} values but microBatchSizes has ${b.length}`);
  }
  if (b.length === 0) throw new Error("microBatchSizes must not be empty");
  for (const bi of b) {
    if (!Number.isInteger(bi) || bi < 1) {
      throw new Error(`microBatchSizes must be integers >= 1, got ${bi}`);
    }
  }
  const B = b.reduce((p, q) => p + q, 0);
  if (rec.batchSize != null && rec.batchSize !== B) {
    throw new Error(`batchSize ${rec.batchSize} differs from the sum of microBatchSizes ${B}`);
  }
  return B;
}

/**
 * Per-step unbiased |G|² and tr(Σ) from one update's micro-batch norms: the micro-batches are
 * the "small" batches and the whole batch the "big" one, so the estimate costs nothing beyond
 * the norms {@link trainStep} already returns (McCandlish et al. 2018, App. A.1).
 *
 * Formula (exact for unequal micro-batch sizes). Write S_i = b_i·g_i for the sum of the
 * per-example gradients of micro-batch i, B = Σ b_i, and assume the examples are independent
 * draws, so E[g_x·g_y] = |G|² for distinct examples x ≠ y and E|g_x|² = |G|² + tr(Σ). Then
 *
 *     E|S_i|² = b_i·tr(Σ) + b_i²·|G|²
 *     B²|G_B|² = |Σ_i S_i|² = Σ_i |S_i|² + Σ_{i≠j} S_i·S_j
 *     ⇒ E[B²|G_B|² − Σ_i |S_i|²] = (B² − Σ_i b_i²)·|G|²,  E[Σ_i |S_i|²] = B·tr(Σ) + Σ_i b_i²·|G|²
 *
 * which gives the unbiased pair
 *
 *     |G|² ≈ (B²·|G_B|² − Σ_i b_i²|g_i|²) / (B² − Σ_i b_i²)
 *     tr(Σ) ≈ Σ_i b_i²·(|g_i|² − |G|²_est) / B.
 *
 * The |G|² estimate is the mean of the inner products g_x·g_y over all pairs of examples in
 * *different* micro-batches. With k equal micro-batches of size b = B/k this is exactly the
 * paper's two-batch pair with B_small = b, |G_small|² = mean_i |g_i|², B_big = B,
 * |G_big|² = |G_B|²: |G|² ≈ (k|G_B|² − mean|g_i|²)/(k−1), tr(Σ) ≈ bk(mean|g_i|² − |G_B|²)/(k−1).
 * With b_i = 1 (per-example norms) it is the Bessel-corrected sample covariance:
 * tr(Σ) ≈ B/(B−1)·(mean|g_x|² − |G_B|²).
 *
 * Sampling. The derivation assumes draws with replacement (E[g_x·g_y] = |G|²). Our sampler
 * draws without replacement within an epoch; then E[g_x·g_y] = |G|² − tr(Σ_pop)/(n−1) and the
 * pair above estimates tr(S) = n/(n−1)·tr(Σ_pop) and |G|² − tr(S)/n. Pass `datasetSize` to
 * apply {@link finitePopulationCorrection}, which makes both unbiased for the training set's
 * |G|² and population tr(Σ_pop); without it the |G|² bias is −tr(S)/n (relative −B_simple/n).
 * A batch that straddles two epochs is treated as if drawn from one (a small departure).
 *
 * @param rec - The update's micro-batch sizes b_i (k ≥ 1 integers), their |g_i|², and |G_B|².
 * @param opts.datasetSize - n, the number of training examples sampled without replacement
 *   (integer ≥ 2, ≥ B); omit for sampling with replacement / a stream (no correction).
 * @returns `{ gradSqNorm, traceSigma }`, or null with a single micro-batch (k = 1: no second
 *   batch size, no estimate). Values may be negative (noise); they are not clipped.
 * @throws Error on inconsistent records (lengths, sizes, B) or an invalid `datasetSize`.
 * @example
 * microBatchEstimate({ microBatchSizes: [2, 2], microBatchSqNorms: [3, 5], gradSqNorm: 3 });
 * // |G|² ≈ (16·3 − 4·3 − 4·5)/(16 − 8) = 2,  tr Σ ≈ (4·(3−2) + 4·(5−2))/4 = 4
 */
export function microBatchEstimate(
  rec: MicroBatchNorms,
  opts: { datasetSize?: number } = {},
): NoiseEstimate | null {
  const B = checkMicroBatchNorms(rec);
  const b = rec.microBatchSizes;
  const s = rec.microBatchSqNorms;
  if (opts.datasetSize != null) checkDatasetSize(opts.datasetSize, B);
  if (b.length < 2) return null;
  let sumB2 = 0;
  let sumB2S = 0;
  for (let i = 0; i < b.length; i++) {
    sumB2 += b[i] * b[i];
    sumB2S += b[i] * b[i] * s[i];
  }
  const gradSqNorm = (B * B * rec.gradSqNorm - sumB2S) / (B * B - sumB2);
  const traceSigma = (sumB2S - sumB2 * gradSqNorm) / B;
  const est = { gradSqNorm, traceSigma };
  return opts.datasetSize != null ? finitePopulationCorrection(est, opts.datasetSize) : est;
}

function checkDatasetSize(n: number, B?: number): void {
  if (!Number.isInteger(n) || n < 2) {
    throw new Error(`datasetSize must be an integer >= 2, got ${n}`);
  }
  if (B != null && B > n) {
    throw new Error(
      `datasetSize ${n} is smaller than the batch size ${B}: not a draw without replacement`,
    );
  }
}

/**
 * Converts with-replacement estimates into unbiased estimates for sampling without
 * replacement from a training set of n examples (the finite-population correction).
 *
 * Formula: from E|G_B|² = |G|² − tr(S)/n + tr(S)/B with S = n/(n−1)·Σ_pop (module comment,
 * eq. 2), the with-replacement estimators return tr(S) and |G|² − tr(S)/n, so
 *
 *     |G|² = |G|²_est + tr(Σ)_est/n,   tr(Σ_pop) = tr(Σ)_est·(n−1)/n.
 *
 * Departure: McCandlish et al. (2018) assume an infinite data distribution; this is the
 * standard survey-sampling result for the variance of a mean drawn without replacement
 * (Cochran, "Sampling Techniques", 3rd ed. 1977, ch. 2) applied to (1).
 *
 * @param est - Estimates computed under (1) from batches drawn without replacement.
 * @param n - Training-set size, integer ≥ 2.
 * @returns The corrected `{ gradSqNorm, traceSigma }` (population |G|² and tr(Σ_pop)).
 * @throws Error if n is not an integer ≥ 2.
 * @example
 * finitePopulationCorrection({ gradSqNorm: 0.9, traceSigma: 10 }, 100); // { 1.0, 9.9 }
 */
export function finitePopulationCorrection(est: NoiseEstimate, n: number): NoiseEstimate {
  checkDatasetSize(n);
  return {
    gradSqNorm: est.gradSqNorm + est.traceSigma / n,
    traceSigma: (est.traceSigma * (n - 1)) / n,
  };
}

/**
 * |G|², tr(Σ) and B_simple from squared batch-gradient norms at many batch sizes: a least-
 * squares line through (1/B, |G_B|²), whose intercept estimates |G|² and slope tr(Σ) by (1).
 *
 * Formula: |G_B|² ≈ |G|² + tr(Σ)·(1/B) (eq. 1; McCandlish et al. 2018, §2.2), fitted by
 * ordinary least squares over all samples (each sample one point, so batch sizes with more
 * samples weigh more; pass per-B means to weigh batch sizes equally). Departure: App. A.1
 * combines two batch sizes; with many, the line's intercept and slope are the natural
 * generalisation (and what the linear-regression test checks).
 *
 * @param samples - `{ batchSize, gradSqNorm }` pairs, B > 0, at least 2 distinct B.
 * @returns The line fit (residuals in squared-gradient units, R²) plus `gradSqNorm`
 *   (intercept), `traceSigma` (slope) and `bSimple` = slope/intercept (null if intercept ≤ 0).
 * @throws Error (from {@link fitLine}) for < 2 distinct B or non-finite values, or B ≤ 0.
 * @example
 * gradNormLineFit([{ batchSize: 4, gradSqNorm: 5 }, { batchSize: 16, gradSqNorm: 2 }]);
 * // { gradSqNorm: 1, traceSigma: 16, bSimple: 16, … }
 */
export function gradNormLineFit(
  samples: readonly { batchSize: number; gradSqNorm: number }[],
): LineFit & NoiseEstimate & { bSimple: number | null } {
  for (const s of samples) requirePositive("batchSize", s.batchSize);
  const fit = fitLine(
    samples.map((s) => 1 / s.batchSize),
    samples.map((s) => s.gradSqNorm),
  );
  return {
    ...fit,
    gradSqNorm: fit.intercept,
    traceSigma: fit.slope,
    bSimple: fit.intercept > 0 ? Math.max(0, fit.slope / fit.intercept) : null,
  };
}

// ---------------------------------------------------------------------------------------------
// Bias-corrected exponential moving average (plain, serialisable state)

/** State of a bias-corrected EMA: plain JSON. */
export interface EmaState {
  /** Decay β in [0, 1). */
  beta: number;
  /** The raw (biased) average m_t, starting from m_0 = 0. */
  value: number;
  /** Number of values absorbed, t ≥ 0. */
  count: number;
}

/**
 * A fresh bias-corrected EMA.
 * @param beta - Decay β in [0, 1); the average's memory is about 1/(1−β) values.
 * @returns `{ beta, value: 0, count: 0 }`.
 * @throws Error if β is not in [0, 1).
 * @example emaInit(0.9); // { beta: 0.9, value: 0, count: 0 }
 */
export function emaInit(beta: number): EmaState {
  if (!(Number.isFinite(beta) && beta >= 0 && beta < 1)) {
    throw new Error(`beta must be a number in [0, 1), got ${beta}`);
  }
  return { beta, value: 0, count: 0 };
}

/**
 * Absorbs one value: m_t = β·m_{t−1} + (1−β)·x_t (Kingma & Ba 2015, Adam, Algorithm 1).
 * @param s - The EMA state (not modified).
 * @param x - The new value, finite.
 * @returns The new state.
 * @throws Error if x is not finite.
 * @example emaUpdate(emaInit(0.5), 4); // { beta: 0.5, value: 2, count: 1 }
 */
export function emaUpdate(s: EmaState, x: number): EmaState {
  if (!Number.isFinite(x)) throw new Error(`EMA input must be finite, got ${x}`);
  return { beta: s.beta, value: s.beta * s.value + (1 - s.beta) * x, count: s.count + 1 };
}

/**
 * The bias-corrected average m̂_t = m_t/(1 − β^t) (Kingma & Ba 2015, §3): with m_0 = 0,
 * m_t = (1−β)Σ_{s≤t} β^{t−s} x_s, whose weights sum to 1 − β^t, so m̂_t is a weighted mean of
 * the x_s (a constant input is returned exactly).
 * @param s - The EMA state.
 * @returns m̂_t, or null before the first value (t = 0).
 * @example emaRead(emaUpdate(emaInit(0.5), 4)); // 4
 */
export function emaRead(s: EmaState): number | null {
  if (s.count === 0) return null;
  return s.value / (1 - Math.pow(s.beta, s.count));
}

// ---------------------------------------------------------------------------------------------
// The noise-scale estimator: a pure state machine over training steps

/** Options of {@link noiseScaleEstimator}. */
export interface NoiseScaleOptions {
  /** EMA decay β in [0, 1) for both averages (default 0.99: memory ≈ 100 updates). */
  beta?: number;
  /**
   * Training-set size n when batches are drawn without replacement (our epoch sampler);
   * enables {@link finitePopulationCorrection}. Omit for a stream / with replacement.
   */
  datasetSize?: number;
}

/** The estimator's complete state: plain JSON (checkpoints round-trip it). */
export interface NoiseScaleState {
  /** EMA of the per-step |G|² estimates. */
  gradSqNorm: EmaState;
  /** EMA of the per-step tr(Σ) estimates. */
  traceSigma: EmaState;
  /** Updates seen (with or without an estimate). */
  updates: number;
  /** Updates that gave no estimate (a single micro-batch, or a non-finite value). */
  skipped: number;
  /** The last per-step estimate absorbed, or null. */
  last: NoiseEstimate | null;
}

/** A gradient-noise-scale estimator: `init()`, then `update(state, record)` after each step. */
export interface NoiseScaleEstimator {
  /** The validated options, with defaults filled in. */
  readonly options: Readonly<{ beta: number; datasetSize: number | null }>;
  /** The initial state. */
  init(): NoiseScaleState;
  /** Absorbs one update's micro-batch norms (a `StepRecord` or `StepResult`). Pure. */
  update(state: NoiseScaleState, rec: MicroBatchNorms): NoiseScaleState;
  /** The current estimates, or null before the first estimate. Pure. */
  read(state: NoiseScaleState): NoiseObservation | null;
}

/**
 * The simple noise scale B_simple = tr(Σ)/|G|² as a ratio of bias-corrected EMAs of the
 * per-step unbiased estimates (McCandlish et al. 2018, App. A.1: "ratio of averages, not
 * average of ratios" — each per-step ratio is biased and heavy-tailed).
 *
 * Per step: {@link microBatchEstimate} (with the finite-population correction when
 * `datasetSize` is given); then m̂(|G|²) and m̂(tr Σ) as in {@link emaRead}; then
 *
 *     B_simple = max(0, m̂(tr Σ) / m̂(|G|²))  if m̂(|G|²) > 0,  else null.
 *
 * Guards (decisions): per-step estimates are kept in the EMAs even when negative — clipping
 * them at 0 would bias both averages upwards. A single-micro-batch step (k = 1) has no
 * estimate and is skipped (the EMA's t does not advance), as is a step whose estimate is not
 * finite. `read` reports the raw EMAs (possibly negative) and B_simple only when the |G|²
 * average is positive: m̂(|G|²) ≤ 0 means the signal is below the noise floor, B_simple is
 * undefined (formally ∞), and null tells a schedule "no usable estimate". A negative tr(Σ)
 * average (noise-free regime measured with noise) is clipped to B_simple = 0.
 *
 * @param opts - `beta` in [0, 1) (default 0.99); `datasetSize` integer ≥ 2 or omitted.
 * @returns A pure state machine `{ options, init, update, read }`; state is plain JSON.
 * @throws Error on invalid options (naming the option and value); `update` throws on an
 *   inconsistent record (see {@link checkMicroBatchNorms}).
 * @example
 * const est = noiseScaleEstimator({ beta: 0.95, datasetSize: 60000 });
 * let s = est.init();
 * s = est.update(s, stepRecord); // after each trainStep
 * est.read(s)?.bSimple;          // feeds Observation.noise
 */
export function noiseScaleEstimator(opts: NoiseScaleOptions = {}): NoiseScaleEstimator {
  const known = new Set(["beta", "datasetSize"]);
  for (const k of Object.keys(opts)) {
    if (!known.has(k)) throw new Error(`noiseScaleEstimator: unknown option '${k}'`);
  }
  const beta = opts.beta ?? 0.99;
  emaInit(beta); // validates
  const datasetSize = opts.datasetSize ?? null;
  if (datasetSize != null) checkDatasetSize(datasetSize);
  const options = Object.freeze({ beta, datasetSize });
  return {
    options,
    init: () => ({
      gradSqNorm: emaInit(beta),
      traceSigma: emaInit(beta),
      updates: 0,
      skipped: 0,
      last: null,
    }),
    update(state, rec) {
      const est = microBatchEstimate(rec, datasetSize != null ? { datasetSize } : {});
      const updates = state.updates + 1;
      if (est == null || !Number.isFinite(est.gradSqNorm) || !Number.isFinite(est.traceSigma)) {
        return { ...state, updates, skipped: state.skipped + 1 };
      }
      return {
        gradSqNorm: emaUpdate(state.gradSqNorm, est.gradSqNorm),
        traceSigma: emaUpdate(state.traceSigma, est.traceSigma),
        updates,
        skipped: state.skipped,
        last: est,
      };
    },
    read(state) {
      const g = emaRead(state.gradSqNorm);
      const t = emaRead(state.traceSigma);
      if (g == null || t == null) return null;
      return { gradSqNorm: g, traceSigma: t, bSimple: g > 0 ? Math.max(0, t / g) : null };
    },
  };
}
