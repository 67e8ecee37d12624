/**
 * The training layer's records: the run log's row, the per-update step record the noise-scale
 * estimators read, and the loop state a checkpoint saves.
 */

/**
 * One row of a training run's log. A row is written after every model update; the test
 * metrics are filled on the rows where an evaluation ran and are null elsewhere.
 */
export interface RunLogRow {
  /** Name of the run (e.g. "constant", "geodamp"). */
  run: string;
  /** Model updates completed so far (1-based after the first update). */
  step: number;
  /** Fractional epochs completed: examples processed / training-set size. */
  epoch: number;
  /** Training examples processed so far (sum of batch sizes). */
  examples: number;
  /** Batch size B of this update. */
  batchSize: number;
  /** Learning rate used for this update. */
  learningRate: number;
  /** Mean training loss over this update's batch. */
  trainLoss: number;
  /** Mean test loss, on rows where an evaluation ran; else null. */
  testLoss: number | null;
  /** Test accuracy in [0, 1], on rows where an evaluation ran; else null. */
  testAccuracy: number | null;
  /** Wall-clock seconds since the run started (evaluation time excluded). */
  wallClock: number;
  /**
   * The simple noise scale B_simple = tr(Σ)/|G|² estimated after this update (ratio of the
   * bias-corrected EMAs, lib/noise), or null/absent when no estimate exists.
   */
  bSimple?: number | null;
  /**
   * Data-parallel replicas K that computed this update (1 = the model's own thread;
   * lib/parallel/data-parallel.ts); absent in logs written before replicas existed.
   */
  replicas?: number;
  /**
   * AdaScale's gain r_t of this update (lib/optim/adascale.ts; r ∈ [1, S], S = B/B₀), when the
   * run's optimizer is an `AdaScale`; absent otherwise.
   */
  adaScaleGain?: number;
  /**
   * AdaScale's scale-invariant step counter τ = Σ r after this update (the progress an S = 1
   * learning-rate schedule reads), when the run's optimizer is an `AdaScale`; absent otherwise.
   */
  scaleInvariantSteps?: number;
  /**
   * The optimizer's weight decay λ for this update, when the schedule sets it
   * (a schedule decision's `weightDecayFactor`, e.g. lib/schedules/weight-decay.ts); absent otherwise.
   */
  weightDecay?: number;
  /**
   * Per-layer B_simple,l = tr(Σ_l)/|G_l|² (lib/noise/per-layer.ts) after this update, by layer
   * name, when the loop runs with `perLayerNoise`; absent otherwise. In run-log files each layer
   * is a column `b_simple_layer:<layer>` ({@link BSIMPLE_LAYER_PREFIX}).
   */
  bSimpleLayers?: Record<string, number>;
}

/** The fixed run-log fields (every field but the per-layer map). */
export type RunLogField = Exclude<keyof RunLogRow, "bSimpleLayers">;

/** Prefix of the per-layer B_simple columns of a run-log file: `b_simple_layer:<layer>`. */
export const BSIMPLE_LAYER_PREFIX = "b_simple_layer:";

/** Column names of a run log DataFrame / CSV, in order, mapped from {@link RunLogRow}. */
export const RUN_LOG_COLUMNS = {
  run: "run",
  step: "step",
  epoch: "epoch",
  examples: "examples_processed",
  batchSize: "batch_size",
  learningRate: "learning_rate",
  trainLoss: "train_loss",
  testLoss: "test_loss",
  testAccuracy: "test_accuracy",
  wallClock: "wall_clock_s",
  bSimple: "b_simple",
  replicas: "replicas",
  adaScaleGain: "adascale_gain",
  scaleInvariantSteps: "scale_invariant_steps",
  weightDecay: "weight_decay",
} as const satisfies Record<RunLogField, string>;

/** Per-update record beyond the run log: what the noise-scale estimators need. */
export interface StepRecord {
  step: number;
  batchSize: number;
  loss: number;
  gradSqNorm: number;
  microBatchSizes: number[];
  microBatchSqNorms: number[];
  /** With per-layer noise: the variable names and per-variable norms (see StepResult). */
  variableNames?: string[];
  microBatchSqNormsByVariable?: number[][];
  gradSqNormByVariable?: number[];
}

/** Plain-JSON loop state saved in `state.json`. */
export interface LoopState {
  /** Model updates completed. */
  step: number;
  /** Training examples processed. */
  examples: number;
  /** Wall-clock seconds of training so far (evaluation excluded). */
  trainSeconds: number;
  /** Examples at which the next evaluation is due. */
  nextEval: number;
  /** Mean loss of the last update's batch. */
  lastLoss: number | null;
  /** |G_B|² of the last update. */
  lastGradSqNorm: number | null;
  /** The batch-size schedule's state. */
  schedule: unknown;
  /** The epoch sampler's state ({n, seed, epoch, position}). */
  sampler: unknown;
  /** The noise-scale estimator's state, or null when none runs. */
  noise: unknown;
  /** The per-layer noise estimator's state (with `perLayerNoise`), else absent. */
  perLayerNoise?: unknown;
  /**
   * With replicas (`replicas` ≠ 1 or a throughput-chosen micro-batch): what was measured and the
   * K in force (lib/train/replica-plan.ts), so a resumed run makes the same choices; else absent.
   */
  replicaPlan?: unknown;
  /**
   * With an `AdaScale` optimizer: its state (τ, S, the statistics, the last r; plain JSON,
   * lib/optim/adascale.ts), so a resumed run continues τ exactly; else absent.
   */
  adaScale?: unknown;
}
