/**
 * Anti-flapping for adaptive schedules: a proposed batch size replaces the current one only
 * when it differs by more than a relative threshold.
 */
import { requireNumber } from "./types";

/** The default relative change an adaptive schedule needs before it moves the batch: 5 %. */
export const DEFAULT_CHANGE_THRESHOLD = 0.05;

/**
 * Keeps the current batch size unless the proposed one differs from it by more than a
 * relative threshold:
 *
 * `B_new = proposed` if `|proposed − current| > threshold · current`, else `current`.
 *
 * Small oscillations of a noisy estimate (a loss on a fraction of the data, an EMA of
 * gradient norms) then leave B alone, so the training loop does not re-plan micro-batches or
 * re-trace kernels for a 1 % change. This is a pure function, shared by every adaptive
 * schedule (AdaDamp, RadaDamp, and the noise-scale / goodput schedules). Not in Sievert &
 * Charles (2019); the goodput scheduler of Pollux (Qiao et al., OSDI'21, §4) applies a
 * similar "change only when the predicted gain exceeds a threshold" rule.
 *
 * @param current - The batch size now in force, > 0 (any finite number; if it is not
 *   finite or ≤ 0 the proposal is taken as is).
 * @param proposed - The schedule's new proposal, > 0.
 * @param threshold - Relative threshold, finite and ≥ 0 (default 0.05). 0 accepts every
 *   change (the behaviour of the papers).
 * @returns `proposed` or `current`.
 * @throws ScheduleConfigError if `threshold` is negative or not finite.
 * @example
 * ```ts
 * applyChangeThreshold(100, 104); // 100 (4 % ≤ 5 %)
 * applyChangeThreshold(100, 106); // 106
 * applyChangeThreshold(100, 94, 0.05); // 94 (6 % drop)
 * ```
 */
export function applyChangeThreshold(
  current: number,
  proposed: number,
  threshold: number = DEFAULT_CHANGE_THRESHOLD,
): number {
  requireNumber("changeThreshold", threshold, 0, true);
  if (!(Number.isFinite(current) && current > 0)) return proposed;
  return Math.abs(proposed - current) > threshold * current ? proposed : current;
}
