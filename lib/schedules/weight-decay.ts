/**
 * Weight decay that keeps its timescale when the batch size or the learning rate changes
 * ("Power Lines", Bergsma et al. 2025, arXiv:2505.13738): for AdamW the EMA timescale
 * τ = B/(η·λ·D) — in units of the D training examples — is what should stay fixed, so when a
 * schedule changes B or η, λ follows: λ = B/(η·τ·D), i.e. λ = λ₀·(B/B₀)·(η₀/η) relative to the
 * setting (B₀, η₀, λ₀) the run started from. The per-update decay η·λ = η₀·λ₀·B/B₀ then grows
 * with B, as the per-update step count it covers falls.
 */
import type { BatchSchedule } from "./types";
import { requireInt, requireNumber } from "./types";
import { mapDecisions } from "./wrap";

/**
 * τ = B/(η·λ·D), the AdamW timescale as a fraction of the D training examples (Bergsma et al.
 * 2025).
 * @param batchSize - B > 0. @param learningRate - η > 0. @param weightDecay - λ > 0.
 * @param datasetSize - D > 0 (examples).
 * @throws ScheduleConfigError naming a value that is not finite and > 0.
 * @example adamwTimescale(256, 1e-3, 0.1, 1_000_000) // 2.56
 */
export function adamwTimescale(
  batchSize: number,
  learningRate: number,
  weightDecay: number,
  datasetSize: number,
): number {
  requireNumber("batchSize", batchSize, 0);
  requireNumber("learningRate", learningRate, 0);
  requireNumber("weightDecay", weightDecay, 0);
  requireNumber("datasetSize", datasetSize, 0);
  return batchSize / (learningRate * weightDecay * datasetSize);
}

/**
 * The factor on λ₀ that keeps τ at its starting value: `(B/B₀)/lrFactor` (lrFactor = η/η₀);
 * 0 when lrFactor is 0 (no update moves the weights then, and λ would be unbounded).
 * @example timescaleWeightDecayFactor(256, 64, 2) // 2: B ×4, η ×2, so λ ×2
 */
export function timescaleWeightDecayFactor(
  batchSize: number,
  baseBatchSize: number,
  lrFactor: number,
): number {
  requireNumber("batchSize", batchSize, 0);
  requireNumber("baseBatchSize", baseBatchSize, 0);
  requireNumber("lrFactor", lrFactor, 0, true);
  return lrFactor === 0 ? 0 : batchSize / baseBatchSize / lrFactor;
}

/**
 * `schedule` with each decision's `weightDecayFactor` set by
 * {@link timescaleWeightDecayFactor} of its B and lrFactor, so that the loop sets the
 * optimizer's λ = λ₀·factor (AdamW, Lamb) and τ stays where it started; batch sizes, learning
 * rates and state are the inner schedule's. Named `<inner>+tau`.
 * @param opts - `baseBatchSize`: B₀, the batch size λ₀ was set for, integer ≥ 1.
 * @throws ScheduleConfigError naming a bad option.
 * @example withTimescaleWeightDecay(seesawSchedule(o), { baseBatchSize: 64 })
 */
export function withTimescaleWeightDecay<S>(
  schedule: BatchSchedule<S>,
  opts: { baseBatchSize: number },
): BatchSchedule<S> {
  requireInt("baseBatchSize", opts.baseBatchSize, 1);
  const b0 = opts.baseBatchSize;
  return mapDecisions(schedule, `${schedule.name}+tau`, (d) => ({
    ...d,
    weightDecayFactor:
      (d.weightDecayFactor ?? 1) * timescaleWeightDecayFactor(d.batchSize, b0, d.lrFactor),
  }));
}
