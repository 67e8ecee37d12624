/** Helpers for the schedule tests: observations and a driver like the training loop's. */
import { BatchSchedule, Decision, Observation } from "../../lib/schedules/types";

/** An observation with defaults (n = 1000, nothing measured). */
export function obs(partial: Partial<Observation> = {}): Observation {
  return {
    step: 0,
    epoch: 0,
    examples: 0,
    datasetSize: 1000,
    lastLoss: null,
    lastGradSqNorm: null,
    trainLoss: null,
    noise: null,
    ...partial,
  };
}

/**
 * Drives a schedule like the loop does: for k = 0 … steps−1, build `make(k)`, put
 * `trainLoss(k)` in it only when `wantsTrainLoss(state, k)` is true, and collect decisions.
 * Starts from `start` (a state) when given.
 */
export function drive<S>(
  s: BatchSchedule<S>,
  steps: number,
  make: (k: number) => Partial<Observation>,
  trainLoss: (k: number) => number = () => 1,
  start?: { state: S; from: number },
): { decisions: Decision<S>[]; state: S } {
  let state = start ? start.state : s.init();
  const decisions: Decision<S>[] = [];
  for (let k = start ? start.from : 0; k < steps; k++) {
    const wants = s.wantsTrainLoss?.(state, k) ?? false;
    const d = s.update(state, obs({ step: k, ...make(k), trainLoss: wants ? trainLoss(k) : null }));
    decisions.push(d);
    state = d.state;
  }
  return { decisions, state };
}
