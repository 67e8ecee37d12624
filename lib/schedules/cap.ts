/**
 * The B_max cap of AdaDamp (Sievert & Charles 2019, Algorithm 1, lines 7–9), shared by the
 * "damper" schedules: above B_max the batch is capped and the step size scaled down.
 */
import { requireInt } from "./types";

/** The largest batch size a schedule represents: 2⁵³ − 1 stands for "unbounded". */
export const MAX_BATCH = Number.MAX_SAFE_INTEGER;

/** What {@link capBatchSize} returns. */
export interface CappedBatch {
  /** `min(B_k, B_max)`. */
  batchSize: number;
  /** `B_max / B_k` when `B_k > B_max`, else 1. */
  lrFactor: number;
}

/**
 * Caps a batch size at B_max and scales the step size to compensate:
 *
 * `if B_k > B_max: γ' = γ · B_max / B_k, B_k = B_max` — Sievert & Charles (2019,
 * arXiv:1910.08222), Algorithm 1, lines 7–9; the adadamp package's `BaseDamper.step` applies
 * it to every damper. Since the gradient noise variance is ∝ 1/B, the smaller step keeps
 * `γ/B` — the noise the update injects — what the uncapped batch would have given.
 *
 * @param batchSize - The uncapped B_k, integer ≥ 1 (up to 2⁵³ − 1).
 * @param maxBatchSize - B_max, integer ≥ 1.
 * @returns `{batchSize: min(B_k, B_max), lrFactor}` with lrFactor in (0, 1].
 * @throws ScheduleConfigError if either argument is not an integer ≥ 1.
 * @example
 * ```ts
 * capBatchSize(5000, 1000); // { batchSize: 1000, lrFactor: 0.2 }
 * capBatchSize(800, 1000); // { batchSize: 800, lrFactor: 1 }
 * ```
 */
export function capBatchSize(batchSize: number, maxBatchSize: number): CappedBatch {
  requireInt("batchSize", batchSize, 1);
  requireInt("maxBatchSize", maxBatchSize, 1);
  return batchSize > maxBatchSize
    ? { batchSize: maxBatchSize, lrFactor: maxBatchSize / batchSize }
    : { batchSize, lrFactor: 1 };
}

/**
 * The B_max a damper uses: the configured value, or — the adadamp package's default — the
 * training-set size n (but never below B_0).
 *
 * @param configured - B_max from the options, or undefined.
 * @param initialBatchSize - B_0.
 * @param datasetSize - n, from the observation.
 * @returns `configured ?? max(B_0, n)`.
 * @example resolveMaxBatchSize(undefined, 32, 60000) // 60000
 */
export function resolveMaxBatchSize(
  configured: number | undefined,
  initialBatchSize: number,
  datasetSize: number,
): number {
  return configured ?? Math.max(initialBatchSize, Math.floor(datasetSize));
}

/**
 * `⌈x⌉` clamped to [1, 2⁵³ − 1], tolerant of floating-point noise: values within 1e-9 above
 * an integer round down to it (so 0.1·30 = 3.0000000000000004 gives 3, not 4).
 *
 * @param x - Any number; NaN gives 1, +∞ gives 2⁵³ − 1.
 * @returns An integer batch size in [1, 2⁵³ − 1].
 * @example ceilBatch(3.0000000000000004) // 3
 */
export function ceilBatch(x: number): number {
  if (Number.isNaN(x)) return 1;
  if (x >= MAX_BATCH) return MAX_BATCH;
  return Math.max(1, Math.ceil(x - 1e-9));
}
