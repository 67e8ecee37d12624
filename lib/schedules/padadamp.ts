/**
 * PadaDamp (Sievert & Charles 2019): AdaDamp's batch growth without evaluating the loss,
 * `B_k = ⌈B_0 + r·k⌉`.
 */
import {
  heldFixedSchedule,
  resolveRecompute,
  type HeldSchedule,
  type RecomputeOptions,
} from "./dwell";
import { capBatchSize, ceilBatch, resolveMaxBatchSize } from "./cap";
import { requireInt, requireNumber } from "./types";

/** Parameters of {@link padaDampSchedule}. */
export interface PadaDampOptions extends RecomputeOptions {
  /** B_0, integer ≥ 1. */
  initialBatchSize: number;
  /** r, batch-size growth per model update (examples/update), finite ≥ 0. */
  growthRate: number;
  /** B_max, integer ≥ B_0; default the training-set size n (at least B_0). */
  maxBatchSize?: number;
}

/**
 * PadaDamp ("passive" AdaDamp): the batch grows linearly in the number of model updates,
 *
 * `B_k = ⌈B_0 + r·k⌉`, and above B_max: `B = B_max`, `lrFactor = B_max/B_k`
 *
 * — Sievert & Charles (2019, arXiv:1910.08222: for smooth convex functions AdaDamp's batch
 * grows like O(k), which PadaDamp approximates without evaluating F); the adadamp
 * package's `PadaDamp` (`B_0 + ⌈rate·k⌉`, identical for integer B_0) with `BaseDamper`'s
 * B_max cap. k = `obs.step`, the model updates completed. The package warns that it suits
 * convex and non-convex losses, not strongly convex (PL) ones, where AdaDamp's batch grows
 * geometrically. Departure: `⌈·⌉` ignores floating-point noise below 1e-9.
 *
 * Recomputation: by default before every update (Algorithm 1); with `dwell`/`wait` or
 * `preset: "adadamp"` (dwell 20, wait 100) only at k = 0 and at k ≥ wait with k mod dwell = 0,
 * B held in between — the package's `BaseDamper.step` ({@link recomputeDue}).
 *
 * @param opts - See {@link PadaDampOptions}.
 * @returns A stateless schedule named "padadamp".
 * @throws ScheduleConfigError (naming the parameter and value) on B_0 < 1, r < 0,
 *   B_max < B_0, dwell < 1, wait < 0 or an unknown preset.
 * @example
 * ```ts
 * padaDampSchedule({ initialBatchSize: 32, growthRate: 0.5 }); // k = 0, 1, 10: 32, 33, 37
 * padaDampSchedule({ initialBatchSize: 32, growthRate: 0.5, preset: "adadamp" });
 * // 32 until k = 100, then 82 for k = 100…119, 92 for k = 120…139, …
 * ```
 */
export function padaDampSchedule(opts: PadaDampOptions): HeldSchedule {
  const b0 = opts.initialBatchSize;
  requireInt("initialBatchSize", b0, 1);
  requireNumber("growthRate", opts.growthRate, 0, true);
  if (opts.maxBatchSize !== undefined) requireInt("maxBatchSize", opts.maxBatchSize, b0);
  const r = opts.growthRate;
  const rule = resolveRecompute(opts);
  return heldFixedSchedule(
    "padadamp",
    (obs) => {
      const bMax = resolveMaxBatchSize(opts.maxBatchSize, b0, obs.datasetSize);
      return capBatchSize(ceilBatch(b0 + r * obs.step), bMax);
    },
    rule,
  );
}
