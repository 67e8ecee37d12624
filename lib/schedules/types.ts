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
}

/** The noise-scale estimates a schedule may use (McCandlish et al. 2018, App. A.1). */
export interface NoiseObservation {
  /** EMA estimate of |G|², the squared norm of the true gradient. */
  gradSqNorm: number;
  /** EMA estimate of tr(Σ), the trace of the per-example gradient covariance. */
  traceSigma: number;
  /** B_simple = tr(Σ)/|G|² (ratio of the EMAs), or null when |G|² ≤ 0. */
  bSimple: number | null;
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
  /**
   * Optional: whether the loop should compute F(x_k) (see {@link Observation.trainLoss})
   * before update `step` (= model updates completed). Pure.
   */
  wantsTrainLoss?(state: S, step: number): boolean;
  /** Fraction of the training set (seeded, fixed) used for F(x_k); in (0, 1], default 1. */
  readonly trainLossFraction?: number;
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

/**
 * Validates a finite number in the interval from `lo` to `hi`; each end is closed unless
 * `loOpen` / `hiOpen` is set.
 *
 * @param name - The parameter's name, used in the message.
 * @param value - The value to check.
 * @param lo - Lower end of the interval.
 * @param hi - Upper end of the interval.
 * @param open - `loOpen` / `hiOpen`: exclude that end (default: both closed).
 * @throws ScheduleConfigError naming the parameter, the interval and the value, e.g.
 *   `rho must be a finite number in [0, 1), got 1`.
 * @example requireInRange("rho", 0.9, 0, 1, { hiOpen: true }) // ok
 */
export function requireInRange(
  name: string,
  value: number,
  lo: number,
  hi: number,
  open: { loOpen?: boolean; hiOpen?: boolean } = {},
): void {
  const okLo = open.loOpen ? value > lo : value >= lo;
  const okHi = open.hiOpen ? value < hi : value <= hi;
  if (!(Number.isFinite(value) && okLo && okHi)) {
    const interval = `${open.loOpen ? "(" : "["}${lo}, ${hi}${open.hiOpen ? ")" : "]"}`;
    throw new ScheduleConfigError(`${name} must be a finite number in ${interval}, got ${value}`);
  }
}
