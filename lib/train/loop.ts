/**
 * The training loop: a budget of training examples, a batch-size schedule, periodic
 * evaluation, and a run log. One function with numbered phases; printing, progress bars and
 * extra record collection are hooks ({@link LoopHooks}; lib/report/progress.ts has the
 * progress reporter the jobs install).
 */
import * as os from "os";
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { ConfigError, ConvergenceError } from "../core/errors";
import { parseSamplerState, samplerInit, sampleBatch, SamplerState } from "../data/sampler";
import type { DataSource } from "../data/source";
import type { Task } from "../grad/task";
import { AdaScale, adaScaleStatistics, type AdaScaleState } from "../optim/adascale";
import { setWeightDecay, weightDecayOf } from "../optim/learning-rate";
import { perLayerNoiseEstimator, type PerLayerNoiseState } from "../noise/per-layer";
import type { NoiseObservation } from "../noise/types";
import { decideNext } from "../schedules/drive";
import type { BatchSchedule } from "../schedules/types";
import {
  checkCompatible,
  hasCheckpoint,
  loadCheckpoint,
  restoreInto,
  saveCheckpoint,
} from "./checkpoint";
import { checkpointDue, LoopConfigInput, noiseSplit, parseLoopConfig } from "./config";
import { evaluate, evaluateAsync, probeSource } from "./evaluate";
import { startDataParallel, type DataParallel } from "../parallel/data-parallel";
import { emptyReplicaPlan, planReplicas, type ReplicaPlanState } from "./replica-plan";
import { trainStepAsync } from "./step";
import type { LoopState, RunLogRow, StepRecord } from "./types";

/**
 * A noise-scale estimator the loop feeds after every update (see lib/noise): a pure state
 * machine over the per-update gradient norms.
 */
export interface NoiseEstimatorHook<N = unknown> {
  init(): N;
  update(state: N, record: StepRecord): N;
  read(state: N): NoiseObservation | null;
}

/** Checkpointing of a run (see lib/train/checkpoint.ts). */
export interface CheckpointOptions {
  /** Directory of the run's checkpoints. */
  dir: string;
  /** Write a checkpoint every this many model updates (0 = never by count). */
  everySteps: number;
  /** Write a checkpoint when this many seconds passed since the last one (0 = never by time). */
  everySeconds: number;
  /** The run's configuration, saved and compared on resume. */
  config: Record<string, unknown>;
  /** Continue from the newest checkpoint in `dir` if there is one. */
  resume: boolean;
}

/** Callbacks of a run; all run outside the timed region (their time is not training time). */
export interface LoopHooks {
  /** Before the first update of this invocation (after a resume: with the restored counters). */
  onStart?(info: { runName: string; examplesBudget: number; step: number; examples: number }): void;
  /** After every update, with its record (the gradient norms the estimators read). */
  onStep?(record: StepRecord): void;
  /** After every update, with its complete row (test metrics filled when it evaluated). */
  onRow?(row: RunLogRow): void;
  /** A one-line message about the run's set-up (e.g. the replicas chosen, a fallback). */
  onNotice?(message: string): void;
  /** When the run ends: finished, stopped or thrown. */
  onEnd?(): void;
}

/** Arguments of {@link trainLoop}. */
export interface TrainLoopArgs<S> {
  model: tfl.LayersModel;
  /**
   * Any tf.Optimizer. An `AdaScale` (lib/optim/adascale.ts) is driven by the loop: before every
   * update its scale is set to S = max(1, B/B₀) (B₀ its `baseBatchSize`, required) and its σ²,
   * μ² to the noise estimator's (`noise`, required) tr Σ/B₀ and |G|²; the rows log its gain r
   * and τ, and the loop state keeps its state for an exact resume.
   */
  optimizer: tf.Optimizer;
  task: Task;
  train: DataSource;
  test: DataSource;
  schedule: BatchSchedule<S>;
  /** Settings; only `examplesBudget` and `learningRate` are required (lib/train/config.ts). */
  config: LoopConfigInput;
  noise?: NoiseEstimatorHook;
  checkpoint?: CheckpointOptions;
  /** Asked after every update; true ends the run (after writing a checkpoint) with `stopped`. */
  shouldStop?: () => boolean;
  /**
   * Measures the critical batch size at the current state (e.g. `measureCriticalBatch` with
   * `modelBranchRunner`, lib/train/critical-batch.ts, restoring the model and optimizer), called
   * before an update when the schedule's `wantsCriticalBatch` is true; untimed, like F(x_k).
   */
  measureCriticalBatch?: (progress: { step: number; examples: number }) => number | Promise<number>;
  hooks?: LoopHooks | LoopHooks[];
  /**
   * With `replicas: "auto"` or `microBatchForThroughput`: measurements to start from (e.g. a
   * table measured once and shared by several runs, lib/train/replica-plan.ts); what is missing
   * is measured when first needed. A resumed run uses its checkpoint's plan instead.
   */
  replicaPlan?: ReplicaPlanState;
}

/** What {@link trainLoop} returns. */
export interface TrainResult {
  /** The run log: after a resume, the restored rows followed by this invocation's. */
  rows: RunLogRow[];
  /** Step records of this invocation's updates only (a checkpoint does not keep them). */
  steps: StepRecord[];
  /** True when `shouldStop()` ended the run before its budget. */
  stopped: boolean;
  /** The loop state at the end (counters, schedule, sampler and noise-estimator state). */
  state: LoopState;
}

function initialState<S>(
  schedule: BatchSchedule<S>,
  noise: NoiseEstimatorHook | undefined,
  n: number,
  seed: number,
  nextEval: number,
): LoopState {
  return {
    step: 0,
    examples: 0,
    trainSeconds: 0,
    nextEval,
    lastLoss: null,
    lastGradSqNorm: null,
    schedule: schedule.init(),
    sampler: samplerInit({ n, seed }),
    noise: noise?.init() ?? null,
  };
}

async function resumeFrom(
  c: CheckpointOptions,
  model: tfl.LayersModel,
  optimizer: tf.Optimizer,
): Promise<{ state: LoopState; rows: RunLogRow[] }> {
  const loaded = loadCheckpoint(c.dir);
  try {
    checkCompatible(loaded, model, c.config);
  } catch (e) {
    tf.dispose([...loaded.weights, ...loaded.optimizer.weights.map((w) => w.tensor)]);
    throw e;
  }
  await restoreInto(loaded, model, optimizer);
  const state = { ...loaded.meta.state, sampler: parseSamplerState(loaded.meta.state.sampler) };
  return { state, rows: loaded.rows };
}

/** The state after an update: counters, timing, and the schedule/sampler/noise states. */
function advance(
  st: LoopState,
  record: StepRecord,
  next: { seconds: number; schedule: unknown; sampler: unknown; noise: unknown },
): LoopState {
  return {
    ...st,
    step: record.step,
    examples: st.examples + record.batchSize,
    trainSeconds: st.trainSeconds + next.seconds,
    lastLoss: record.loss,
    lastGradSqNorm: record.gradSqNorm,
    schedule: next.schedule,
    sampler: next.sampler,
    noise: next.noise,
  };
}

/** The run-log row of the update that led to `st` (test metrics filled later when due). */
function rowOf(
  run: string,
  st: LoopState,
  n: number,
  batchSize: number,
  learningRate: number,
  est: NoiseObservation | null,
): RunLogRow {
  const row: RunLogRow = {
    run,
    step: st.step,
    epoch: st.examples / n,
    examples: st.examples,
    batchSize,
    learningRate,
    trainLoss: st.lastLoss as number,
    testLoss: null,
    testAccuracy: null,
    wallClock: st.trainSeconds,
  };
  if (est?.bSimple != null) row.bSimple = est.bSimple;
  return row;
}

/**
 * The run's optimizer as an AdaScale the loop drives, or null for any other optimizer.
 * @throws ConfigError when it is an AdaScale without `baseBatchSize` or the run has no noise
 *   estimator (its gain needs tr Σ and |G|²).
 */
function adaScaleOf(
  optimizer: tf.Optimizer,
  noise: NoiseEstimatorHook | undefined,
  runName: string,
): AdaScale | null {
  if (!AdaScale.is(optimizer)) return null;
  if (optimizer.baseBatchSize == null) {
    throw new ConfigError(
      `${runName}: an AdaScale optimizer in trainLoop needs baseBatchSize (the B₀ of its S = 1 learning rate), got none`,
    );
  }
  if (noise == null) {
    throw new ConfigError(
      `${runName}: an AdaScale optimizer needs the run's noise-scale estimator for its gain; pass noise to trainLoop`,
    );
  }
  return optimizer;
}

/**
 * The weight decay λ = λ₀·factor a schedule decision asks for (its `weightDecayFactor`), set on
 * the optimizer (λ₀ its weight decay when the loop started); null when the decision sets none.
 * @throws ConfigError when the decision sets one and the optimizer has no weight decay.
 */
function applyWeightDecay(
  optimizer: tf.Optimizer,
  baseWeightDecay: number | null,
  factor: number | undefined,
  runName: string,
): number | null {
  if (factor == null) return null;
  if (baseWeightDecay == null) {
    throw new ConfigError(
      `${runName}: the schedule sets the weight decay (weightDecayFactor ${factor}) but the optimizer ${optimizer.getClassName()} has none; use AdamW or Lamb`,
    );
  }
  const wd = baseWeightDecay * factor;
  setWeightDecay(optimizer, wd);
  return wd;
}

/**
 * Before an update at batch B: AdaScale's scale S = max(1, B/B₀) and its statistics from the
 * noise estimate of the updates so far (σ² = tr Σ/B₀, μ² = |G|²; none yet: r = 1).
 */
function driveAdaScale(ada: AdaScale, batchSize: number, est: NoiseObservation | null): void {
  const b0 = ada.baseBatchSize as number;
  ada.scale = Math.max(1, batchSize / b0);
  if (est == null || !Number.isFinite(est.traceSigma) || !Number.isFinite(est.gradSqNorm)) {
    ada.setStatistics(null);
    return;
  }
  const { sigmaSq, muSq } = adaScaleStatistics(est.traceSigma, est.gradSqNorm, b0);
  ada.setStatistics(sigmaSq, muSq);
}

/**
 * Trains `model` for `config.examplesBudget` examples with the batch sizes `schedule` picks.
 *
 * Phases per update: (1) ask the schedule for B and the LR factor (computing F(x_k) on the
 * probe set first if it asks), (2) draw B indices from the seeded epoch sampler, (3) one model
 * update (micro-batched above the memory cap, split for the noise estimate when sampled),
 * (4) divergence check, (5) state and noise-scale estimate, (6) log, evaluate when due, hooks,
 * (7) checkpoint when due, stop when asked. Wall-clock (`wallClock`, `trainSeconds`) counts
 * phases 1–5 without the F(x_k) evaluation: no evaluation, hook or checkpoint is timed.
 *
 * @returns The run log, this invocation's step records, whether it was stopped, the state.
 * @throws ConfigError naming a bad configuration key and value.
 * @throws ConvergenceError when the loss is NaN/Inf or above `config.maxLoss`, naming the
 *   step, batch size and learning rate (the last checkpoint written stays the newest).
 * @throws CheckpointError when resuming from an incompatible checkpoint.
 */
export async function trainLoop<S>(args: TrainLoopArgs<S>): Promise<TrainResult> {
  const { model, optimizer, task, train, test, schedule, noise, checkpoint } = args;
  const config = parseLoopConfig(args.config);
  const hooks = ([] as LoopHooks[]).concat(args.hooks ?? []);
  const evalEvery = config.evalEvery ?? config.examplesBudget;
  const layerEstimator = config.perLayerNoise
    ? perLayerNoiseEstimator({ datasetSize: train.n >= 2 ? train.n : undefined })
    : null;
  // (0) start, or resume from the newest checkpoint
  let st = initialState(schedule, noise, train.n, config.seed, evalEvery);
  let rows: RunLogRow[] = [];
  if (checkpoint?.resume && hasCheckpoint(checkpoint.dir)) {
    ({ state: st, rows } = await resumeFrom(checkpoint, model, optimizer));
  }
  const ada = adaScaleOf(optimizer, noise, config.runName);
  const baseWeightDecay = weightDecayOf(optimizer);
  if (ada != null && st.adaScale != null) ada.setState(st.adaScale as AdaScaleState);
  // (0b) replicas: the pool, and the plan (what was measured, the K in force) for "auto"
  const auto = config.replicas === "auto";
  let maxReplicas = auto
    ? (config.maxReplicas ?? os.availableParallelism())
    : (config.replicas as number);
  const tuneMicroBatch = config.microBatchForThroughput ?? auto;
  if (auto || tuneMicroBatch) {
    st = { ...st, replicaPlan: st.replicaPlan ?? args.replicaPlan ?? emptyReplicaPlan() };
  }
  let parallel: DataParallel | null = null;
  const steps: StepRecord[] = [];
  const save = async () => {
    if (checkpoint == null) return;
    await saveCheckpoint(checkpoint.dir, {
      model,
      optimizer,
      state: st,
      rows,
      config: checkpoint.config,
    });
  };
  let probe: DataSource | null = null;
  let lastSave = performance.now();
  let stepsSinceSave = 0;
  let stopped = false;
  const { runName, examplesBudget } = config;
  hooks.forEach((h) =>
    h.onStart?.({ runName, examplesBudget, step: st.step, examples: st.examples }),
  );
  try {
    if (maxReplicas >= 2) {
      try {
        parallel = await startDataParallel(model, task, { maxReplicas });
      } catch (e) {
        if (!auto) throw e;
        maxReplicas = 1;
        hooks.forEach((h) =>
          h.onNotice?.(`${runName}: replicas: "auto" uses K = 1: ${(e as Error).message}`),
        );
      }
    }
    if (parallel != null) {
      hooks.forEach((h) =>
        h.onNotice?.(
          `${runName}: ${maxReplicas} replicas available (${maxReplicas - 1} worker threads)${auto ? ", K chosen per batch size from measured throughput" : ""}`,
        ),
      );
    }
    while (st.examples < examplesBudget) {
      const t0 = performance.now();
      let untimedMs = 0;
      // (1) schedule, with F(x_k) on the seeded probe set when the schedule asks for it, and a
      // critical-batch measurement when it asks for one
      let criticalBatchSize: number | null = null;
      if (schedule.wantsCriticalBatch?.(st.schedule as S, st)) {
        if (args.measureCriticalBatch == null) {
          throw new ConfigError(
            `${runName}: schedule "${schedule.name}" asks for critical-batch measurements; pass measureCriticalBatch to trainLoop`,
          );
        }
        const m0 = performance.now();
        criticalBatchSize = await args.measureCriticalBatch({
          step: st.step,
          examples: st.examples,
        });
        untimedMs += performance.now() - m0;
      }
      const { decision } = decideNext(
        schedule,
        st.schedule as S,
        { ...st, datasetSize: train.n },
        {
          trainLoss: () => {
            const e0 = performance.now();
            probe ??= probeSource(train, schedule.trainLossFraction ?? 1, config.seed);
            const loss = evaluate(model, task, probe, config.evalBatchSize).loss;
            untimedMs += performance.now() - e0;
            return loss;
          },
          noise: noise != null ? noise.read(st.noise) : null,
          budgetLeft: examplesBudget - st.examples,
          criticalBatchSize,
        },
      );
      const B = decision.batchSize;
      const lr = config.learningRate * decision.lrFactor;
      const wd = applyWeightDecay(optimizer, baseWeightDecay, decision.weightDecayFactor, runName);
      // (2) data
      const drawn = sampleBatch(st.sampler as SamplerState, B);
      // (3) update: K replicas and the micro-batch size (measured first when "auto" meets a new
      // batch size; untimed), then one model update
      let K = Math.min(maxReplicas, B);
      let cap = config.microBatchSize;
      if (st.replicaPlan != null) {
        const p0 = performance.now();
        const plan = await planReplicas(
          st.replicaPlan as ReplicaPlanState,
          {
            model,
            task,
            train,
            parallel,
            maxReplicas,
            microBatchCap: config.microBatchSize,
            measure: examplesBudget - st.examples >= 20 * B,
            chooseReplicas: auto,
          },
          B,
        );
        untimedMs += performance.now() - p0;
        st = { ...st, replicaPlan: plan };
        if (auto) K = plan.replicas as number;
        if (tuneMicroBatch) cap = plan.microBatchSize as number;
      }
      if (ada != null) driveAdaScale(ada, B, noise != null ? noise.read(st.noise) : null);
      const estimating = noise != null || config.perLayerNoise;
      const batch = train.batch(drawn.indices);
      let r;
      if (K === 1 || parallel == null) {
        K = 1;
        const microBatchSize = noiseSplit(
          { ...config, microBatchSize: cap },
          st.step,
          B,
          estimating,
        );
        r = await trainStepAsync(model, optimizer, task, batch, {
          microBatchSize,
          learningRate: lr,
          perVariable: config.perLayerNoise && B > microBatchSize,
        });
      } else {
        r = await parallel.step(optimizer, batch, {
          replicas: K,
          microBatchSize: cap,
          learningRate: lr,
          perVariable: config.perLayerNoise,
        });
      }
      const step = st.step + 1;
      // (4) divergence: raise before any state moves, so the last checkpoint stays the newest
      if (!Number.isFinite(r.loss) || r.loss > config.maxLoss) {
        throw new ConvergenceError(
          `${runName}: training diverged at step ${step}: loss ${r.loss} (bound ${config.maxLoss}) with batch size ${B} and learning rate ${lr}`,
        );
      }
      // (5) state and the noise-scale estimate
      const record: StepRecord = { step, batchSize: B, ...r };
      st = advance(st, record, {
        seconds: (performance.now() - t0 - untimedMs) / 1000,
        schedule: decision.state,
        sampler: drawn.state,
        noise: noise != null ? noise.update(st.noise, record) : null,
      });
      if (layerEstimator != null) {
        const prev = (st.perLayerNoise as PerLayerNoiseState | undefined) ?? layerEstimator.init();
        st = { ...st, perLayerNoise: layerEstimator.update(prev, record) };
      }
      steps.push(record);
      // (6) log; evaluate when due; hooks
      const row = rowOf(runName, st, train.n, B, lr, noise != null ? noise.read(st.noise) : null);
      row.replicas = K;
      if (wd != null) row.weightDecay = wd;
      if (ada != null) {
        row.learningRate = ada.lastLearningRate ?? lr;
        row.adaScaleGain = ada.lastGain ?? 1;
        row.scaleInvariantSteps = ada.scaleInvariantSteps;
        st = { ...st, adaScale: ada.getState() };
      }
      if (layerEstimator != null && st.perLayerNoise != null) {
        const layers = layerEstimator.read(st.perLayerNoise as PerLayerNoiseState);
        const entries = Object.entries(layers).filter(([, o]) => o.bSimple != null);
        if (entries.length > 0) {
          row.bSimpleLayers = Object.fromEntries(entries.map(([k, o]) => [k, o.bSimple as number]));
        }
      }
      if (st.examples >= st.nextEval || st.examples >= examplesBudget) {
        const ev = await evaluateAsync(model, task, test, config.evalBatchSize);
        row.testLoss = ev.loss;
        row.testAccuracy = ev.accuracy;
        let next = st.nextEval;
        while (next <= st.examples) next += evalEvery;
        st = { ...st, nextEval: next };
      }
      rows.push(row);
      hooks.forEach((h) => (h.onStep?.(record), h.onRow?.(row)));
      if (config.stopAtAccuracy != null && (row.testAccuracy ?? -1) >= config.stopAtAccuracy) break;
      // (7) checkpoint when due or when asked to stop
      stepsSinceSave += 1;
      stopped = args.shouldStop?.() ?? false;
      const sinceSave = (performance.now() - lastSave) / 1000;
      if (checkpoint != null && checkpointDue(checkpoint, stepsSinceSave, sinceSave, stopped)) {
        await save();
        lastSave = performance.now();
        stepsSinceSave = 0;
      }
      if (stopped) break;
      // Let signal handlers and timers run between updates (a few µs; on a fast backend a
      // Ctrl-C must not wait for ten updates).
      await new Promise((res) => setImmediate(res));
    }
    if (!stopped && (stepsSinceSave > 0 || !hasCheckpoint(checkpoint?.dir ?? ""))) await save();
  } finally {
    await parallel?.close();
    hooks.forEach((h) => h.onEnd?.());
  }
  return { rows, steps, stopped, state: st };
}
