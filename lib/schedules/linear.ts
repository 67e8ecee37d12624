/**
 * Batch size growing linearly in epochs, `B = ⌈B_0 (1 + r·epoch)⌉` (Sievert & Charles 2019).
 */
import {
  heldFixedSchedule,
  resolveRecompute,
  type HeldSchedule,
  type RecomputeOptions,
} from "./dwell";
import { capBatchSize, ceilBatch, resolveMaxBatchSize } from "./cap";
import { requireInt, requireNumber } from "./types";

/** Parameters of {@link linearSchedule}. */
export interface LinearOptions extends RecomputeOptions {
  /** B_0, integer ≥ 1. */
  initialBatchSize: number;
  /** r, relative growth per epoch (r = 1: B grows by B_0 every epoch), finite ≥ 0. */
  growthRate: number;
  /** B_max, integer ≥ B_0; default the training-set size n (at least B_0). */
  maxBatchSize?: number;
}

/**
 * Linear-in-epochs batch growth:
 *
 * `B(e) = ⌈B_0 (1 + r·e)⌉`, e = examples processed / n (fractional epochs), and above
 * B_max: `B = B_max`, `lrFactor = B_max/B(e)` (the AdaDamp cap, as the adadamp package
 * applies to every damper).
 *
 * Source: Sievert & Charles (2019, arXiv:1910.08222) — "our upper bounds suggest
 * B_epoch ∝ r·epoch" (seed 001's slides; for convex smooth functions AdaDamp's batch grows
 * linearly). The paper gives only the proportionality; this schedule fixes B(0) = B_0 so that
 * r is a relative rate (B doubles after 1/r epochs). The alternative `B_0 + r·epoch` is
 * `linearSchedule({initialBatchSize: B_0, growthRate: r/B_0})` up to rounding. The batch
 * changes continuously (every update), not once per epoch. Departure: `⌈·⌉` ignores
 * floating-point noise below 1e-9. With `dwell`/`wait` or `preset: "adadamp"` B is
 * recomputed only at k = 0 and at k ≥ wait with k mod dwell = 0 and held in between (the
 * adadamp package's `BaseDamper.step`, {@link recomputeDue}); default every update.
 *
 * @param opts - See {@link LinearOptions}.
 * @returns A stateless schedule named "linear".
 * @throws ScheduleConfigError (naming the parameter and value) on B_0 < 1, r < 0,
 *   B_max < B_0, dwell < 1, wait < 0 or an unknown preset.
 * @example
 * ```ts
 * linearSchedule({ initialBatchSize: 64, growthRate: 0.5 }); // epochs 0, 1, 2.5: 64, 96, 144
 * ```
 */
export function linearSchedule(opts: LinearOptions): HeldSchedule {
  const b0 = opts.initialBatchSize;
  requireInt("initialBatchSize", b0, 1);
  requireNumber("growthRate", opts.growthRate, 0, true);
  if (opts.maxBatchSize !== undefined) requireInt("maxBatchSize", opts.maxBatchSize, b0);
  const r = opts.growthRate;
  const rule = resolveRecompute(opts);
  return heldFixedSchedule(
    "linear",
    (obs) => {
      const bMax = resolveMaxBatchSize(opts.maxBatchSize, b0, obs.datasetSize);
      return capBatchSize(ceilBatch(b0 * (1 + r * obs.epoch)), bMax);
    },
    rule,
  );
}
