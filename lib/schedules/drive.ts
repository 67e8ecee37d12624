/**
 * Driving a schedule: the observation a schedule gets before update k and its decision, clipped
 * to what is left of the budget — the one piece of code both the training loop
 * (lib/train/loop.ts) and the least-squares theory check (lib/theory/run-to-tolerance.ts) call.
 */
import type { NoiseObservation } from "../noise/types";
import type { BatchSchedule, Decision, Observation } from "./types";

/** What the driver knows after k updates, before F(x_k) and the noise estimate. */
export interface Progress {
  /** Model updates completed, k ≥ 0. */
  step: number;
  /** Training examples processed. */
  examples: number;
  /** Training-set size n ≥ 1. */
  datasetSize: number;
  /** Mean loss of the previous update's batch, or null before the first. */
  lastLoss: number | null;
  /** |G_B|² of the previous update, or null before the first. */
  lastGradSqNorm: number | null;
}

/** How the driver supplies what a schedule may ask for. */
export interface DriveInputs {
  /** F(x_k); called only when the schedule's `wantsTrainLoss(state, k)` is true. */
  trainLoss: () => number;
  /** The noise-scale estimator's current reading, or null. */
  noise: NoiseObservation | null;
  /** Examples the budget still allows (≥ 1); the decided B is clipped to it. Default ∞. */
  budgetLeft?: number;
  /**
   * The critical batch size measured before this update (the driver measures it when the
   * schedule's `wantsCriticalBatch` is true), or null/absent.
   */
  criticalBatchSize?: number | null;
}

/**
 * Asks `schedule` for the next update: builds the {@link Observation} (epoch = examples/n;
 * F(x_k) computed through `inputs.trainLoss` only when the schedule wants it), calls
 * `schedule.update`, and clips B to `budgetLeft`.
 * @returns The decision with B clipped, and the observation it was made on.
 */
export function decideNext<S>(
  schedule: BatchSchedule<S>,
  state: S,
  progress: Progress,
  inputs: DriveInputs,
): { decision: Decision<S>; observation: Observation } {
  const trainLoss = schedule.wantsTrainLoss?.(state, progress.step) ? inputs.trainLoss() : null;
  const observation: Observation = {
    step: progress.step,
    epoch: progress.examples / progress.datasetSize,
    examples: progress.examples,
    datasetSize: progress.datasetSize,
    lastLoss: progress.lastLoss,
    lastGradSqNorm: progress.lastGradSqNorm,
    trainLoss,
    noise: inputs.noise,
    criticalBatchSize: inputs.criticalBatchSize ?? null,
  };
  const d = schedule.update(state, observation);
  const batchSize = Math.min(d.batchSize, inputs.budgetLeft ?? Infinity);
  return { decision: { ...d, batchSize }, observation };
}
