/**
 * |G|² and tr(Σ) as the intercept and slope of the line E|G_B|² = |G|² + tr(Σ)·(1/B) fitted to
 * gradient norms measured at several batch sizes (McCandlish et al. 2018, eq. (1)).
 */
import { requirePositive } from "../core/validate";
import { LineFit, fitLine } from "./linfit";
import type { NoiseEstimate } from "./types";

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
