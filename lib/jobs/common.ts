/**
 * What the jobs (lib/jobs/compare.ts, lib/jobs/sweep.ts) and the notebooks share: the
 * Fashion-MNIST splits and task, one CNN run through `trainLoop` with the jobs' defaults, the
 * throughput curve a goodput schedule needs, and configuration parsing.
 */
import * as tf from "@tensorflow/tfjs-core";
import type * as tfl from "@tensorflow/tfjs-layers";
import { loadFashionMnist } from "../data/fashion-mnist";
import { ClassificationDataset, subset } from "../data/dataset";
import { classificationSource, DataSource } from "../data/source";
import { classificationTask, Task } from "../grad/task";
import { smallCnn } from "../models/small";
import { Adam } from "../optim/adam";
import { measureThroughput } from "../probes/hardware";
import { progressReporter } from "../report/progress";
import type { ThroughputCurvePoint } from "../schedules/goodput";
import type { BatchSchedule } from "../schedules/types";
import type { LoopConfigInput } from "../train/config";
import { startDataParallel } from "../parallel/data-parallel";
import {
  batchBucket,
  emptyReplicaPlan,
  planReplicas,
  type ReplicaPlanState,
} from "../train/replica-plan";
import {
  measureCriticalBatch,
  modelBranchRunner,
  type CriticalBatchOptions,
  type CriticalBatchResult,
} from "../train/critical-batch";
import { probeSource } from "../train/evaluate";
import {
  trainLoop,
  type CheckpointOptions,
  type LoopHooks,
  type NoiseEstimatorHook,
  type TrainResult,
} from "../train/loop";

/** Fashion-MNIST as the jobs use it: optional subsets, the task, and loop data sources. */
export interface FashionMnistSplits {
  trainDs: ClassificationDataset;
  testDs: ClassificationDataset;
  task: Task;
  train: DataSource;
  test: DataSource;
}

/**
 * Loads Fashion-MNIST from `dataDir` (default the vendored copy) and keeps the first
 * `trainSubset` / `testSubset` examples (0 or absent = all).
 * @throws DatasetError when the files are missing or malformed.
 * @example const data = fashionMnistSplits({ trainSubset: 10_000, testSubset: 1000 });
 */
export function fashionMnistSplits(
  o: { dataDir?: string; trainSubset?: number; testSubset?: number } = {},
): FashionMnistSplits {
  const { trainSubset = 0, testSubset = 0 } = o;
  const full = loadFashionMnist(o.dataDir);
  const cut = (ds: ClassificationDataset, k: number) =>
    k > 0 ? subset(ds, Math.min(k, ds.n)) : ds;
  const trainDs = cut(full.train, trainSubset);
  const testDs = cut(full.test, testSubset);
  return {
    trainDs,
    testDs,
    task: classificationTask(trainDs.featureShape, trainDs.numClasses),
    train: classificationSource(trainDs),
    test: classificationSource(testDs),
  };
}

/** One run of the jobs' CNN (lib/models/small.ts) with Adam. */
export interface CnnRunOptions {
  data: FashionMnistSplits;
  schedule: BatchSchedule<unknown>;
  /** Loop settings that differ from the defaults (lib/train/config.ts). */
  loop: LoopConfigInput;
  /** Seed of the initial weights (all runs of a job start from the same weights). */
  seed: number;
  noise?: NoiseEstimatorHook;
  checkpoint?: CheckpointOptions;
  shouldStop?: () => boolean;
  /** The optimizer for a learning rate (default batchwise's Adam, lib/optim/adam.ts). */
  optimizer?: (learningRate: number) => tf.Optimizer;
  /** Install the progress reporter (lib/report/progress.ts). */
  progress?: boolean;
  hooks?: LoopHooks[];
  /** Measurements for `replicas: "auto"` (see {@link measureMachine}); missing ones are measured. */
  replicaPlan?: ReplicaPlanState;
  /**
   * For a schedule that asks for critical-batch measurements (`cbs-warmup` with
   * `measureEvery`): the branch options (lib/train/critical-batch.ts; `learningRate` is lr₀ at
   * the smallest candidate). The loss after a branch is measured on a fixed probe of
   * `probeExamples` training examples (default 2000; the test set stays out of the decisions).
   */
  criticalBatch?: CriticalBatchOptions & {
    probeExamples?: number;
    /** Called after each measurement (e.g. to log it). */
    onMeasured?: (m: CriticalBatchResult, at: { step: number; examples: number }) => void;
  };
}

/** The loop's `measureCriticalBatch` for {@link CnnRunOptions.criticalBatch}. */
function branchMeasurement(
  o: CnnRunOptions,
  model: tfl.LayersModel,
  optimizer: tf.Optimizer,
): (at: { step: number; examples: number }) => Promise<number> {
  const {
    probeExamples = 2000,
    onMeasured,
    ...branches
  } = o.criticalBatch as NonNullable<CnnRunOptions["criticalBatch"]>;
  const train = o.data.train;
  const runner = modelBranchRunner({
    model,
    optimizer,
    task: o.data.task,
    train,
    evalSource: probeSource(train, Math.min(1, probeExamples / train.n), o.loop.seed ?? 1),
    microBatchSize: o.loop.microBatchSize,
  });
  return async (at) => {
    const m = await measureCriticalBatch(runner, branches);
    onMeasured?.(m, at);
    return m.criticalBatchSize;
  };
}

/**
 * Builds the CNN and the optimizer, trains with `trainLoop`, disposes both.
 * @throws whatever `trainLoop` throws (ConfigError, ConvergenceError, CheckpointError).
 */
export async function runCnn(o: CnnRunOptions): Promise<TrainResult> {
  const { trainDs } = o.data;
  const model = smallCnn({
    inputShape: trainDs.featureShape,
    numClasses: trainDs.numClasses,
    seed: o.seed,
  });
  const optimizer = (o.optimizer ?? ((lr) => new Adam({ learningRate: lr })))(o.loop.learningRate);
  try {
    return await trainLoop({
      model,
      optimizer,
      task: o.data.task,
      train: o.data.train,
      test: o.data.test,
      schedule: o.schedule,
      config: o.loop,
      noise: o.noise,
      checkpoint: o.checkpoint,
      shouldStop: o.shouldStop,
      replicaPlan: o.replicaPlan,
      measureCriticalBatch: o.criticalBatch ? branchMeasurement(o, model, optimizer) : undefined,
      hooks: [...(o.progress ? [progressReporter()] : []), ...(o.hooks ?? [])],
    });
  } finally {
    model.dispose();
    optimizer.dispose();
  }
}

/**
 * Examples/s of one CNN update against B on the current backend — the curve a goodput schedule
 * needs: B = max(1, min(B_0, 16)), doubling up to min(maxBatchSize, 2048); the model's weights
 * are restored after the probe (lib/probes/hardware.ts).
 */
export function cnnThroughputCurve(
  data: FashionMnistSplits,
  o: {
    initialBatchSize: number;
    maxBatchSize: number;
    microBatchSize: number;
    learningRate: number;
    seed: number;
  },
): ThroughputCurvePoint[] {
  const { trainDs } = data;
  const model = smallCnn({
    inputShape: trainDs.featureShape,
    numClasses: trainDs.numClasses,
    seed: o.seed,
  });
  const sizes: number[] = [];
  for (
    let b = Math.max(1, Math.min(o.initialBatchSize, 16));
    b <= Math.min(o.maxBatchSize, 2048);
    b *= 2
  ) {
    sizes.push(b);
  }
  try {
    const curve = measureThroughput(
      model,
      data.task,
      (b) => data.train.batch(Int32Array.from({ length: b }, (_, i) => i % trainDs.n)),
      {
        batchSizes: sizes,
        warmupSteps: 1,
        steps: 2,
        microBatchSize: o.microBatchSize,
        learningRate: o.learningRate,
      },
    );
    return curve.map((p) => ({ batchSize: p.batchSize, examplesPerSecond: p.examplesPerSecond }));
  } finally {
    model.dispose();
  }
}

/**
 * Measures the whole machine for the jobs' CNN once, for every run of a job to share: the
 * micro-batch size with the most examples/s (lib/train/replica-plan.ts), then examples/s of a
 * full update at B = B_0, 2B_0, … ≤ min(maxBatchSize, 1024) with K = 1 … K_max replicas (worker
 * threads, lib/parallel). The model is a fresh copy (seeded like the runs') and is disposed.
 * @returns the plan state `trainLoop` starts from (`replicaPlan`); `probeSeconds` is the time it took.
 * @throws BackendError if the workers cannot start.
 */
export async function measureMachine(
  data: FashionMnistSplits,
  o: {
    initialBatchSize: number;
    maxBatchSize: number;
    microBatchSize: number;
    seed: number;
    maxReplicas: number;
  },
): Promise<ReplicaPlanState> {
  const t0 = performance.now();
  const { trainDs } = data;
  const model = smallCnn({
    inputShape: trainDs.featureShape,
    numClasses: trainDs.numClasses,
    seed: o.seed,
  });
  const parallel = o.maxReplicas >= 2 ? await startDataParallel(model, data.task, o) : null;
  try {
    const args = {
      model,
      task: data.task,
      train: data.train,
      parallel,
      maxReplicas: o.maxReplicas,
      microBatchCap: o.microBatchSize,
    };
    // planReplicas measures the micro-batch curve first, then each bucket once
    let plan = emptyReplicaPlan();
    const top = Math.min(o.maxBatchSize, 1024);
    for (let b = batchBucket(o.initialBatchSize); b <= top; b *= 2) {
      plan = await planReplicas(plan, args, b);
    }
    // the table and micro-batch size only: each run starts with no K in force
    return {
      ...plan,
      replicas: null,
      batchSize: null,
      probeSeconds: (performance.now() - t0) / 1000,
    };
  } finally {
    await parallel?.close();
    model.dispose();
  }
}
