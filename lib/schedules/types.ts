/**
 * The interface every batch-size schedule implements (DESIGN.md §4): a pure state machine
 * whose state is plain JSON, so checkpoints can round-trip it.
 */

/** What the training loop tells a schedule before each model update. */
export interface Observation {
  /** Model updates completed so far (k in the papers), integer ≥ 0. */
  step: number;
  /** Completed epochs as a fraction: examples processed / training-set size. */
  epoch: number;
  /** Training examples processed so far. */
  examples: number;
  /** Training-set size n. */
  datasetSize: number;
  /** Mean training loss of the previous update's batch, or null before the first. */
  lastLoss: number | null;
}

/** A schedule's decision for the next model update. */
export interface Decision<S> {
  /** Batch size B for the next update, integer ≥ 1. */
  batchSize: number;
  /** Multiplier applied to the base learning rate for this update (1 = unchanged). */
  lrFactor: number;
  /** The schedule's new state (plain JSON). */
  state: S;
}

/** A batch-size schedule: `init()` then `update(state, obs)` before every model update. */
export interface BatchSchedule<S = unknown> {
  /** Name used in logs and on the CLI, e.g. "constant", "geodamp". */
  readonly name: string;
  /** The initial state (plain JSON). */
  init(): S;
  /** Decides the batch size and learning-rate factor of the next update. Pure. */
  update(state: S, obs: Observation): Decision<S>;
}

/** Raised for invalid schedule parameters; the message names the parameter and value. */
export class ScheduleConfigError extends Error {
  override name = "ScheduleConfigError";
}

/** Validates an integer ≥ `min`; throws {@link ScheduleConfigError} naming the parameter. */
export function requireInt(name: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) {
    throw new ScheduleConfigError(`${name} must be an integer >= ${min}, got ${value}`);
  }
}

/** Validates a finite number > `min` (or ≥ when `inclusive`). */
export function requireNumber(name: string, value: number, min: number, inclusive = false): void {
  const ok = Number.isFinite(value) && (inclusive ? value >= min : value > min);
  if (!ok)
    throw new ScheduleConfigError(
      `${name} must be a finite number ${inclusive ? ">=" : ">"} ${min}, got ${value}`,
    );
}
