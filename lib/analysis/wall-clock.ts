/**
 * Training for a wall-clock budget rather than an examples budget — the protocol of seed 003
 * (EfficientNet-B0 + LAMB at batch 64 vs 1024: "# epochs ran within training time"), where the
 * question is which batch size reaches the better model in the same time on given hardware.
 */
import { ConfigError } from "../core/errors";
import type { NoiseObservation } from "../noise/types";
import { trainLoop, type LoopHooks, type TrainLoopArgs, type TrainResult } from "../train/loop";
import type { RunLogRow } from "../train/types";

/** Arguments of {@link trainForWallClock}: those of `trainLoop` plus the time limits. */
export type WallClockArgs<S> = Omit<TrainLoopArgs<S>, "shouldStop" | "checkpoint"> & {
  /** Stop after the first update that ends at or after this many training seconds (> 0). */
  seconds: number;
  /**
   * Training times (s, ascending, each ≤ `seconds`) at which to call `onMilestone` — once per
   * milestone, after the first update that ends at or after it.
   */
  milestones?: readonly number[];
  /**
   * Called at each milestone with the row of that update, outside the timed region (it may
   * evaluate the model; its time is not counted as training time).
   */
  onMilestone?: (milestone: number, row: RunLogRow) => void;
};

/** What {@link trainForWallClock} returns. */
export interface WallClockResult extends TrainResult {
  /** Whether the time limit stopped the run (false: the examples budget ran out first). */
  timedOut: boolean;
  /** The noise-scale estimator's last reading (null without a `noise` hook or estimate). */
  noise: NoiseObservation | null;
}

/**
 * Runs `trainLoop` until its training time (`wallClock`, evaluation excluded) reaches
 * `seconds`, or its examples budget runs out, whichever comes first; calls `onMilestone` at the
 * given training times. Wall-clock is what `trainLoop` measures: the schedule, data and update
 * phases of every step.
 *
 * @param args - `trainLoop`'s arguments (no `checkpoint` or `shouldStop`: the time limit is
 *   the stop), plus `seconds`, `milestones`, `onMilestone`.
 * @returns The run's rows and step records, whether time ran out, and the noise estimator's
 *   last reading.
 * @throws ConfigError if `seconds` is not > 0 or a milestone is not in (0, seconds]; errors of
 *   `trainLoop` (e.g. ConvergenceError) propagate.
 * @example
 * const r = await trainForWallClock({ ...loopArgs, seconds: 120, milestones: [30],
 *   onMilestone: (t) => console.log(`at ${t} s:`, evaluate(model, task, val, 500)) });
 */
export async function trainForWallClock<S>(args: WallClockArgs<S>): Promise<WallClockResult> {
  const { seconds, milestones = [], onMilestone, hooks, ...loopArgs } = args;
  if (!(Number.isFinite(seconds) && seconds > 0)) {
    throw new ConfigError(`seconds must be a finite number > 0, got ${seconds}`);
  }
  milestones.forEach((m, i) => {
    if (!(m > 0 && m <= seconds) || (i > 0 && m < milestones[i - 1])) {
      throw new ConfigError(
        `milestones must ascend within (0, ${seconds}], got ${JSON.stringify(milestones)}`,
      );
    }
  });
  let next = 0;
  let elapsed = 0;
  const timer: LoopHooks = {
    onRow: (row) => {
      elapsed = row.wallClock;
      while (next < milestones.length && row.wallClock >= milestones[next]) {
        onMilestone?.(milestones[next], row);
        next += 1;
      }
    },
  };
  const r = await trainLoop<S>({
    ...loopArgs,
    hooks: [timer, ...([] as LoopHooks[]).concat(hooks ?? [])],
    shouldStop: () => elapsed >= seconds,
  });
  const noise = loopArgs.noise != null ? loopArgs.noise.read(r.state.noise) : null;
  return { ...r, timedOut: r.stopped, noise };
}
