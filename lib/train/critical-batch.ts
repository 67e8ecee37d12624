/**
 * The critical batch size measured directly by branched training (Merrill, Arora, Groeneveld &
 * Hajishirzi 2025, "Critical Batch Size Revisited", arXiv:2505.23971; docs/design.md §1): from
 * the current model and optimizer state, short branches at B₀·2^j, each over the same examples,
 * with the learning rate scaled by a rule; the critical batch size is the largest B whose loss
 * after those examples is within a tolerance of the smallest batch's. The model and the
 * optimizer are restored exactly afterwards.
 *
 * It trains, so it lives in train/ (docs/design.md §3): {@link measureCriticalBatch} is the
 * measurement over any {@link BranchRunner}; {@link modelBranchRunner} is the runner for a
 * tfjs-layers model and any tf.Optimizer.
 */
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { ConfigError } from "../core/errors";
import { requireInt, requireNumber } from "../core/validate";
import { sampleBatch, samplerInit } from "../data/sampler";
import type { DataSource } from "../data/source";
import type { Task } from "../grad/task";
import { AdaScale } from "../optim/adascale";
import type { NamedTensor } from "../optim/base";
import { linearScaling, sqrtScaling } from "../schedules/lr-rules";
import { evaluate } from "./evaluate";
import { trainStep } from "./step";

/** How the branch learning rate follows B: `lr₀·B/B₀`, `lr₀·√(B/B₀)` or `lr₀`. */
export type BranchLrRule = "linear" | "sqrt" | "none";

/** One branch to run: from the saved state, `steps` updates at B with this learning rate. */
export interface BranchSpec {
  /** B, integer ≥ 1. */
  batchSize: number;
  /** The learning rate of every update of the branch. */
  learningRate: number;
  /** Model updates, ⌊examples per branch / B⌋ ≥ 1. */
  steps: number;
  /** Seed of the branch's example order; the same seed gives every B the same examples. */
  seed: number;
}

/**
 * What {@link measureCriticalBatch} needs from a model: save and restore its whole training
 * state, and run one branch returning the loss after it.
 */
export interface BranchRunner<S = unknown> {
  /** A snapshot of the current state (model weights and optimizer state). */
  save(): S | Promise<S>;
  /** Puts the state back to `snapshot`, exactly. */
  restore(snapshot: S): void | Promise<void>;
  /** Trains one branch from the current state; returns the loss after it (finite or not). */
  runBranch(spec: BranchSpec): number | Promise<number>;
  /** Frees a snapshot (optional). */
  release?(snapshot: S): void;
}

/** Options of {@link measureCriticalBatch}. */
export interface CriticalBatchOptions {
  /** Candidate batch sizes, integers ≥ 1, strictly increasing; e.g. {@link doublingBatchSizes}. */
  batchSizes: number[];
  /** lr₀: the learning rate at the smallest candidate, finite > 0. */
  learningRate: number;
  /** How the learning rate scales with B; default "linear". */
  lrRule?: BranchLrRule;
  /** Examples per branch E, integer ≥ the largest candidate; a branch at B runs ⌊E/B⌋ updates. */
  examplesPerBranch: number;
  /**
   * ε ≥ 0, relative: B passes when `L_B − F* ≤ (1 + ε)(L_{B₀} − F*)`; default 0.05 (this
   * library's choice).
   */
  tolerance?: number;
  /** F*, subtracted from every loss before the comparison (finite); default 0. */
  optimalLoss?: number;
  /** Seeds; every branch is run once per seed and its losses averaged; default [0]. */
  seeds?: number[];
}

/** One candidate's result. */
export interface BranchResult {
  batchSize: number;
  learningRate: number;
  /** Model updates per branch. */
  steps: number;
  /** Examples actually processed per branch: steps·B. */
  examples: number;
  /** The loss after the branch, one per seed. */
  losses: number[];
  /** Their mean (NaN/∞ if a branch diverged). */
  meanLoss: number;
  /** Whether B is within the tolerance of the smallest batch. */
  withinTolerance: boolean;
}

/** What {@link measureCriticalBatch} returns. */
export interface CriticalBatchResult {
  /** Every candidate's branches, smallest B first. */
  branches: BranchResult[];
  /** The measured critical batch size: the largest B of the passing run from the smallest. */
  criticalBatchSize: number;
  /** The threshold a mean loss had to stay at or below: F* + (1 + ε)(L_{B₀} − F*). */
  threshold: number;
}

/**
 * Candidate batch sizes `B₀·2^j`, j = 0 … count − 1.
 * @param baseBatchSize - B₀, integer ≥ 1.
 * @param count - Number of candidates, integer ≥ 1.
 * @returns `[B₀, 2B₀, 4B₀, …]`.
 * @throws ConfigError naming the parameter and value.
 * @example doublingBatchSizes(8, 4) // [8, 16, 32, 64]
 */
export function doublingBatchSizes(baseBatchSize: number, count: number): number[] {
  requireInt("baseBatchSize", baseBatchSize, 1);
  requireInt("count", count, 1);
  return Array.from({ length: count }, (_, j) => baseBatchSize * 2 ** j);
}

/**
 * The branch learning rate `lr₀·f(B/B₀)` with f = identity (linear rule, Goyal et al. 2017),
 * √ (square-root rule) or 1 (none) — lib/schedules/lr-rules.ts.
 * @example branchLearningRate(0.1, 64, 16, "sqrt") // 0.2
 */
export function branchLearningRate(
  learningRate: number,
  batchSize: number,
  baseBatchSize: number,
  rule: BranchLrRule,
): number {
  if (rule === "linear") return learningRate * linearScaling(batchSize, baseBatchSize);
  if (rule === "sqrt") return learningRate * sqrtScaling(batchSize, baseBatchSize);
  return learningRate;
}

/**
 * The critical batch size from branch losses (Merrill et al. 2025, §3: the largest batch size
 * whose loss after the same examples is within a tolerance of the small-batch loss):
 *
 * `B passes ⇔ L_B − F* ≤ (1 + ε)(L_{B₀} − F*)`, CBS = the largest B of the run of passing
 * candidates that starts at the smallest B₀.
 *
 * Departure: the run must be unbroken from B₀ — a larger B that passes after one that failed
 * (noise, or a diverged branch's loss coming back down) does not count; a non-finite loss fails.
 *
 * @param batchSizes - Candidates, strictly increasing.
 * @param meanLosses - The mean loss after each candidate's branch (same length).
 * @param tolerance - ε ≥ 0.
 * @param optimalLoss - F*, default 0.
 * @returns `{criticalBatchSize, threshold, within}` (within: pass/fail per candidate).
 * @throws ConfigError if the lengths differ, ε < 0, or the smallest batch's loss is not finite.
 * @example chooseCriticalBatch([8, 16, 32], [1.0, 1.03, 1.2], 0.05).criticalBatchSize // 16
 */
export function chooseCriticalBatch(
  batchSizes: number[],
  meanLosses: number[],
  tolerance: number,
  optimalLoss = 0,
): { criticalBatchSize: number; threshold: number; within: boolean[] } {
  if (batchSizes.length !== meanLosses.length || batchSizes.length === 0) {
    throw new ConfigError(
      `meanLosses must have one loss per batch size (${batchSizes.length}), got ${meanLosses.length}`,
    );
  }
  requireNumber("tolerance", tolerance, 0, true);
  if (!Number.isFinite(meanLosses[0])) {
    throw new ConfigError(
      `the smallest batch's loss must be finite, got ${meanLosses[0]} at B=${batchSizes[0]}`,
    );
  }
  const threshold = optimalLoss + (1 + tolerance) * (meanLosses[0] - optimalLoss);
  const within = meanLosses.map((l) => Number.isFinite(l) && l <= threshold);
  let k = 0;
  while (k + 1 < within.length && within[k + 1]) k++;
  return { criticalBatchSize: batchSizes[k], threshold, within };
}

/**
 * Validates {@link CriticalBatchOptions} and fills in the defaults (lrRule "linear", ε 0.05,
 * F* 0, seeds [0]) — what {@link measureCriticalBatch} does first; a job calls it before its
 * runs start, so a bad option fails at once rather than at the first measurement.
 * @throws ConfigError naming the option and value (see {@link measureCriticalBatch}).
 * @example checkCriticalBatchOptions({ batchSizes: [16, 32], learningRate: 1e-3, examplesPerBranch: 512 }).tolerance // 0.05
 */
export function checkCriticalBatchOptions(
  opts: CriticalBatchOptions,
): Required<CriticalBatchOptions> {
  const bs = opts.batchSizes;
  if (!Array.isArray(bs) || bs.length === 0) {
    throw new ConfigError(`batchSizes must be a non-empty array, got ${JSON.stringify(bs)}`);
  }
  bs.forEach((b, i) => {
    requireInt(`batchSizes[${i}]`, b, 1);
    if (i > 0 && b <= bs[i - 1]) {
      throw new ConfigError(
        `batchSizes must be strictly increasing, got ${bs[i - 1]} then ${b} at batchSizes[${i}]`,
      );
    }
  });
  requireNumber("learningRate", opts.learningRate, 0);
  const lrRule = opts.lrRule ?? "linear";
  if (!["linear", "sqrt", "none"].includes(lrRule)) {
    throw new ConfigError(`lrRule must be one of linear, sqrt, none, got ${String(lrRule)}`);
  }
  requireInt("examplesPerBranch", opts.examplesPerBranch, bs[bs.length - 1]);
  const tolerance = opts.tolerance ?? 0.05;
  requireNumber("tolerance", tolerance, 0, true);
  const optimalLoss = opts.optimalLoss ?? 0;
  if (!Number.isFinite(optimalLoss)) {
    throw new ConfigError(`optimalLoss must be a finite number, got ${optimalLoss}`);
  }
  const seeds = opts.seeds ?? [0];
  if (!Array.isArray(seeds) || seeds.length === 0) {
    throw new ConfigError(`seeds must be a non-empty array, got ${JSON.stringify(seeds)}`);
  }
  seeds.forEach((s, i) => requireInt(`seeds[${i}]`, s, 0));
  return { ...opts, lrRule, tolerance, optimalLoss, seeds };
}

/**
 * Measures the local critical batch size by branched training (Merrill et al. 2025,
 * arXiv:2505.23971, §3 "measuring the CBS"): for every candidate B and seed, restore the saved
 * state, train ⌊E/B⌋ updates at B with learning rate {@link branchLearningRate}, and record the
 * loss after the branch; average over seeds; pick the CBS with {@link chooseCriticalBatch}.
 * The runner's state is restored to the saved one afterwards (also when a branch throws).
 *
 * Departures from the paper: Merrill et al. tune the learning rate of each branch (a sweep);
 * here it follows a fixed rule from one lr₀ (a sweep is several calls); branches are compared
 * after the same examples E (the paper's "token budget" per branch), with ⌊E/B⌋ updates.
 *
 * @param runner - Saves, restores and trains the model ({@link modelBranchRunner}).
 * @param opts - See {@link CriticalBatchOptions}.
 * @returns Each branch's losses and the chosen CBS.
 * @throws ConfigError naming the parameter and value for a bad option (non-increasing or
 *   non-integer batch sizes, lr₀ ≤ 0, an unknown lrRule, E below the largest B, ε < 0, a
 *   non-finite F*, empty or negative seeds), or if the smallest batch's loss is not finite.
 * @example
 * ```ts
 * const r = await measureCriticalBatch(modelBranchRunner({ model, optimizer, task, train }), {
 *   batchSizes: doublingBatchSizes(16, 6), learningRate: 1e-3, examplesPerBranch: 2048,
 * });
 * r.criticalBatchSize; // e.g. 128
 * ```
 */
export async function measureCriticalBatch<S>(
  runner: BranchRunner<S>,
  opts: CriticalBatchOptions,
): Promise<CriticalBatchResult> {
  const o = checkCriticalBatchOptions(opts);
  const b0 = o.batchSizes[0];
  const saved = await runner.save();
  const partial: Omit<BranchResult, "withinTolerance">[] = [];
  try {
    for (const batchSize of o.batchSizes) {
      const learningRate = branchLearningRate(o.learningRate, batchSize, b0, o.lrRule);
      const steps = Math.floor(o.examplesPerBranch / batchSize);
      const losses: number[] = [];
      for (const seed of o.seeds) {
        await runner.restore(saved);
        losses.push(await runner.runBranch({ batchSize, learningRate, steps, seed }));
      }
      const meanLoss = losses.reduce((p, q) => p + q, 0) / losses.length;
      partial.push({
        batchSize,
        learningRate,
        steps,
        examples: steps * batchSize,
        losses,
        meanLoss,
      });
    }
  } finally {
    await runner.restore(saved);
    runner.release?.(saved);
  }
  const choice = chooseCriticalBatch(
    o.batchSizes,
    partial.map((p) => p.meanLoss),
    o.tolerance,
    o.optimalLoss,
  );
  return {
    branches: partial.map((p, i) => ({ ...p, withinTolerance: choice.within[i] })),
    criticalBatchSize: choice.criticalBatchSize,
    threshold: choice.threshold,
  };
}

/** Arguments of {@link modelBranchRunner}. */
export interface ModelBranchRunnerArgs {
  model: tfl.LayersModel;
  /** Any tf.Optimizer whose `getWeights`/`setWeights` carry its whole state. */
  optimizer: tf.Optimizer;
  task: Task;
  /** The examples branches train on (each seed: the sampler's order over it). */
  train: DataSource;
  /** Where the loss after a branch is measured; default `train` (all of it). */
  evalSource?: DataSource;
  /** Micro-batch cap, integer ≥ 1; default 256. */
  microBatchSize?: number;
  /** Batch size of the evaluation, integer ≥ 1; default 1024. */
  evalBatchSize?: number;
}

/** A snapshot of a model's weights and its optimizer's state (clones; freed by `release`). */
export interface ModelSnapshot {
  weights: tf.Tensor[];
  optimizer: NamedTensor[];
}

/**
 * A {@link BranchRunner} for a tfjs-layers model and any tf.Optimizer: `save` clones every
 * model weight (trainable and not) and every optimizer state tensor (`getWeights`, including
 * the iteration counter); `restore` writes them back (`model.setWeights`,
 * `optimizer.setWeights`), so the state after a measurement is bit-identical to before;
 * `runBranch` trains `steps` updates with {@link trainStep} on batches from the seeded sampler
 * (lib/data/sampler.ts: every B sees the same example order) and returns {@link evaluate}'s
 * mean loss on `evalSource`. Note: tfjs's own `tf.train.momentum`/`tf.train.adam` do not free
 * the state that `setWeights` replaces (a tfjs leak of one state set per restore); batchwise's
 * optimizers (lib/optim) do. For an `AdaScale` the branches step (and save and restore) the
 * wrapped optimizer, with the branch learning rate; AdaScale's own state stays as it was.
 *
 * @throws ConfigError for a microBatchSize or evalBatchSize that is not an integer ≥ 1.
 * @example modelBranchRunner({ model, optimizer, task, train, evalSource: probe })
 */
export function modelBranchRunner(args: ModelBranchRunnerArgs): BranchRunner<ModelSnapshot> {
  const micro = args.microBatchSize ?? 256;
  const evalBatch = args.evalBatchSize ?? 1024;
  requireInt("microBatchSize", micro, 1);
  requireInt("evalBatchSize", evalBatch, 1);
  const { model, task, train } = args;
  // An AdaScale's branches step its wrapped optimizer: the branch learning rate is the rule's,
  // not r times it, and AdaScale's own τ, S and statistics are never touched.
  const optimizer = AdaScale.is(args.optimizer) ? args.optimizer.base : args.optimizer;
  const evalSource = args.evalSource ?? train;
  const cloneAll = (ts: NamedTensor[]) =>
    ts.map((t) => ({ name: t.name, tensor: t.tensor.clone() }));
  return {
    async save() {
      const weights = model.getWeights().map((w) => w.clone());
      const opt = cloneAll(await optimizer.getWeights());
      return { weights, optimizer: opt };
    },
    async restore(s) {
      model.setWeights(s.weights);
      // Optimizers make their state variables from the tensors given (sharing the data,
      // reference-counted), so fresh clones are handed over and freed afterwards.
      const fresh = cloneAll(s.optimizer);
      await optimizer.setWeights(fresh);
      tf.dispose(fresh.map((t) => t.tensor));
    },
    runBranch(spec) {
      let state = samplerInit({ n: train.n, seed: spec.seed });
      for (let k = 0; k < spec.steps; k++) {
        const sampled = sampleBatch(state, spec.batchSize);
        state = sampled.state;
        trainStep(model, optimizer, task, train.batch(sampled.indices), {
          microBatchSize: micro,
          learningRate: spec.learningRate,
        });
      }
      return evaluate(model, task, evalSource, evalBatch).loss;
    },
    release(s) {
      tf.dispose(s.weights);
      tf.dispose(s.optimizer.map((t) => t.tensor));
    },
  };
}
