/**
 * The gradient-noise-scale estimator the training loop runs: bias-corrected EMAs of the
 * per-update unbiased |G|² and tr(Σ) estimates, B_simple = tr(Σ)/|G|² as their ratio
 * (McCandlish et al. 2018, App. A.1: "we average the estimates of |G|² and tr(Σ) separately
 * before taking their ratio"). A pure state machine over plain JSON.
 */
import { ConfigError } from "../core/errors";
import type { MicroBatchNorms } from "../grad/types";
import { emaInit, emaRead, emaUpdate, type EmaState } from "./ema";
import { checkDatasetSize } from "./finite-population";
import { microBatchEstimate } from "./micro-batch-estimate";
import type { NoiseEstimate, NoiseObservation } from "./types";

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
    if (!known.has(k)) throw new ConfigError(`noiseScaleEstimator: unknown option '${k}'`);
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
