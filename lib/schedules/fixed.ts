/**
 * Fixed schedules as functions of training progress (optax-style: a schedule is a function of
 * the step count, here of update k, epoch, examples and n), and the one adapter that puts such a
 * function behind the loop's stateful {@link BatchSchedule} interface with an empty state.
 * constant, gd, geodamp, geodamplr, linear and padadamp are fixed schedules; the dampers that
 * read the loss or the noise scale keep their state machines.
 */
import type { BatchSchedule, Observation } from "./types";

/** What a fixed schedule may depend on: training progress, nothing measured. */
export type TrainingProgress = Pick<Observation, "step" | "epoch" | "examples" | "datasetSize">;

/** A fixed schedule's value at some progress: B (integer ≥ 1) and the LR factor. */
export interface ProgressDecision {
  batchSize: number;
  lrFactor: number;
}

/** A fixed batch-size schedule: a pure function of training progress. */
export type ProgressSchedule = (p: TrainingProgress) => ProgressDecision;

/** A fixed schedule usable by the loop, with its progress function exposed as `at`. */
export type FixedSchedule = BatchSchedule<Record<string, never>> & {
  readonly at: ProgressSchedule;
};

/**
 * Adapts a progress function to the loop's schedule interface (state `{}`, nothing to
 * checkpoint).
 * @example fixedSchedule("constant", () => ({ batchSize: 64, lrFactor: 1 })).at(progress)
 */
export function fixedSchedule(name: string, at: ProgressSchedule): FixedSchedule {
  return {
    name,
    at,
    init: () => ({}),
    update: (state, obs) => ({ ...at(obs), state }),
  };
}
