/**
 * Unbiased |G|² and tr(Σ) from one update's micro-batch norms b_i, |g_i|² and |G_B|²
 * (McCandlish et al. 2018, App. A.1, generalised to k ≥ 2 micro-batches of unequal sizes; the
 * derivation is in the docstring of microBatchEstimate and docs/design.md §1).
 */
import { ConfigError } from "../core/errors";
import type { MicroBatchNorms } from "../grad/types";
import { checkDatasetSize, finitePopulationCorrection } from "./finite-population";
import type { NoiseEstimate } from "./types";

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
    throw new ConfigError(
      `microBatchSqNorms has ${s.length} values but microBatchSizes has ${b.length}`,
    );
  }
  if (b.length === 0) throw new ConfigError("microBatchSizes must not be empty");
  for (const bi of b) {
    if (!Number.isInteger(bi) || bi < 1) {
      throw new ConfigError(`microBatchSizes must be integers >= 1, got ${bi}`);
    }
  }
  const B = b.reduce((p, q) => p + q, 0);
  if (rec.batchSize != null && rec.batchSize !== B) {
    throw new ConfigError(
      `batchSize ${rec.batchSize} differs from the sum of microBatchSizes ${B}`,
    );
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
