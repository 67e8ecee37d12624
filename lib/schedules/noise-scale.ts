import { applyChangeThreshold, DEFAULT_CHANGE_THRESHOLD } from "./threshold";
import { BatchSchedule, requireInt, requireNumber } from "./types";

/** Parameters of {@link noiseScaleSchedule}. */
export interface NoiseScaleScheduleOptions {
  /** B_0, used until the estimator has an estimate; integer ≥ 1. */
  initialBatchSize: number;
  /** Smallest batch B_min, integer ≥ 1 (default 1). */
  minBatchSize?: number;
  /** Largest batch B_max ≥ max(B_min, B_0) (default: the training-set size). */
  maxBatchSize?: number;
  /** B = multiplier · B_simple before clipping; > 0 (default 1). */
  multiplier?: number;
  /** Anti-flapping: keep B unless the target differs by more than this fraction (default 0.05). */
  changeThreshold?: number;
}

/** State of {@link noiseScaleSchedule}: the batch size in force. */
export interface NoiseScaleScheduleState {
  batchSize: number;
}

/**
 * Batch size that follows the gradient noise scale:
 * `B = clip(round(multiplier · B_simple), B_min, B_max)`, where B_simple = tr(Σ)/|G|² is the
 * ratio of the bias-corrected EMAs from the noise-scale estimator (`obs.noise`). Before the
 * first estimate (or while |G|² is below the noise floor, `bSimple` null) the batch stays at
 * B_0. The change is applied only when it exceeds `changeThreshold` of the current batch.
 *
 * Source: McCandlish, Kaplan, Amodei 2018 (arXiv:1812.06162), §2.2 and §3: the critical batch
 * B_crit ≈ B_noise, with B_simple as its practical estimate; training at B ≈ B_noise balances
 * model updates against examples processed. Departure: the paper measures B_simple and
 * recommends B; here B follows the running estimate during training (as AdaptDL/Pollux do).
 *
 * @throws ScheduleConfigError on B_0 < 1, B_min < 1, B_max < max(B_min, B_0), multiplier ≤ 0 or
 *   threshold < 0, naming the parameter and value.
 * @example noiseScaleSchedule({ initialBatchSize: 64, maxBatchSize: 4096 })
 */
export function noiseScaleSchedule(
  opts: NoiseScaleScheduleOptions,
  ctx: { datasetSize: number },
): BatchSchedule<NoiseScaleScheduleState> {
  const b0 = opts.initialBatchSize;
  requireInt("initialBatchSize", b0, 1);
  const bMin = opts.minBatchSize ?? 1;
  requireInt("minBatchSize", bMin, 1);
  const bMax = opts.maxBatchSize ?? Math.max(ctx.datasetSize, b0);
  requireInt("maxBatchSize", bMax, Math.max(bMin, b0));
  const mult = opts.multiplier ?? 1;
  requireNumber("multiplier", mult, 0);
  const threshold = opts.changeThreshold ?? DEFAULT_CHANGE_THRESHOLD;
  requireNumber("changeThreshold", threshold, 0, true);
  return {
    name: "noise-scale",
    init: () => ({ batchSize: b0 }),
    update(state, obs) {
      const bs = obs.noise?.bSimple;
      if (bs == null || !Number.isFinite(bs))
        return { batchSize: state.batchSize, lrFactor: 1, state };
      const target = Math.min(bMax, Math.max(bMin, Math.round(mult * bs)));
      const b = applyChangeThreshold(state.batchSize, target, threshold);
      return { batchSize: b, lrFactor: 1, state: { batchSize: b } };
    },
  };
}
