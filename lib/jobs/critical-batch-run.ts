/**
 * CBS(t) along a training run: a constant-batch run that pauses every N examples to measure the
 * critical batch size by branching (Merrill et al. 2025, arXiv:2505.23971; lib/train/
 * critical-batch.ts) while the noise-scale estimator tracks B_simple(t) — the measurement of
 * notebook 6. The branches restore the model and the optimizer exactly, so the run's own
 * trajectory is that of a plain constant-batch run.
 */
import type * as tf from "@tensorflow/tfjs-core";
import type * as tfl from "@tensorflow/tfjs-layers";
import type { DataSource } from "../data/source";
import type { Task } from "../grad/task";
import { noiseScaleEstimator } from "../noise/noise-scale-estimator";
import { cbsWarmupSchedule } from "../schedules/cbs-warmup";
import type { LoopConfigInput } from "../train/config";
import {
  measureCriticalBatch,
  modelBranchRunner,
  type BranchResult,
  type CriticalBatchOptions,
} from "../train/critical-batch";
import { trainLoop } from "../train/loop";
import type { RunLogRow } from "../train/types";

/** Options of {@link criticalBatchAlongRun}. */
export interface CriticalBatchRunOptions {
  model: tfl.LayersModel;
  optimizer: tf.Optimizer;
  task: Task;
  train: DataSource;
  /** Where the run evaluates and where the loss after a branch is measured (e.g. validation). */
  test: DataSource;
  /** B₀, the run's constant batch size, integer ≥ 1. */
  batchSize: number;
  /** Measure the CBS every this many examples (the first at update 0), integer ≥ 1. */
  measureEvery: number;
  /**
   * The loop's settings (`examplesBudget` and `learningRate` required); `runName`, evaluation
   * and noise-sampling settings as in lib/train/config.ts.
   */
  loop: LoopConfigInput;
  /** The branch measurement's options; `learningRate` defaults to the loop's. */
  branches: Omit<CriticalBatchOptions, "learningRate"> & { learningRate?: number };
  /** EMA decay of the noise-scale estimator, in [0, 1); default 0.95. */
  noiseBeta?: number;
  /** Batch size of the branch evaluations, integer ≥ 1; default the loop's `evalBatchSize` or 1000. */
  evalBatchSize?: number;
}

/** One measurement along the run. */
export interface CriticalBatchPoint {
  /** Examples processed when it was measured. */
  examples: number;
  /** Model updates completed then. */
  step: number;
  /** The measured CBS. */
  criticalBatchSize: number;
  /** B_simple (EMA) from the last logged row before it, or null before the first estimate. */
  bSimple: number | null;
  /** Each candidate's branch losses. */
  branches: BranchResult[];
}

/**
 * Trains at the constant batch B₀ and measures CBS(t) every `measureEvery` examples (untimed:
 * the loop's `measureCriticalBatch`, asked by a `cbs-warmup` schedule with B_max = B₀, so B never
 * changes), with the noise-scale estimator running for B_simple(t).
 *
 * @param o - See {@link CriticalBatchRunOptions}.
 * @returns The run log (with `bSimple`) and the measurements, in order.
 * @throws ConfigError for invalid loop, schedule or branch options (naming them);
 *   ConvergenceError if the run diverges.
 * @example
 * ```ts
 * const { rows, points } = await criticalBatchAlongRun({ model, optimizer, task, train, test: val,
 *   batchSize: 16, measureEvery: 4096, loop: { examplesBudget: 32768, learningRate: 2e-3 },
 *   branches: { batchSizes: doublingBatchSizes(16, 6), lrRule: "sqrt", examplesPerBranch: 1024 } });
 * ```
 */
export async function criticalBatchAlongRun(
  o: CriticalBatchRunOptions,
): Promise<{ rows: RunLogRow[]; points: CriticalBatchPoint[] }> {
  const points: CriticalBatchPoint[] = [];
  let lastBSimple: number | null = null;
  const runner = modelBranchRunner({
    model: o.model,
    optimizer: o.optimizer,
    task: o.task,
    train: o.train,
    evalSource: o.test,
    evalBatchSize: o.evalBatchSize ?? o.loop.evalBatchSize ?? 1000,
  });
  const r = await trainLoop({
    model: o.model,
    optimizer: o.optimizer,
    task: o.task,
    train: o.train,
    test: o.test,
    schedule: cbsWarmupSchedule(
      { initialBatchSize: o.batchSize, maxBatchSize: o.batchSize, measureEvery: o.measureEvery },
      { datasetSize: o.train.n },
    ),
    config: o.loop,
    noise: noiseScaleEstimator({ datasetSize: o.train.n, beta: o.noiseBeta ?? 0.95 }),
    hooks: [{ onRow: (row) => (lastBSimple = row.bSimple ?? lastBSimple) }],
    measureCriticalBatch: async ({ step, examples }) => {
      const m = await measureCriticalBatch(runner, {
        ...o.branches,
        learningRate: o.branches.learningRate ?? o.loop.learningRate,
      });
      points.push({
        examples,
        step,
        criticalBatchSize: m.criticalBatchSize,
        bSimple: lastBSimple,
        branches: m.branches,
      });
      return m.criticalBatchSize;
    },
  });
  return { rows: r.rows, points };
}
