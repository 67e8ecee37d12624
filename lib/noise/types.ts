/**
 * The numbers the noise-scale estimators produce (McCandlish, Kaplan, Amodei 2018, "An
 * Empirical Model of Large-Batch Training", arXiv:1812.06162, §2.2 and App. A.1; the formulas
 * are collected in docs/design.md §1).
 */

/** Per-step estimates of |G|² and tr(Σ) (either may be negative: they are unbiased, not clipped). */
export interface NoiseEstimate {
  /** Unbiased estimate of |G|², the squared norm of the true gradient. */
  gradSqNorm: number;
  /** Unbiased estimate of tr(Σ), the trace of the per-example gradient covariance. */
  traceSigma: number;
}

/** The noise-scale estimates a schedule may use (McCandlish et al. 2018, App. A.1). */
export interface NoiseObservation {
  /** EMA estimate of |G|², the squared norm of the true gradient. */
  gradSqNorm: number;
  /** EMA estimate of tr(Σ), the trace of the per-example gradient covariance. */
  traceSigma: number;
  /** B_simple = tr(Σ)/|G|² (ratio of the EMAs), or null when |G|² ≤ 0. */
  bSimple: number | null;
}
