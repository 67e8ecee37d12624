/**
 * Gradient diversity (Yin, Pananjady, Lam, Papailiopoulos, Ramchandran, Bartlett 2018,
 * "Gradient Diversity: a Key Ingredient for Scalable Distributed Learning", arXiv:1706.05699,
 * Definition 1) and its identity with the simple noise scale.
 *
 * Identity. For n per-example gradients g_i with mean G = (1/n)Σ g_i and population covariance
 * Σ = (1/n)Σ (g_i − G)(g_i − G)ᵀ:
 *
 *     tr Σ = (1/n)Σ |g_i − G|² = (1/n)Σ |g_i|² − 2G·(1/n)Σ g_i + |G|² = mean|g_i|² − |G|²,
 *     Δ = Σ|g_i|² / |Σ g_i|² = n·mean|g_i|² / (n²|G|²)
 *     ⇒ n·Δ = mean|g_i|²/|G|² = (|G|² + tr Σ)/|G|² = 1 + B_simple.
 *
 * So diversity is the noise scale of the data set seen as a population, over n: Yin et al.'s
 * batch-size bound B ≲ n·Δ is the noise scale B_simple + 1.
 */
import * as tfl from "@tensorflow/tfjs-layers";
import type { StepBatch } from "../data/source";
import type { Task } from "../grad/task";
import { PerExampleOptions, perExampleGradSqNorms } from "../grad/per-example";
import { ConfigError } from "../core/errors";

/**
 * Gradient diversity Δ = Σ_i |∇L_i|² / |Σ_i ∇L_i|² from per-example squared norms and the
 * squared norm of their mean.
 *
 * Formula: Δ = Σ_i |g_i|² / (n²·|G|²) with G = (1/n)Σ_i g_i (Yin et al. 2018, Def. 1).
 * Δ ≥ 1/n, with equality iff all g_i are equal.
 *
 * @param perExampleSqNorms - |g_i|² for the n ≥ 1 examples, each ≥ 0.
 * @param meanGradSqNorm - |G|² = |(1/n)Σ g_i|², > 0.
 * @returns Δ (dimensionless, ≥ 1/n up to rounding).
 * @throws Error for an empty list, a negative or non-finite norm, or |G|² ≤ 0 (Δ undefined).
 * @example gradientDiversity([1, 1], 1); // identical g_i: Δ = 2/(4·1) = 1/2 = 1/n
 */
export function gradientDiversity(
  perExampleSqNorms: readonly number[],
  meanGradSqNorm: number,
): number {
  const n = perExampleSqNorms.length;
  if (n === 0) throw new ConfigError("perExampleSqNorms must not be empty");
  for (const s of perExampleSqNorms) {
    if (!(Number.isFinite(s) && s >= 0)) {
      throw new ConfigError(`perExampleSqNorms must be finite and >= 0, got ${s}`);
    }
  }
  if (!(Number.isFinite(meanGradSqNorm) && meanGradSqNorm > 0)) {
    throw new ConfigError(`meanGradSqNorm must be a finite number > 0, got ${meanGradSqNorm}`);
  }
  const sum = perExampleSqNorms.reduce((p, q) => p + q, 0);
  return sum / (n * n * meanGradSqNorm);
}

/**
 * Population B_simple of n examples from their gradient diversity: B_simple = n·Δ − 1
 * (module comment).
 * @param n - Number of examples, integer ≥ 1.
 * @param diversity - Δ > 0.
 * @returns tr(Σ_pop)/|G|² of the n examples.
 * @throws Error if n is not an integer ≥ 1 or Δ ≤ 0.
 * @example bSimpleFromDiversity(4, 0.5); // 1
 */
export function bSimpleFromDiversity(n: number, diversity: number): number {
  if (!Number.isInteger(n) || n < 1) throw new ConfigError(`n must be an integer >= 1, got ${n}`);
  if (!(Number.isFinite(diversity) && diversity > 0)) {
    throw new ConfigError(`diversity must be a finite number > 0, got ${diversity}`);
  }
  return n * diversity - 1;
}

/**
 * Gradient diversity of a batch of a model: per-example gradient norms
 * ({@link perExampleGradSqNorms}) and the batch's mean gradient.
 *
 * Formula: Δ = Σ_x |∇L_x|² / |Σ_x ∇L_x|²; also B_simple of the batch as a population,
 * n·Δ − 1 = tr(Σ_pop)/|G_B|².
 *
 * @param model - tfjs-layers model.
 * @param task - Task giving the per-example loss.
 * @param batch - The n ≥ 1 examples.
 * @param opts - Per-example method and training flag (see {@link perExampleGradSqNorms}).
 * @returns `{ diversity, bSimple, perExampleSqNorms, meanGradSqNorm, n }`.
 * @throws Error when the mean gradient is zero, or as {@link perExampleGradSqNorms}.
 * @example const { diversity } = measureGradientDiversity(model, task, batch);
 */
export function measureGradientDiversity(
  model: tfl.LayersModel,
  task: Task,
  batch: StepBatch,
  opts: PerExampleOptions = {},
): {
  diversity: number;
  bSimple: number;
  perExampleSqNorms: number[];
  meanGradSqNorm: number;
  n: number;
} {
  const r = perExampleGradSqNorms(model, task, batch, opts);
  const diversity = gradientDiversity(r.microBatchSqNorms, r.gradSqNorm);
  return {
    diversity,
    bSimple: bSimpleFromDiversity(batch.size, diversity),
    perExampleSqNorms: r.microBatchSqNorms,
    meanGradSqNorm: r.gradSqNorm,
    n: batch.size,
  };
}
