import {
  heldFixedSchedule,
  resolveRecompute,
  type HeldSchedule,
  type RecomputeOptions,
} from "./dwell";
import { requireInt, requireNumber } from "./types";

/** Parameters of {@link geoDampSchedule}. */
export interface GeoDampOptions extends RecomputeOptions {
  /** Initial batch size B_0, integer ≥ 1. */
  initialBatchSize: number;
  /** Growth factor per period, > 1 (default 2: doubling). */
  factor?: number;
  /** Epochs per period ("delay"), > 0. */
  delay: number;
  /** Largest batch size B_max ≥ B_0 (default: unbounded). */
  maxBatchSize?: number;
}

/**
 * GeoDamp: the batch grows geometrically with epochs,
 * `B = min(B_max, ⌈B_0 · factor^⌊epoch / delay⌋⌉)`, learning rate fixed — the "increase the
 * batch size instead of decaying the learning rate" schedule of Smith, Kindermans, Ying & Le
 * (2017, arXiv:1711.00489, §2), as named in the adadamp package.
 *
 * `epoch` is the fractional epoch count (examples processed / n), so the batch changes at the
 * first update that starts at or after each multiple of `delay` epochs.
 *
 * Recomputation: by default before every update (Algorithm 1 of Sievert & Charles 2019);
 * with `dwell`/`wait` or `preset: "adadamp"` (dwell 20, wait 100) only at k = 0 and at
 * k ≥ wait with k mod dwell = 0, from the epochs at that update, and held in between — the
 * adadamp package's `BaseDamper.step` with `GeoDamp.damping` ({@link recomputeDue}).
 *
 * @throws ScheduleConfigError on B_0 < 1, factor ≤ 1, delay ≤ 0, B_max < B_0, dwell < 1,
 *   wait < 0 or an unknown preset.
 * @example geoDampSchedule({ initialBatchSize: 64, delay: 1 }) // 64, 128, 256, … per epoch
 */
export function geoDampSchedule(opts: GeoDampOptions): HeldSchedule {
  const { initialBatchSize: b0, delay } = opts;
  const factor = opts.factor ?? 2;
  const bMax = opts.maxBatchSize ?? Number.MAX_SAFE_INTEGER;
  requireInt("initialBatchSize", b0, 1);
  requireNumber("factor", factor, 1);
  requireNumber("delay", delay, 0);
  requireInt("maxBatchSize", bMax, b0);
  const rule = resolveRecompute(opts);
  return heldFixedSchedule(
    "geodamp",
    (obs) => {
      // Guard against float noise: epoch 2.9999999 from 179999.99/60000 should not floor to 2.
      const periods = Math.floor(obs.epoch / delay + 1e-9);
      const b = Math.min(bMax, Math.ceil(b0 * Math.pow(factor, periods) - 1e-9));
      return { batchSize: b, lrFactor: 1 };
    },
    rule,
  );
}

/** Parameters of {@link geoDampLRSchedule}. */
export interface GeoDampLROptions extends RecomputeOptions {
  /** The fixed batch size B (the package's `initial_batch_size`), integer ≥ 1. */
  initialBatchSize: number;
  /** Learning-rate decay factor per period, > 1 (default 2: halving). */
  factor?: number;
  /** Epochs per period ("delay"), > 0. */
  delay: number;
}

/**
 * GeoDampLR: GeoDamp's schedule applied as learning-rate decay at a fixed batch size,
 *
 * `B = B_0`, `lrFactor = factor^−⌊epoch / delay⌋`
 *
 * — the step-decay baseline that Smith, Kindermans, Ying & Le (2017, arXiv:1711.00489, §2)
 * show is matched by growing the batch instead; the adadamp package's `GeoDampLR`
 * (GeoDamp with `max_batch_size = B_0`, so its B_max cap turns the batch growth into the
 * step-size factor `B_0 / (B_0 · factor^p) = factor^−p`). `epoch` is fractional
 * (examples / n), with the same 1e-9 tolerance at period boundaries as
 * {@link geoDampSchedule}. `dwell`, `wait` and `preset` as in {@link geoDampSchedule}.
 *
 * @param opts - See {@link GeoDampLROptions}.
 * @returns A stateless schedule named "geodamplr".
 * @throws ScheduleConfigError on B_0 < 1, factor ≤ 1, delay ≤ 0, dwell < 1, wait < 0 or an
 *   unknown preset (naming parameter and value).
 * @example
 * ```ts
 * geoDampLRSchedule({ initialBatchSize: 128, delay: 5 }); // lrFactor 1, ½, ¼ at epochs 0, 5, 10
 * ```
 */
export function geoDampLRSchedule(opts: GeoDampLROptions): HeldSchedule {
  const { initialBatchSize: b0, delay } = opts;
  const factor = opts.factor ?? 2;
  requireInt("initialBatchSize", b0, 1);
  requireNumber("factor", factor, 1);
  requireNumber("delay", delay, 0);
  const rule = resolveRecompute(opts);
  return heldFixedSchedule(
    "geodamplr",
    (obs) => {
      const periods = Math.floor(obs.epoch / delay + 1e-9);
      return { batchSize: b0, lrFactor: Math.pow(factor, -periods) };
    },
    rule,
  );
}
