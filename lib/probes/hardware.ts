/**
 * The hardware side of choosing a batch size: throughput (examples/s) against B on the current
 * backend, and the largest batch that fits in memory — the two curves goodput multiplies with
 * statistical efficiency (Qiao et al., "Pollux", OSDI'21; docs/design.md §1 "Goodput").
 *
 * Both probes leave the model exactly as they found it: every weight (trainable or not, e.g.
 * batch-norm moving statistics) is snapshotted before and restored bit for bit after, also on
 * error. The caller's optimizer is never touched: throughput is timed with a throwaway
 * optimizer from `makeOptimizer` (same kind, fresh state), the memory probe applies no update.
 */
import * as os from "os";
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { Adam } from "../optim/adam";
import { trainStep } from "../train/step";
import { StepBatch } from "../data/source";
import { trainableVariables } from "../grad/batch";
import type { Task } from "../grad/task";
import { batchTensors } from "../grad/batch";
import { ConfigError } from "../core/errors";
import { withWeightsRestored, withWeightsRestoredAsync } from "../grad/weights";

export { withWeightsRestored };

/** wasm's heap limit: 4 GiB (32-bit addresses); the heap grows but never shrinks. */
export const WASM_HEAP_BYTES = 4 * 1024 * 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// Throughput

/** Options of {@link measureThroughput}. */
export interface ThroughputOptions {
  /** Batch sizes to time, integers ≥ 1. */
  batchSizes: readonly number[];
  /** Untimed steps per batch size first (slot creation, kernel warm-up); default 2. */
  warmupSteps?: number;
  /** Timed steps per batch size, integer ≥ 1; default 5. */
  steps?: number;
  /** Micro-batch cap passed to trainStep; default B (no micro-batching). */
  microBatchSize?: number;
  /** Learning rate of the timed steps (> 0); default 1e-3. The model is restored anyway. */
  learningRate?: number;
  /** Makes the throwaway optimizer; default batchwise's `Adam` (lib/optim/adam.ts) at `learningRate`. */
  makeOptimizer?: () => tf.Optimizer;
  /** Stop starting new batch sizes after this many ms; default unlimited. */
  timeBudgetMs?: number;
}

/** One batch size's measured speed. */
export interface ThroughputPoint {
  /** B. */
  batchSize: number;
  /** Mean wall-clock milliseconds per trainStep (forward, backward, update, one sync). */
  msPerStep: number;
  /** B / (msPerStep/1000). */
  examplesPerSecond: number;
  /** Timed steps. */
  steps: number;
}

/**
 * Training throughput against batch size on the current backend.
 *
 * Formula: examples/s = B·k / (wall-clock of k timed trainStep calls), after `warmupSteps`
 * untimed calls at that B.
 *
 * @param model - The model to time (restored exactly afterwards).
 * @param task - Its task.
 * @param makeBatch - Returns a batch of B examples (called once per B; its cost is not timed).
 * @param opts - {@link ThroughputOptions}.
 * @returns One point per batch size measured, in the given order (fewer when the time budget
 *   ran out).
 * @throws Error on invalid options; errors from trainStep (e.g. out of memory) propagate
 *   after the weights are restored.
 * @example
 * measureThroughput(model, task, (B) => randomBatch(B), { batchSizes: [32, 64, 128] });
 */
export function measureThroughput(
  model: tfl.LayersModel,
  task: Task,
  makeBatch: (batchSize: number) => StepBatch,
  opts: ThroughputOptions,
): ThroughputPoint[] {
  for (const B of opts.batchSizes) {
    if (!Number.isInteger(B) || B < 1)
      throw new ConfigError(`batchSizes must be integers >= 1, got ${B}`);
  }
  const warmup = opts.warmupSteps ?? 2;
  const steps = opts.steps ?? 5;
  if (!Number.isInteger(warmup) || warmup < 0) {
    throw new ConfigError(`warmupSteps must be an integer >= 0, got ${warmup}`);
  }
  if (!Number.isInteger(steps) || steps < 1)
    throw new ConfigError(`steps must be an integer >= 1, got ${steps}`);
  const lr = opts.learningRate ?? 1e-3;
  if (!(Number.isFinite(lr) && lr > 0))
    throw new ConfigError(`learningRate must be > 0, got ${lr}`);
  const budget = opts.timeBudgetMs ?? Infinity;
  const t0 = performance.now();
  const optimizer = (opts.makeOptimizer ?? (() => new Adam({ learningRate: lr })))();
  try {
    return withWeightsRestored(model, () => {
      const out: ThroughputPoint[] = [];
      for (const B of opts.batchSizes) {
        if (performance.now() - t0 > budget) break;
        const batch = makeBatch(B);
        const stepOpts = { microBatchSize: opts.microBatchSize ?? B, learningRate: lr };
        for (let i = 0; i < warmup; i++) trainStep(model, optimizer, task, batch, stepOpts);
        const start = performance.now();
        for (let i = 0; i < steps; i++) trainStep(model, optimizer, task, batch, stepOpts);
        const ms = (performance.now() - start) / steps;
        out.push({ batchSize: B, msPerStep: ms, examplesPerSecond: (1000 * B) / ms, steps });
      }
      return out;
    });
  } finally {
    optimizer.dispose();
  }
}

// ---------------------------------------------------------------------------------------------
// Largest batch that fits: the search (pure, injectable predicate)

/** Options of {@link findLargestBatch}. */
export interface LargestBatchOptions {
  /** First batch size tried, integer ≥ 1; default 1. */
  start?: number;
  /** Geometric growth factor > 1 while every trial succeeds; default 2. */
  growth?: number;
  /** Never try above this (a memory bound or a user cap), integer ≥ 1; default unbounded. */
  maxBatch?: number;
  /** Stop bisecting when hi − lo ≤ max(1, tolerance·lo); in [0, 1), default 0 (exact). */
  tolerance?: number;
  /** Stop (returning the best so far) once this many ms have passed; default unlimited. */
  timeBudgetMs?: number;
  /** Clock in ms (injectable for tests); default performance.now. */
  now?: () => number;
}

/** What {@link findLargestBatch} found. */
export interface LargestBatchResult {
  /** Largest B that succeeded, or null when none did. */
  largest: number | null;
  /** Smallest B known to fail (null when none failed). */
  smallestFailure: number | null;
  /** Why the search stopped: bracketed by a failure, reached `maxBatch`, or out of time. */
  stoppedBy: "failure" | "bound" | "budget";
  /** Every trial in order. */
  trials: { batchSize: number; ok: boolean }[];
}

/**
 * Largest batch size for which `tryBatch` succeeds, assuming success is monotone (every B below
 * a working one works): grow B geometrically from `start` until a failure or `maxBatch`, then
 * bisect between the last success and the first failure.
 *
 * Formula: B_k = min(⌈start·growth^k⌉, maxBatch) until failure at B_f (last success B_s);
 * then mid = ⌊(lo + hi)/2⌋ on [B_s, B_f] until hi − lo ≤ max(1, tolerance·lo). Trials:
 * ≈ log_growth(B_max/start) + log₂(B_max·(growth−1)/growth) + 1. If `start` itself fails, the
 * bisection runs on [0, start].
 *
 * @param tryBatch - Returns true when a batch of B fits (should catch allocation errors).
 * @param opts - {@link LargestBatchOptions}.
 * @returns {@link LargestBatchResult}.
 * @throws Error on invalid options (naming the option and value).
 * @example
 * findLargestBatch((B) => B <= 300, { start: 16 }); // largest 300, stoppedBy "failure"
 */
export function findLargestBatch(
  tryBatch: (batchSize: number) => boolean,
  opts: LargestBatchOptions = {},
): LargestBatchResult {
  const start = opts.start ?? 1;
  const growth = opts.growth ?? 2;
  const maxBatch = opts.maxBatch ?? Infinity;
  const tol = opts.tolerance ?? 0;
  const budget = opts.timeBudgetMs ?? Infinity;
  const now = opts.now ?? (() => performance.now());
  if (!Number.isInteger(start) || start < 1)
    throw new ConfigError(`start must be an integer >= 1, got ${start}`);
  if (!(Number.isFinite(growth) && growth > 1))
    throw new ConfigError(`growth must be a number > 1, got ${growth}`);
  if (!(maxBatch === Infinity || (Number.isInteger(maxBatch) && maxBatch >= 1))) {
    throw new ConfigError(`maxBatch must be an integer >= 1, got ${maxBatch}`);
  }
  if (!(tol >= 0 && tol < 1)) throw new ConfigError(`tolerance must be in [0, 1), got ${tol}`);
  if (!(budget > 0)) throw new ConfigError(`timeBudgetMs must be > 0, got ${budget}`);
  const t0 = now();
  const trials: { batchSize: number; ok: boolean }[] = [];
  let lo = 0; // largest known success (0: none)
  let hi: number | null = null; // smallest known failure
  const done = (stoppedBy: LargestBatchResult["stoppedBy"]): LargestBatchResult => ({
    largest: lo > 0 ? lo : null,
    smallestFailure: hi,
    stoppedBy,
    trials,
  });
  const trial = (B: number): boolean | null => {
    if (now() - t0 > budget) return null;
    const ok = tryBatch(B);
    trials.push({ batchSize: B, ok });
    return ok;
  };
  // Grow.
  let B = Math.min(start, maxBatch);
  for (;;) {
    const ok = trial(B);
    if (ok == null) return done("budget");
    if (!ok) {
      hi = B;
      break;
    }
    lo = B;
    if (B >= maxBatch) return done("bound");
    B = Math.min(Math.max(B + 1, Math.ceil(B * growth)), maxBatch);
  }
  // Bisect on (lo, hi).
  while (hi - lo > Math.max(1, tol * lo)) {
    const mid = Math.floor((lo + hi) / 2);
    const ok = trial(mid);
    if (ok == null) return done("budget");
    if (ok) lo = mid;
    else hi = mid;
  }
  return done("failure");
}

// ---------------------------------------------------------------------------------------------
// Largest batch that fits: the memory model and the real probe

/** Linear memory model of one training step: peak bytes ≈ fixedBytes + bytesPerExample·B. */
export interface MemoryModel {
  /** Bytes independent of B (weights, gradients, optimizer state, …); may be ≤ 0 from noise. */
  fixedBytes: number;
  /** Peak tensor bytes added per example (activations kept for the backward pass, …), > 0. */
  bytesPerExample: number;
}

/**
 * The largest B the memory model allows under a byte bound.
 *
 * Formula: B_max = ⌊(safety·boundBytes − fixedBytes)/bytesPerExample⌋.
 *
 * @param m - The memory model (bytesPerExample > 0).
 * @param boundBytes - Memory available, bytes > 0 (e.g. {@link WASM_HEAP_BYTES}).
 * @param safety - Fraction of the bound to plan for, in (0, 1]; default 0.75 (kernels' scratch
 *   buffers and heap fragmentation are not in the tensor byte count).
 * @returns B_max (0 when not even one example fits).
 * @throws Error for bytesPerExample ≤ 0, boundBytes ≤ 0 or safety outside (0, 1].
 * @example memoryBoundBatch({ fixedBytes: 1e6, bytesPerExample: 1e5 }, 1e7, 1); // 90
 */
export function memoryBoundBatch(m: MemoryModel, boundBytes: number, safety = 0.75): number {
  if (!(m.bytesPerExample > 0))
    throw new ConfigError(`bytesPerExample must be > 0, got ${m.bytesPerExample}`);
  if (!(boundBytes > 0)) throw new ConfigError(`boundBytes must be > 0, got ${boundBytes}`);
  if (!(safety > 0 && safety <= 1))
    throw new ConfigError(`safety must be in (0, 1], got ${safety}`);
  return Math.max(0, Math.floor((safety * boundBytes - m.fixedBytes) / m.bytesPerExample));
}

function gradientPass(model: tfl.LayersModel, task: Task, batch: StepBatch): void {
  const vars = trainableVariables(model);
  tf.tidy(() => {
    const { x, y } = batchTensors(task, batch, 0, batch.size);
    const { value, grads } = tf.variableGrads(
      () => tf.div(task.lossSum(model, x, y, true), batch.size) as tf.Scalar,
      vars,
    );
    // Force execution on lazy backends; one scalar read.
    tf.addN([value, ...Object.values(grads).map((g) => tf.sum(g))]).dataSync();
  });
}

/**
 * Estimates the memory model from tfjs's peak tensor bytes (`tf.profile`) of one
 * forward+backward pass at two batch sizes.
 *
 * Formula: bytesPerExample = (peak(B₂) − peak(B₁))/(B₂ − B₁), fixedBytes = peak(B₁) −
 * B₁·bytesPerExample. Departure: counts tensors only (not backend scratch memory, e.g. wasm
 * kernels' temporary buffers), so it is a lower bound — {@link memoryBoundBatch} applies a
 * safety factor. Weights are restored afterwards (batch-norm statistics move in training mode).
 *
 * @param model - The model (restored exactly).
 * @param task - Its task.
 * @param makeBatch - Returns a batch of B examples.
 * @param sizes - Two distinct probe batch sizes [B₁, B₂], default [2, 8].
 * @returns The {@link MemoryModel}.
 * @throws Error if the sizes are not two distinct integers ≥ 1, or peak bytes do not grow with
 *   B (bytesPerExample ≤ 0).
 * @example const mem = await probeMemoryModel(model, task, makeBatch);
 */
export async function probeMemoryModel(
  model: tfl.LayersModel,
  task: Task,
  makeBatch: (batchSize: number) => StepBatch,
  sizes: [number, number] = [2, 8],
): Promise<MemoryModel> {
  const [b1, b2] = sizes;
  if (!(Number.isInteger(b1) && Number.isInteger(b2) && b1 >= 1 && b2 >= 1 && b1 !== b2)) {
    throw new ConfigError(`sizes must be two distinct integers >= 1, got [${sizes}]`);
  }
  const batches = [makeBatch(b1), makeBatch(b2)];
  const peaks = await withWeightsRestoredAsync(model, async () => {
    const out: number[] = [];
    for (const batch of batches) {
      const info = await tf.profile(() => gradientPass(model, task, batch));
      out.push(info.peakBytes);
    }
    return out;
  });
  const bytesPerExample = (peaks[1] - peaks[0]) / (b2 - b1);
  if (!(bytesPerExample > 0)) {
    throw new ConfigError(
      `peak bytes did not grow with the batch size (${peaks[0]} at ${b1}, ${peaks[1]} at ${b2})`,
    );
  }
  return { fixedBytes: peaks[0] - b1 * bytesPerExample, bytesPerExample };
}

/** Options of {@link largestBatchThatFits}. */
export interface FitsOptions {
  /**
   * Memory bound in bytes; default {@link WASM_HEAP_BYTES} on the wasm backend, else the
   * machine's total memory (os.totalmem()).
   */
  memoryBoundBytes?: number;
  /** Fraction of the bound planned for, (0, 1]; default 0.75. */
  safety?: number;
  /** Wall-clock budget for the search in ms; default 60,000. */
  timeBudgetMs?: number;
  /** Probe sizes of the memory model; default [2, 8]. */
  probeSizes?: [number, number];
  /** First B tried; default 8. */
  start?: number;
  /** A user cap on B (applied with the memory bound, the smaller wins). */
  maxBatch?: number;
  /** Stop bisecting at this relative gap; default 0.05. */
  tolerance?: number;
}

/**
 * The largest batch whose forward+backward pass runs on the current backend: a memory model
 * from two small probes caps the search ({@link memoryBoundBatch}), then
 * {@link findLargestBatch} tries real passes up to that cap, counting a thrown error (e.g. a
 * failed allocation) as "does not fit".
 *
 * Cost and caveats: each trial is one forward+backward pass at B (no update). The wasm heap
 * never shrinks, so a trial near the 4 GiB cap keeps that memory for the rest of the process —
 * the memory model exists to stop the search before it gets there. The search respects
 * `timeBudgetMs` (checked before each trial). Optimizer state (Adam: 2× the weights) is not in
 * the probe; it is B-independent and small for the models here.
 *
 * @param model - The model (restored exactly afterwards).
 * @param task - Its task.
 * @param makeBatch - Returns a batch of B examples (called per trial).
 * @param opts - {@link FitsOptions}.
 * @returns The search result plus the memory model and its batch bound.
 * @throws Error from {@link probeMemoryModel} or on invalid options.
 * @example
 * const r = await largestBatchThatFits(model, task, makeBatch, { timeBudgetMs: 30_000 });
 * r.largest; // e.g. 4096
 */
export async function largestBatchThatFits(
  model: tfl.LayersModel,
  task: Task,
  makeBatch: (batchSize: number) => StepBatch,
  opts: FitsOptions = {},
): Promise<LargestBatchResult & { memory: MemoryModel; memoryBound: number }> {
  const t0 = performance.now();
  const budget = opts.timeBudgetMs ?? 60_000;
  const bound =
    opts.memoryBoundBytes ?? (tf.getBackend() === "wasm" ? WASM_HEAP_BYTES : os.totalmem());
  const memory = await probeMemoryModel(model, task, makeBatch, opts.probeSizes ?? [2, 8]);
  const memoryBound = memoryBoundBatch(memory, bound, opts.safety ?? 0.75);
  const cap = Math.min(memoryBound, opts.maxBatch ?? Infinity);
  if (cap < 1) {
    return {
      largest: null,
      smallestFailure: 1,
      stoppedBy: "bound",
      trials: [],
      memory,
      memoryBound,
    };
  }
  const remaining = Math.max(1, budget - (performance.now() - t0));
  const r = withWeightsRestored(model, () =>
    findLargestBatch(
      (B) => {
        try {
          gradientPass(model, task, makeBatch(B));
          return true;
        } catch {
          return false;
        }
      },
      {
        start: Math.min(opts.start ?? 8, cap),
        maxBatch: cap,
        tolerance: opts.tolerance ?? 0.05,
        timeBudgetMs: remaining,
      },
    ),
  );
  return { ...r, memory, memoryBound };
}
