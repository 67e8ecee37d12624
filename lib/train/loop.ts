/**
 * The training loop: a budget of training examples, a batch-size schedule, periodic
 * evaluation, and a run log. Reads as one function with numbered phases.
 */
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { SingleBar, Presets } from "cli-progress";
import { BatchSchedule, Observation } from "../schedules/types";
import { NoiseObservation } from "../noise/types";
import {
  epochPermutation,
  parseSamplerState,
  samplerInit,
  sampleBatch,
  SamplerState,
} from "../data/sampler";
import {
  checkCompatible,
  hasCheckpoint,
  loadCheckpoint,
  LoopState,
  restoreInto,
  saveCheckpoint,
} from "./checkpoint";
import { RunLogRow } from "./types";
import { trainStep } from "./step";
import { StepBatch } from "../data/source";
import { ConvergenceError } from "../core/errors";
import { StepResult } from "../grad/types";
import { Task } from "../grad/task";
import { ConfigError } from "../core/errors";

/** Examples addressed by index: the training loop's view of a dataset. */
export interface DataSource {
  /** Number of examples n (for a language model: number of windows). */
  readonly n: number;
  /** The examples at `indices`, laid out as the task expects. */
  batch(indices: Int32Array): StepBatch;
}

/** Per-update record beyond the run log: what the noise-scale estimators need. */
export interface StepRecord {
  step: number;
  batchSize: number;
  loss: number;
  gradSqNorm: number;
  microBatchSizes: number[];
  microBatchSqNorms: number[];
}

/** Settings of one training run (validated by the caller's config schema). */
export interface LoopConfig {
  /** Name of the run in the log. */
  runName: string;
  /** Training examples to process in total; the last batch is clipped to fit. Integer ≥ 1. */
  examplesBudget: number;
  /** Base learning rate (> 0); the schedule's lrFactor multiplies it. */
  learningRate: number;
  /** Largest micro-batch that fits in memory (examples). */
  microBatchSize: number;
  /** Evaluate on the test set every this many training examples (and at the end). */
  evalEvery: number;
  /** Examples per evaluation forward pass. */
  evalBatchSize: number;
  /** Seed of the data sampler. */
  seed: number;
  /** A training loss above this (or NaN/Inf) raises ConvergenceError. */
  maxLoss: number;
  /** Show a progress bar (on a TTY) or print a line per evaluation (otherwise). */
  progress: boolean;
  /**
   * With a noise-scale estimator: split every batch into at least this many micro-batches
   * (micro-batch size min(cap, ⌈B/k⌉)) so each update yields an estimate; default 2, 0 or 1 =
   * only the memory cap splits.
   */
  noiseMicroBatches?: number;
  /**
   * Force that split only on every this-many-th update (default 4): a split costs ≈ 3% of a
   * small-batch step on wasm (B = 64 → 2 × 32, bench/noise-overhead.ts --as-main-job), so the
   * estimator samples 1 update in 4 and its cost stays under 3%. Updates whose batch exceeds
   * the memory cap are split anyway and always give an estimate.
   */
  noiseEvery?: number;
  /** Stop after the first evaluation whose test accuracy reaches this value (a B_crit sweep). */
  stopAtAccuracy?: number;
}

/** What {@link trainLoop} returns. */
export interface TrainResult {
  rows: RunLogRow[];
  steps: StepRecord[];
}

/** Mean loss and accuracy of `model` on every example of `data`. */
export function evaluate(
  model: tfl.LayersModel,
  task: Task,
  data: DataSource,
  batchSize: number,
): { loss: number; accuracy: number } {
  let lossSum: tf.Scalar = tf.scalar(0);
  let correct: tf.Scalar = tf.scalar(0);
  for (let start = 0; start < data.n; start += batchSize) {
    const b = Math.min(batchSize, data.n - start);
    const idx = new Int32Array(b);
    for (let i = 0; i < b; i++) idx[i] = start + i;
    const batch = data.batch(idx);
    const [l, c] = tf.tidy(() => {
      const x = tf.tensor(batch.x, [b, ...task.xShape], task.xDtype);
      const y =
        task.yPerExample === 1
          ? tf.tensor1d(batch.y, "int32")
          : tf.tensor2d(batch.y, [b, task.yPerExample], "int32");
      const r = task.evaluate(model, x, y);
      return [tf.add(lossSum, r.lossSum) as tf.Scalar, tf.add(correct, r.correct) as tf.Scalar];
    });
    lossSum.dispose();
    correct.dispose();
    lossSum = l;
    correct = c;
  }
  const both = tf.stack([lossSum, correct]);
  const [ls, cs] = both.dataSync();
  tf.dispose([both, lossSum, correct]);
  return { loss: ls / data.n, accuracy: cs / data.n };
}

/**
 * The fixed, seeded subset on which F(x_k) is measured for schedules that need the training
 * loss: the first ⌈fraction·n⌉ indices of a permutation drawn from the run's seed.
 * @throws Error if fraction is not in (0, 1].
 */
export function probeSource(train: DataSource, fraction: number, seed: number): DataSource {
  if (!(fraction > 0 && fraction <= 1)) {
    throw new ConfigError(`trainLossFraction must be in (0, 1], got ${fraction}`);
  }
  if (fraction === 1) return train;
  const m = Math.max(1, Math.ceil(fraction * train.n));
  const idx = epochPermutation(train.n, seed + 0x9e3779b9, 0).subarray(0, m);
  return { n: m, batch: (indices) => train.batch(indices.map((i) => idx[i])) };
}

/**
 * A noise-scale estimator the loop feeds after every update (see lib/noise): a pure state
 * machine over the per-update gradient norms.
 */
export interface NoiseEstimatorHook<N = unknown> {
  init(): N;
  update(state: N, record: StepRecord): N;
  read(state: N): NoiseObservation | null;
}

/** Raised when a run stops because `shouldStop()` returned true (e.g. Ctrl-C); a checkpoint was written. */
export class InterruptedError extends Error {
  override name = "InterruptedError";
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

/**
 * Trains `model` for `config.examplesBudget` examples with the batch sizes `schedule` picks.
 *
 * Phases per update: (1) ask the schedule for B and the LR factor (computing F(x_k) on the
 * probe set first if it asks), (2) draw B indices from the seeded epoch sampler, (3) one model
 * update (micro-batched above the memory cap), (4) divergence check, (5) noise-scale estimate,
 * (6) log and evaluate when due, (7) checkpoint when due or when asked to stop. Wall-clock
 * excludes evaluation and checkpoint writing.
 *
 * @throws ConvergenceError when the loss is NaN/Inf or above `config.maxLoss`, naming the
 *   step, batch size and learning rate (the last checkpoint written stays the newest).
 * @throws InterruptedError after writing a checkpoint when `shouldStop()` returns true.
 * @throws CheckpointError when resuming from an incompatible checkpoint.
 */
export async function trainLoop<S>(args: {
  model: tfl.LayersModel;
  optimizer: tf.Optimizer;
  task: Task;
  train: DataSource;
  test: DataSource;
  schedule: BatchSchedule<S>;
  config: LoopConfig;
  noise?: NoiseEstimatorHook;
  checkpoint?: CheckpointOptions;
  shouldStop?: () => boolean;
  onRow?: (row: RunLogRow) => void;
}): Promise<TrainResult> {
  const { model, optimizer, task, train, test, schedule, config, noise, checkpoint } = args;
  let rows: RunLogRow[] = [];
  const steps: StepRecord[] = [];
  let st: LoopState = {
    step: 0,
    examples: 0,
    trainSeconds: 0,
    nextEval: config.evalEvery,
    lastLoss: null,
    lastGradSqNorm: null,
    schedule: schedule.init(),
    sampler: samplerInit({ n: train.n, seed: config.seed }),
    noise: noise?.init() ?? null,
  };
  // (0) resume
  if (checkpoint?.resume && hasCheckpoint(checkpoint.dir)) {
    const loaded = loadCheckpoint(checkpoint.dir);
    try {
      checkCompatible(loaded, model, checkpoint.config);
    } catch (e) {
      tf.dispose([...loaded.weights, ...loaded.optimizer.weights.map((w) => w.tensor)]);
      throw e;
    }
    await restoreInto(loaded, model, optimizer);
    st = loaded.meta.state;
    st.sampler = parseSamplerState(st.sampler);
    rows = loaded.rows;
  }
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
  const bar =
    config.progress && process.stderr.isTTY
      ? new SingleBar(
          {
            format: `${config.runName} [{bar}] {percentage}% | step {step} | B {B} | loss {loss} | acc {acc} | {duration_formatted}`,
          },
          Presets.shades_classic,
        )
      : null;
  bar?.start(config.examplesBudget, st.examples, { step: st.step, B: "-", loss: "-", acc: "-" });
  let lastAcc = "-";

  try {
    while (st.examples < config.examplesBudget) {
      const t0 = performance.now();
      // (1) schedule (with F(x_k) on the seeded probe set when the schedule asks for it)
      let trainLoss: number | null = null;
      if (schedule.wantsTrainLoss?.(st.schedule as S, st.step)) {
        probe ??= probeSource(train, schedule.trainLossFraction ?? 1, config.seed);
        trainLoss = evaluate(model, task, probe, config.evalBatchSize).loss;
      }
      const obs: Observation = {
        step: st.step,
        epoch: st.examples / train.n,
        examples: st.examples,
        datasetSize: train.n,
        lastLoss: st.lastLoss,
        lastGradSqNorm: st.lastGradSqNorm,
        trainLoss,
        noise: noise != null ? noise.read(st.noise) : null,
      };
      const decision = schedule.update(st.schedule as S, obs);
      const B = Math.min(decision.batchSize, config.examplesBudget - st.examples);
      const lr = config.learningRate * decision.lrFactor;
      // (2) data
      const drawn = sampleBatch(st.sampler as SamplerState, B);
      const batch = train.batch(drawn.indices);
      // (3) update
      const every = config.noiseEvery ?? 4;
      const k = noise != null && st.step % every === 0 ? (config.noiseMicroBatches ?? 2) : 1;
      const micro =
        k >= 2
          ? Math.min(config.microBatchSize, Math.max(1, Math.ceil(B / k)))
          : config.microBatchSize;
      const r: StepResult = trainStep(model, optimizer, task, batch, {
        microBatchSize: micro,
        learningRate: lr,
      });
      const step = st.step + 1;
      // (4) divergence: raise before any state moves, so the last checkpoint stays the newest.
      if (!Number.isFinite(r.loss) || r.loss > config.maxLoss) {
        throw new ConvergenceError(
          `${config.runName}: training diverged at step ${step}: loss ${r.loss} (bound ${config.maxLoss}) with batch size ${B} and learning rate ${lr}`,
        );
      }
      // (5) bookkeeping and the noise-scale estimate
      const record: StepRecord = {
        step,
        batchSize: B,
        loss: r.loss,
        gradSqNorm: r.gradSqNorm,
        microBatchSizes: r.microBatchSizes,
        microBatchSqNorms: r.microBatchSqNorms,
      };
      steps.push(record);
      st = {
        ...st,
        step,
        examples: st.examples + B,
        trainSeconds: st.trainSeconds + (performance.now() - t0) / 1000,
        lastLoss: r.loss,
        lastGradSqNorm: r.gradSqNorm,
        schedule: decision.state,
        sampler: drawn.state,
        noise: noise != null ? noise.update(st.noise, record) : null,
      };
      // (6) log; evaluate when due
      const row: RunLogRow = {
        run: config.runName,
        step,
        epoch: st.examples / train.n,
        examples: st.examples,
        batchSize: B,
        learningRate: lr,
        trainLoss: r.loss,
        testLoss: null,
        testAccuracy: null,
        wallClock: st.trainSeconds,
      };
      const est = noise != null ? noise.read(st.noise) : null;
      if (est?.bSimple != null) row.bSimple = est.bSimple;
      if (st.examples >= st.nextEval || st.examples >= config.examplesBudget) {
        const ev = evaluate(model, task, test, config.evalBatchSize);
        row.testLoss = ev.loss;
        row.testAccuracy = ev.accuracy;
        lastAcc = (100 * ev.accuracy).toFixed(2) + "%";
        let next = st.nextEval;
        while (next <= st.examples) next += config.evalEvery;
        st = { ...st, nextEval: next };
        if (config.progress && bar == null) {
          console.log(
            `${config.runName}: step ${step}, epoch ${row.epoch.toFixed(2)}, B ${B}, train loss ${r.loss.toFixed(4)}, test loss ${ev.loss.toFixed(4)}, test accuracy ${lastAcc}, ${st.trainSeconds.toFixed(1)} s`,
          );
        }
      }
      rows.push(row);
      args.onRow?.(row);
      if (
        config.stopAtAccuracy != null &&
        row.testAccuracy != null &&
        row.testAccuracy >= config.stopAtAccuracy
      ) {
        break;
      }
      bar?.update(st.examples, { step, B, loss: r.loss.toFixed(4), acc: lastAcc });
      // (7) checkpoint when due, or when asked to stop
      stepsSinceSave += 1;
      const stop = args.shouldStop?.() ?? false;
      if (
        checkpoint != null &&
        (stop ||
          (checkpoint.everySteps > 0 && stepsSinceSave >= checkpoint.everySteps) ||
          (checkpoint.everySeconds > 0 &&
            (performance.now() - lastSave) / 1000 >= checkpoint.everySeconds))
      ) {
        await save();
        lastSave = performance.now();
        stepsSinceSave = 0;
      }
      if (stop) {
        throw new InterruptedError(
          `${config.runName}: stopped at step ${step}${checkpoint ? `; checkpoint written to ${checkpoint.dir}` : ""}`,
        );
      }
      // Let signal handlers and timers run between updates (a few µs; on a fast backend a
      // Ctrl-C must not wait for ten updates).
      await new Promise((res) => setImmediate(res));
    }
    if (stepsSinceSave > 0 || !hasCheckpoint(checkpoint?.dir ?? "")) await save();
  } finally {
    bar?.stop();
  }
  return { rows, steps };
}
