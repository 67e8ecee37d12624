/**
 * Unbiased |G|² and tr(Σ) from squared gradient norms at two batch sizes
 * (McCandlish, Kaplan, Amodei 2018, "An Empirical Model of Large-Batch Training",
 * arXiv:1812.06162, §2.2 and Appendix A.1) — a pure function on plain numbers.
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
import { ConfigError } from "../core/errors";
import { requirePositive } from "../core/validate";
import type { NoiseEstimate } from "./types";

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
    throw new ConfigError(
      `small.batchSize must be < big.batchSize, got ${small.batchSize} and ${big.batchSize}`,
    );
  }
  if (!Number.isFinite(small.sqNorm))
    throw new ConfigError(`small.sqNorm must be finite, got ${small.sqNorm}`);
  if (!Number.isFinite(big.sqNorm))
    throw new ConfigError(`big.sqNorm must be finite, got ${big.sqNorm}`);
  const bs = small.batchSize;
  const bb = big.batchSize;
  return {
    gradSqNorm: (bb * big.sqNorm - bs * small.sqNorm) / (bb - bs),
    traceSigma: (small.sqNorm - big.sqNorm) / (1 / bs - 1 / bb),
  };
}
