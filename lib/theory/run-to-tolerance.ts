/**
 * Mini-batch SGD on the least-squares testbed with the batch sizes a schedule picks, driven
 * through the same observation/decision code as the training loop (lib/schedules/drive.ts), to
 * count the model updates and examples needed to reach F(x) − F* ≤ ε (Sievert & Charles 2019;
 * seed 001).
 */
import { ConfigError } from "../core/errors";
import { samplerInit, sampleBatch, SamplerState } from "../data/sampler";
import { decideNext } from "../schedules/drive";
import type { BatchSchedule } from "../schedules/types";
import { batchGradient, fullGradient, LeastSquaresProblem, lossGap } from "./least-squares";

/** Model updates and examples processed when `F − F* ≤ ε` first held (null: never). */
export interface ToleranceHit {
  /** ε. */
  epsilon: number;
  /** Model updates completed at the first x_k with F(x_k) − F* ≤ ε, or null. */
  updates: number | null;
  /** Examples processed by then, or null. */
  examples: number | null;
}

/** One update, as reported to {@link RunToToleranceOptions.onStep}. */
export interface StepInfo {
  /** Updates completed after this one. */
  updates: number;
  /** Examples processed after this one. */
  examples: number;
  /** The batch size used. */
  batchSize: number;
  /** The step size used (lr(k) · lrFactor). */
  stepSize: number;
  /** F(x_{k+1}) − F*. */
  gap: number;
}

/** Arguments of {@link runToTolerance}. */
export interface RunToToleranceOptions<S> {
  /** The problem. */
  problem: LeastSquaresProblem;
  /** Any batch-size schedule. */
  schedule: BatchSchedule<S>;
  /**
   * Base step size γ_k > 0: a number, or a function of the update index k (for SGD's
   * decaying step). The schedule's lrFactor multiplies it.
   */
  lr: number | ((k: number) => number);
  /** Tolerances ε > 0 to record. */
  epsilons: number[];
  /** Stop after this many examples (or when every ε is reached). */
  maxExamples: number;
  /** Stop after this many updates; default unbounded. */
  maxUpdates?: number;
  /** Seed of the epoch sampler; default 0. */
  seed?: number;
  /** Initial model x_0 (length d); default 0. */
  x0?: Float64Array;
  /** Called after every update. */
  onStep?: (info: StepInfo) => void;
}

/** What {@link runToTolerance} returns. */
export interface RunToToleranceResult {
  /** One entry per ε, in the order given. */
  hits: ToleranceHit[];
  /** Updates run in total. */
  updates: number;
  /** Examples processed in total. */
  examples: number;
  /** F(x) − F* at the end. */
  finalGap: number;
  /** Largest batch size used. */
  maxBatchSize: number;
  /** True if F(x) − F* became non-finite (the run stopped there). */
  diverged: boolean;
}

/**
 * Runs mini-batch SGD `x_{k+1} = x_k − γ_k · lrFactor_k · g_{B_k}(x_k)` on a least-squares
 * problem with the batch sizes a {@link BatchSchedule} picks, and records, for each ε, the
 * model updates and examples processed when `F(x_k) − F* ≤ ε` first holds (checked at x_0
 * and after every update).
 *
 * The schedule is driven like the training loop drives it: before update k it gets
 * `{step: k, epoch: examples/n, examples, datasetSize: n, lastLoss: ℓ_{B_{k−1}},
 * lastGradSqNorm: |g_{B_{k−1}}|², trainLoss, noise: null}`, where trainLoss = F(x_k),
 * computed exactly (`F* + ½ eᵀHe`, see {@link lossGap}) when `wantsTrainLoss(state, k)` is
 * true. The schedule's `trainLossFraction` is ignored (the exact loss costs only O(d²)).
 * Batches come from the library's seeded epoch sampler (without replacement, as in
 * `trainLoop`). A batch of exactly n that starts an epoch is the whole set, so its gradient
 * is the exact ∇F = Hx − c, computed in O(d²) (the same number up to rounding; the sampler
 * is advanced by one epoch without drawing the permutation).
 *
 * @param opts - See {@link RunToToleranceOptions}.
 * @returns See {@link RunToToleranceResult}.
 * @throws Error if an ε is not > 0, maxExamples < 1, or the step size is not finite.
 * @example
 * ```ts
 * const p = makeLeastSquares();
 * const r = runToTolerance({ problem: p, schedule: gdSchedule(), lr: 1 / p.L,
 *   epsilons: [1e-2], maxExamples: 1e8 });
 * r.hits[0].updates; // ≈ κ · ln(Δ_0/ε)
 * ```
 */
export function runToTolerance<S>(opts: RunToToleranceOptions<S>): RunToToleranceResult {
  const { problem: p, schedule, epsilons } = opts;
  for (const e of epsilons) if (!(e > 0)) throw new ConfigError(`epsilon must be > 0, got ${e}`);
  if (!(opts.maxExamples >= 1))
    throw new ConfigError(`maxExamples must be >= 1, got ${opts.maxExamples}`);
  const maxUpdates = opts.maxUpdates ?? Infinity;
  const lrAt =
    typeof opts.lr === "number"
      ? (
          (v: number) => () =>
            v
        )(opts.lr)
      : opts.lr;
  const { n, d } = p;
  const x = opts.x0 ? Float64Array.from(opts.x0) : new Float64Array(d);
  let sampler: SamplerState = samplerInit({ n, seed: opts.seed ?? 0 });
  let state = schedule.init();
  let k = 0;
  let examples = 0;
  let lastLoss: number | null = null;
  let lastGradSqNorm: number | null = null;
  let maxB = 0;
  let diverged = false;
  const hits: ToleranceHit[] = epsilons.map((epsilon) => ({
    epsilon,
    updates: null,
    examples: null,
  }));
  let gap = lossGap(p, x);
  const record = (): boolean => {
    let pending = false;
    for (const h of hits) {
      if (h.updates === null && gap <= h.epsilon) {
        h.updates = k;
        h.examples = examples;
      }
      if (h.updates === null) pending = true;
    }
    return pending;
  };
  let pending = record();
  while (pending && examples < opts.maxExamples && k < maxUpdates) {
    const { decision } = decideNext(
      schedule,
      state,
      { step: k, examples, datasetSize: n, lastLoss, lastGradSqNorm },
      { trainLoss: () => p.fStar + gap, noise: null },
    );
    state = decision.state;
    const B = decision.batchSize;
    let grad: Float64Array;
    let batchLoss: number;
    if (B === n && sampler.position === 0) {
      grad = fullGradient(p, x);
      batchLoss = p.fStar + gap;
      sampler = { ...sampler, epoch: sampler.epoch + 1 };
    } else {
      const drawn = sampleBatch(sampler, B);
      sampler = drawn.state;
      ({ grad, loss: batchLoss } = batchGradient(p, x, drawn.indices));
    }
    const step = lrAt(k) * decision.lrFactor;
    if (!Number.isFinite(step)) throw new ConfigError(`step size at update ${k} is ${step}`);
    let g2 = 0;
    for (let j = 0; j < d; j++) {
      x[j] -= step * grad[j];
      g2 += grad[j] * grad[j];
    }
    k += 1;
    examples += B;
    maxB = Math.max(maxB, B);
    lastLoss = batchLoss;
    lastGradSqNorm = g2;
    gap = lossGap(p, x);
    opts.onStep?.({ updates: k, examples, batchSize: B, stepSize: step, gap });
    if (!Number.isFinite(gap)) {
      diverged = true;
      break;
    }
    pending = record();
  }
  return { hits, updates: k, examples, finalGap: gap, maxBatchSize: maxB, diverged };
}
