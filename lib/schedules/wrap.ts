/** Wrapping a schedule: the same schedule with each decision transformed. */
import type { BatchSchedule, Decision, Observation } from "./types";

/**
 * `schedule` under a new name with `f` applied to each decision (batch size, factors; the state
 * stays the inner schedule's, so a checkpoint of the wrapped schedule is the inner one's); the
 * train-loss and critical-batch requests pass through.
 * @example mapDecisions(s, `${s.name}+cosine`, (d, obs) => ({ ...d, lrFactor: d.lrFactor / 2 }))
 */
export function mapDecisions<S>(
  schedule: BatchSchedule<S>,
  name: string,
  f: (decision: Decision<S>, obs: Observation) => Decision<S>,
): BatchSchedule<S> {
  const wrapped: BatchSchedule<S> = {
    name,
    trainLossFraction: schedule.trainLossFraction,
    init: () => schedule.init(),
    update: (state, obs) => f(schedule.update(state, obs), obs),
  };
  if (schedule.wantsTrainLoss) wrapped.wantsTrainLoss = schedule.wantsTrainLoss.bind(schedule);
  if (schedule.wantsCriticalBatch) {
    wrapped.wantsCriticalBatch = schedule.wantsCriticalBatch.bind(schedule);
  }
  return wrapped;
}
