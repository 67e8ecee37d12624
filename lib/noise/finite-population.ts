/**
 * The finite-population correction of the noise-scale estimates: batches drawn without
 * replacement from n examples (the epoch sampler) have E|G_B|² = |G|² − tr(S)/n + tr(S)/B with
 * S = n/(n−1)·Σ_pop (McCandlish et al. 2018, eq. (1) with the (n−B)/(n−1) factor of sampling
 * without replacement; docs/design.md §1).
 */
import { ConfigError } from "../core/errors";
import type { NoiseEstimate } from "./types";

/**
 * Validates a training-set size n ≥ 2 (and n ≥ B when a batch size is given).
 * @throws ConfigError naming datasetSize and the value.
 */
export function checkDatasetSize(n: number, B?: number): void {
  if (!Number.isInteger(n) || n < 2) {
    throw new ConfigError(`datasetSize must be an integer >= 2, got ${n}`);
  }
  if (B != null && B > n) {
    throw new ConfigError(
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
