/**
 * A learning-rate decay over the examples budget around any batch-size schedule: cosine (as in
 * the OLMo runs of Merrill et al. 2025, arXiv:2505.23971, §4.2, whose batch-size warmup keeps
 * the cosine schedule) or linear, to a final fraction of the base rate. The decay is a function
 * of examples processed, not of model updates, so runs with different batch sizes anneal at the
 * same point of the data.
 */
import type { BatchSchedule } from "./types";
import { requireInt, requireNumber, ScheduleConfigError } from "./types";
import { mapDecisions } from "./wrap";

/** Options of {@link withLrDecay}. */
export interface LrDecayOptions {
  /** E, the examples over which the factor goes from 1 to `finalFactor`, integer ≥ 1. */
  totalExamples: number;
  /** "cosine" (default) or "linear". */
  shape?: "cosine" | "linear";
  /** f_end ∈ [0, 1], the factor at E and after; default 0.1. */
  finalFactor?: number;
}

/**
 * The decay factor after `examples` examples (t = min(examples/E, 1)):
 *
 * cosine: `f_end + (1 − f_end)·(1 + cos πt)/2`; linear: `1 − (1 − f_end)·t`.
 *
 * @param examples - Examples processed, ≥ 0.
 * @param opts - See {@link LrDecayOptions}.
 * @returns A factor in [f_end, 1]: 1 at 0 examples, f_end from E on.
 * @throws ScheduleConfigError naming the option and value (E not an integer ≥ 1, f_end outside
 *   [0, 1], an unknown shape).
 * @example lrDecayFactor(500, { totalExamples: 1000, finalFactor: 0 }) // 0.5 (cosine midpoint)
 */
export function lrDecayFactor(examples: number, opts: LrDecayOptions): number {
  const { totalExamples, shape, finalFactor } = checkDecay(opts);
  const t = Math.min(Math.max(examples / totalExamples, 0), 1);
  if (shape === "linear") return 1 - (1 - finalFactor) * t;
  return finalFactor + (1 - finalFactor) * 0.5 * (1 + Math.cos(Math.PI * t));
}

function checkDecay(opts: LrDecayOptions): Required<LrDecayOptions> {
  requireInt("totalExamples", opts.totalExamples, 1);
  const shape = opts.shape ?? "cosine";
  if (shape !== "cosine" && shape !== "linear") {
    throw new ScheduleConfigError(`shape must be cosine or linear, got ${String(shape)}`);
  }
  const finalFactor = opts.finalFactor ?? 0.1;
  requireNumber("finalFactor", finalFactor, 0, true);
  if (finalFactor > 1) {
    throw new ScheduleConfigError(`finalFactor must be in [0, 1], got ${finalFactor}`);
  }
  return { totalExamples: opts.totalExamples, shape, finalFactor };
}

/**
 * `schedule` with its lrFactor multiplied by {@link lrDecayFactor} of the examples processed
 * before each update; batch sizes, measurements and state are the inner schedule's (the state
 * is the inner state itself, so a checkpoint of the wrapped schedule is the inner one's).
 *
 * @param schedule - Any batch-size schedule.
 * @param opts - See {@link LrDecayOptions}.
 * @returns A schedule named `<inner>+cosine` (or `+linear`).
 * @throws ScheduleConfigError naming a bad option.
 * @example
 * ```ts
 * const s = withLrDecay(constantSchedule({ batchSize: 64 }), { totalExamples: 60000 });
 * // lrFactor 1 at the start, 0.55 after 30000 examples, 0.1 at 60000
 * ```
 */
export function withLrDecay<S>(schedule: BatchSchedule<S>, opts: LrDecayOptions): BatchSchedule<S> {
  const o = checkDecay(opts);
  return mapDecisions(schedule, `${schedule.name}+${o.shape}`, (d, obs) => ({
    ...d,
    lrFactor: d.lrFactor * lrDecayFactor(obs.examples, o),
  }));
}
