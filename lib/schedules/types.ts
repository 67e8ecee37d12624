/**
 * The interface every batch-size schedule implements (docs/design.md §4): a pure state machine
 * whose state is plain JSON, so checkpoints can round-trip it.
 */
import { ConfigError } from "../core/errors";
import * as validate from "../core/validate";
import type { NoiseObservation } from "../noise/types";

export type { NoiseObservation };

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
  /** |G_B|² of the previous update's mean gradient, or null before the first. */
  lastGradSqNorm: number | null;
  /**
   * F(x_k): the training loss on the whole training set (or on the seeded fraction the
   * schedule asked for), computed by the loop before this update when the schedule's
   * `wantsTrainLoss(state, step)` returned true; null otherwise.
   */
  trainLoss: number | null;
  /**
   * The gradient-noise-scale estimator's current values (bias-corrected EMAs of |G|² and
   * tr(Σ), and B_simple = tr(Σ)/|G|²), or null when no estimator runs or it has no estimate yet.
   */
  noise: NoiseObservation | null;
  /**
   * The critical batch size measured by branched training (lib/train/critical-batch.ts) before
   * this update, when the schedule's `wantsCriticalBatch` returned true and the loop was given a
   * measurement; null or absent otherwise.
   */
  criticalBatchSize?: number | null;
}

/** A schedule's decision for the next model update. */
export interface Decision<S> {
  /** Batch size B for the next update, integer ≥ 1. */
  batchSize: number;
  /** Multiplier applied to the base learning rate for this update (1 = unchanged). */
  lrFactor: number;
  /**
   * Optional multiplier applied to the optimizer's initial weight decay λ₀ for this update
   * (AdamW, Lamb); absent = λ₀ unchanged (lib/schedules/weight-decay.ts sets it).
   */
  weightDecayFactor?: number;
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
  /**
   * Optional: whether the loop should compute F(x_k) (see {@link Observation.trainLoss})
   * before update `step` (= model updates completed). Pure.
   */
  wantsTrainLoss?(state: S, step: number): boolean;
  /**
   * Optional: whether the loop should measure the critical batch size (its
   * `measureCriticalBatch` argument) before the update at this progress and put it in
   * {@link Observation.criticalBatchSize}. Pure.
   */
  wantsCriticalBatch?(state: S, progress: { step: number; examples: number }): boolean;
  /** Fraction of the training set (seeded, fixed) used for F(x_k); in (0, 1], default 1. */
  readonly trainLossFraction?: number;
}

/** Raised for invalid schedule parameters; the message names the parameter and value. */
export class ScheduleConfigError extends ConfigError {
  override name = "ScheduleConfigError";
}

/** {@link validate.requireInt} throwing {@link ScheduleConfigError}. */
export const requireInt = (name: string, value: number, min: number): void =>
  validate.requireInt(name, value, min, ScheduleConfigError);

/** {@link validate.requireNumber} throwing {@link ScheduleConfigError}. */
export const requireNumber = (name: string, value: number, min: number, inclusive = false): void =>
  validate.requireNumber(name, value, min, inclusive, ScheduleConfigError);

/** {@link validate.requireInRange} throwing {@link ScheduleConfigError}. */
export const requireInRange = (
  name: string,
  value: number,
  lo: number,
  hi: number,
  open: { loOpen?: boolean; hiOpen?: boolean } = {},
): void => validate.requireInRange(name, value, lo, hi, open, ScheduleConfigError);
