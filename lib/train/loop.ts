/**
 * The training loop: a budget of training examples, a batch-size schedule, periodic
 * evaluation, and a run log. Reads as one function with numbered phases.
 */
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { SingleBar, Presets } from "cli-progress";
import { BatchSchedule, Observation } from "../schedules/types";
import { epochPermutation, samplerInit, sampleBatch } from "../data/sampler";
import { RunLogRow } from "../report/runlog-types";
import { StepBatch, ConvergenceError, StepResult, trainStep } from "./step";
import { Task } from "./task";

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
    throw new Error(`trainLossFraction must be in (0, 1], got ${fraction}`);
  }
  if (fraction === 1) return train;
  const m = Math.max(1, Math.ceil(fraction * train.n));
  const idx = epochPermutation(train.n, seed + 0x9e3779b9, 0).subarray(0, m);
  return { n: m, batch: (indices) => train.batch(indices.map((i) => idx[i])) };
}

/**
 * Trains `model` for `config.examplesBudget` examples with the batch sizes `schedule` picks.
 *
 * Phases per update: (1) ask the schedule for B and the LR factor (computing F(x_k) on the
 * probe set first if it asks), (2) draw B indices from
 * the seeded epoch sampler, (3) one model update (micro-batched above the memory cap),
 * (4) divergence check, (5) log, (6) evaluate when due. Wall-clock excludes evaluation.
 *
 * @throws ConvergenceError when the loss is NaN/Inf or above `config.maxLoss`, naming the
 *   step, batch size and learning rate.
 */
export async function trainLoop<S>(args: {
  model: tfl.LayersModel;
  optimizer: tf.Optimizer;
  task: Task;
  train: DataSource;
  test: DataSource;
  schedule: BatchSchedule<S>;
  config: LoopConfig;
  onRow?: (row: RunLogRow) => void;
}): Promise<TrainResult> {
  const { model, optimizer, task, train, test, schedule, config } = args;
  const rows: RunLogRow[] = [];
  const steps: StepRecord[] = [];
  let scheduleState = schedule.init();
  let sampler = samplerInit({ n: train.n, seed: config.seed });
  let examples = 0;
  let step = 0;
  let lastLoss: number | null = null;
  let lastGradSqNorm: number | null = null;
  let probe: DataSource | null = null;
  let trainSeconds = 0;
  let nextEval = config.evalEvery;
  const bar =
    config.progress && process.stderr.isTTY
      ? new SingleBar(
          {
            format: `${config.runName} [{bar}] {percentage}% | step {step} | B {B} | loss {loss} | acc {acc} | {duration_formatted}`,
          },
          Presets.shades_classic,
        )
      : null;
  bar?.start(config.examplesBudget, 0, { step: 0, B: "-", loss: "-", acc: "-" });
  let lastAcc = "-";

  while (examples < config.examplesBudget) {
    const t0 = performance.now();
    // (1) schedule (with F(x_k) on the seeded probe set when the schedule asks for it)
    let trainLoss: number | null = null;
    if (schedule.wantsTrainLoss?.(scheduleState, step)) {
      probe ??= probeSource(train, schedule.trainLossFraction ?? 1, config.seed);
      trainLoss = evaluate(model, task, probe, config.evalBatchSize).loss;
    }
    const obs: Observation = {
      step,
      epoch: examples / train.n,
      examples,
      datasetSize: train.n,
      lastLoss,
      lastGradSqNorm,
      trainLoss,
      noise: null,
    };
    const decision = schedule.update(scheduleState, obs);
    scheduleState = decision.state;
    const B = Math.min(decision.batchSize, config.examplesBudget - examples);
    const lr = config.learningRate * decision.lrFactor;
    // (2) data
    const drawn = sampleBatch(sampler, B);
    sampler = drawn.state;
    const batch = train.batch(drawn.indices);
    // (3) update
    const r: StepResult = trainStep(model, optimizer, task, batch, {
      microBatchSize: config.microBatchSize,
      learningRate: lr,
    });
    step += 1;
    examples += B;
    trainSeconds += (performance.now() - t0) / 1000;
    // (4) divergence
    if (!Number.isFinite(r.loss) || r.loss > config.maxLoss) {
      bar?.stop();
      throw new ConvergenceError(
        `${config.runName}: training diverged at step ${step}: loss ${r.loss} (bound ${config.maxLoss}) with batch size ${B} and learning rate ${lr}`,
      );
    }
    lastLoss = r.loss;
    lastGradSqNorm = r.gradSqNorm;
    steps.push({
      step,
      batchSize: B,
      loss: r.loss,
      gradSqNorm: r.gradSqNorm,
      microBatchSizes: r.microBatchSizes,
      microBatchSqNorms: r.microBatchSqNorms,
    });
    // (5) log; (6) evaluate when due
    const row: RunLogRow = {
      run: config.runName,
      step,
      epoch: examples / train.n,
      examples,
      batchSize: B,
      learningRate: lr,
      trainLoss: r.loss,
      testLoss: null,
      testAccuracy: null,
      wallClock: trainSeconds,
    };
    if (examples >= nextEval || examples >= config.examplesBudget) {
      const ev = evaluate(model, task, test, config.evalBatchSize);
      row.testLoss = ev.loss;
      row.testAccuracy = ev.accuracy;
      lastAcc = (100 * ev.accuracy).toFixed(2) + "%";
      while (nextEval <= examples) nextEval += config.evalEvery;
      if (config.progress && bar == null) {
        console.log(
          `${config.runName}: step ${step}, epoch ${row.epoch.toFixed(2)}, B ${B}, train loss ${r.loss.toFixed(4)}, test loss ${ev.loss.toFixed(4)}, test accuracy ${lastAcc}, ${trainSeconds.toFixed(1)} s`,
        );
      }
    }
    rows.push(row);
    args.onRow?.(row);
    bar?.update(examples, { step, B, loss: r.loss.toFixed(4), acc: lastAcc });
    // Let signal handlers and timers run between updates.
    if (step % 20 === 0) await new Promise((res) => setImmediate(res));
  }
  bar?.stop();
  return { rows, steps };
}
