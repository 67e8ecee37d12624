/**
 * Learning-rate rules for a changing batch size, as pure functions of (B, B_0), and a
 * schedule wrapper that applies one to any {@link BatchSchedule}.
 */
import { BatchSchedule, Observation, requireInRange, requireInt, requireNumber } from "./types";
import { NoiseObservation } from "../noise/types";

/**
 * Linear scaling rule: `lr(B) / lr(B_0) = B / B_0` — Goyal et al. (2017, "Accurate, Large
 * Minibatch SGD: Training ImageNet in 1 Hour", arXiv:1706.02677, §2.1: "when the minibatch
 * size is multiplied by k, multiply the learning rate by k").
 *
 * @param batchSize - B, > 0.
 * @param baseBatchSize - B_0 (the batch the base learning rate was tuned for), > 0.
 * @returns B / B_0.
 * @throws ScheduleConfigError if B or B_0 is not a finite number > 0.
 * @example linearScaling(512, 128) // 4
 */
export function linearScaling(batchSize: number, baseBatchSize: number): number {
  checkSizes(batchSize, baseBatchSize);
  return batchSize / baseBatchSize;
}

/**
 * Square-root scaling rule: `lr(B) / lr(B_0) = √(B / B_0)`, which keeps the variance of the
 * update constant — Krizhevsky (2014, "One weird trick for parallelizing convolutional
 * neural networks", arXiv:1404.5997); Hoffer, Hubara & Soudry (2017, "Train longer,
 * generalize better", arXiv:1705.08741).
 *
 * @param batchSize - B, > 0.
 * @param baseBatchSize - B_0, > 0.
 * @returns √(B / B_0).
 * @throws ScheduleConfigError if B or B_0 is not a finite number > 0.
 * @example sqrtScaling(512, 128) // 2
 */
export function sqrtScaling(batchSize: number, baseBatchSize: number): number {
  checkSizes(batchSize, baseBatchSize);
  return Math.sqrt(batchSize / baseBatchSize);
}

/**
 * Power-law rule: `lr(B) / lr(B_0) = (B / B_0)^α`. α = 1 is the linear rule, α = ½ the
 * square-root rule; for Adam-family optimizers McCandlish et al. (2018, arXiv:1812.06162)
 * put α between 0.5 and 1 (docs/design.md §1). α is accepted in [0, 1] (α = 0: no scaling).
 *
 * @param batchSize - B, > 0.
 * @param baseBatchSize - B_0, > 0.
 * @param alpha - α in [0, 1].
 * @returns (B / B_0)^α.
 * @throws ScheduleConfigError if B or B_0 is not > 0, or α is outside [0, 1].
 * @example powerScaling(512, 128, 0.75) // 4^0.75 ≈ 2.828
 */
export function powerScaling(batchSize: number, baseBatchSize: number, alpha: number): number {
  checkSizes(batchSize, baseBatchSize);
  requireInRange("alpha", alpha, 0, 1);
  return Math.pow(batchSize / baseBatchSize, alpha);
}

/**
 * AdaScale gain ratio (Johnson, Agrawal, Gu & Guestrin 2020, "AdaScale SGD: A User-Friendly
 * Algorithm for Distributed Training", ICML 2020, arXiv:2007.05105, the gain ratio r_t):
 *
 * `r = (σ² + μ²) / (σ²/S + μ²)`, scale `S = B / B_0`,
 *
 * where μ² = |G|² and σ² is the variance (trace of the covariance) of the gradient of one
 * base batch of B_0 examples. With the per-example covariance Σ that the noise-scale
 * estimator reports (`noise.traceSigma`, McCandlish et al. 2018), σ² = tr Σ / B_0, so
 *
 * `r = (tr Σ / B_0 + |G|²) / (tr Σ / B + |G|²)`.
 *
 * r lies between 1 and S: ≈ S (linear scaling) while the noise dominates (B ≪ B_simple), ≈ 1
 * when the gradient is nearly exact. Departures: only the gain is applied (AdaScale also
 * stretches the learning-rate schedule by counting "scale-invariant iterations" Σ r_t; not
 * done here); noisy estimates below zero are clamped to 0; with no estimate (`noise` null)
 * or `tr Σ = |G|² = 0`, r = 1; the brief's `(tr Σ + |G|²)/(tr Σ/S + |G|²)` is this formula
 * with B_0 = 1 (tr Σ per example), which would overstate r for B_0 > 1.
 *
 * @param batchSize - B, > 0.
 * @param baseBatchSize - B_0, > 0.
 * @param noise - `{gradSqNorm: |G|², traceSigma: tr Σ}` (EMA estimates), or null.
 * @returns r, between min(1, S) and max(1, S).
 * @throws ScheduleConfigError if B or B_0 is not a finite number > 0.
 * @example
 * ```ts
 * adaScaleGain(512, 128, { gradSqNorm: 1, traceSigma: 1280, bSimple: 1280 });
 * // (1280/128 + 1)/(1280/512 + 1) = 11/3.5 ≈ 3.14
 * ```
 */
export function adaScaleGain(
  batchSize: number,
  baseBatchSize: number,
  noise: Pick<NoiseObservation, "gradSqNorm" | "traceSigma"> | null,
): number {
  checkSizes(batchSize, baseBatchSize);
  if (noise === null) return 1;
  const g2 = Math.max(0, noise.gradSqNorm);
  const tr = Math.max(0, noise.traceSigma);
  if (!Number.isFinite(g2) || !Number.isFinite(tr)) return 1;
  const num = tr / baseBatchSize + g2;
  const den = tr / batchSize + g2;
  if (!(den > 0)) return 1;
  const s = batchSize / baseBatchSize;
  return Math.min(Math.max(num / den, Math.min(1, s)), Math.max(1, s));
}

/**
 * Gradual warm-up: the factor rises linearly from 1 at step 0 to `target` at `warmupSteps`,
 *
 * `w(t) = 1 + (target − 1) · min(1, t / T)`
 *
 * — Goyal et al. (2017, arXiv:1706.02677, §2.2, "gradual warmup": start from η and increase
 * by a constant amount each iteration to reach kη after 5 epochs). T = 0 means no warm-up.
 *
 * @param target - The rule's factor at the current batch size, finite.
 * @param step - Model updates completed t, ≥ 0.
 * @param warmupSteps - T, integer ≥ 0.
 * @returns w(t).
 * @throws ScheduleConfigError if T is not an integer ≥ 0.
 * @example linearWarmup(8, 50, 100) // 1 + 7·0.5 = 4.5
 */
export function linearWarmup(target: number, step: number, warmupSteps: number): number {
  requireInt("warmupSteps", warmupSteps, 0);
  if (warmupSteps === 0) return target;
  return 1 + (target - 1) * Math.min(1, Math.max(0, step) / warmupSteps);
}

function checkSizes(batchSize: number, baseBatchSize: number): void {
  requireNumber("batchSize", batchSize, 0);
  requireNumber("baseBatchSize", baseBatchSize, 0);
}

/** A learning-rate rule: the factor multiplying the base learning rate at batch size B. */
export interface LrRule {
  /** "linear", "sqrt", "power", "adascale" or "none". */
  readonly name: string;
  /**
   * The factor for batch size B relative to B_0, given the current observation (AdaScale
   * reads `obs.noise`). Pure.
   */
  factor(batchSize: number, baseBatchSize: number, obs: Observation): number;
}

/**
 * The linear rule as an {@link LrRule}: factor `B/B_0` ({@link linearScaling}, Goyal et al.
 * 2017); add warm-up with {@link withLrScaling}.
 * @returns The rule named "linear".
 * @example linearRule().factor(512, 128, obs) // 4
 */
export function linearRule(): LrRule {
  return { name: "linear", factor: (b, b0) => linearScaling(b, b0) };
}

/**
 * The square-root rule as an {@link LrRule}: factor `√(B/B_0)` ({@link sqrtScaling},
 * Krizhevsky 2014).
 * @returns The rule named "sqrt".
 * @example sqrtRule().factor(512, 128, obs) // 2
 */
export function sqrtRule(): LrRule {
  return { name: "sqrt", factor: (b, b0) => sqrtScaling(b, b0) };
}

/**
 * The power-law rule as an {@link LrRule}: factor `(B/B_0)^α` ({@link powerScaling}).
 * @param opts - `alpha`: α in [0, 1].
 * @returns The rule named "power".
 * @throws ScheduleConfigError naming alpha and its value if α is outside [0, 1].
 * @example powerRule({ alpha: 0.5 }) // same factors as sqrtRule()
 */
export function powerRule(opts: { alpha: number }): LrRule {
  requireInRange("alpha", opts.alpha, 0, 1);
  const alpha = opts.alpha;
  return { name: "power", factor: (b, b0) => powerScaling(b, b0, alpha) };
}

/**
 * The AdaScale gain as an {@link LrRule}: factor
 * `(tr Σ/B_0 + |G|²)/(tr Σ/B + |G|²)` from `obs.noise` ({@link adaScaleGain}, Johnson et al.
 * 2020), 1 when `obs.noise` is null.
 * @returns The rule named "adascale".
 * @example adaScaleRule().factor(512, 128, { ...obs, noise: null }) // 1
 */
export function adaScaleRule(): LrRule {
  return { name: "adascale", factor: (b, b0, obs) => adaScaleGain(b, b0, obs.noise) };
}

/**
 * The optimal learning rate of an Adam-style optimizer at batch size B relative to its peak
 * ε_max, by the "surge" law of Li et al. 2024 (arXiv:2405.14578, the sign-of-gradient
 * analysis): `ε_opt(B)/ε_max = 1 / (½·(√(B_noise/B) + √(B/B_noise)))`. It rises as
 * 2·√(B/B_noise) for B ≪ B_noise (square-root scaling), peaks at B = B_noise and falls as
 * 2·√(B_noise/B) above it; symmetric in log B about B_noise.
 *
 * @param batchSize - B > 0.
 * @param bNoise - B_noise > 0 (B_simple from the estimator is the usual stand-in).
 * @returns A value in (0, 1], 1 exactly at B = B_noise.
 * @throws ScheduleConfigError naming B or B_noise when not finite and > 0.
 * @example surgeOptimalLr(100, 100) // 1
 */
export function surgeOptimalLr(batchSize: number, bNoise: number): number {
  requireNumber("batchSize", batchSize, 0);
  requireNumber("bNoise", bNoise, 0);
  return 2 / (Math.sqrt(bNoise / batchSize) + Math.sqrt(batchSize / bNoise));
}

/**
 * The surge rule's factor for B relative to B_0: ε_opt(B)/ε_opt(B_0) ({@link surgeOptimalLr})
 * with the current B_noise; without an estimate (B_noise unknown, the B_noise → ∞ limit) the
 * square-root factor √(B/B_0).
 * @param batchSize - B > 0. @param baseBatchSize - B_0 > 0.
 * @param bNoise - B_noise (examples), or null / non-positive when there is no estimate.
 * @returns The factor on the learning rate tuned at B_0 (dimensionless, > 0).
 * @throws ScheduleConfigError naming B or B_0 when not finite and > 0.
 * @example surgeScaling(400, 100, 1e9) // ≈ 2 (the square-root limit)
 */
export function surgeScaling(
  batchSize: number,
  baseBatchSize: number,
  bNoise: number | null,
): number {
  if (bNoise == null || !Number.isFinite(bNoise) || bNoise <= 0) {
    return sqrtScaling(batchSize, baseBatchSize);
  }
  return surgeOptimalLr(batchSize, bNoise) / surgeOptimalLr(baseBatchSize, bNoise);
}

/**
 * The surge rule as an {@link LrRule} (Li et al. 2024): factor {@link surgeScaling} with
 * B_noise = the estimator's B_simple in `obs.noise` (√(B/B_0) before there is one). For Adam-
 * style optimizers; it turns the learning rate down once B passes B_noise, where the linear
 * and square-root rules keep raising it.
 * @returns The rule named "surge".
 */
export function surgeRule(): LrRule {
  return {
    name: "surge",
    factor: (b, b0, obs) => surgeScaling(b, b0, obs.noise?.bSimple ?? null),
  };
}

/**
 * No scaling as an {@link LrRule}: factor 1 at every batch size (the baseline).
 * @returns The rule named "none".
 * @example noLrRule().factor(512, 128, obs) // 1
 */
export function noLrRule(): LrRule {
  return { name: "none", factor: () => 1 };
}

/** Options of {@link withLrScaling}. */
export interface LrScalingOptions {
  /**
   * B_0, the batch size the base learning rate is tuned for; integer ≥ 1. Default: the batch
   * size of the wrapped schedule's first decision (kept in the state).
   */
  baseBatchSize?: number;
  /** Gradual warm-up over this many updates ({@link linearWarmup}); integer ≥ 0, default 0. */
  warmupSteps?: number;
}

/** State of a {@link withLrScaling} schedule: the wrapped schedule's state and B_0. */
export interface LrScalingState<S> {
  /** The wrapped schedule's state. */
  inner: S;
  /** B_0 in use; null until the first decision when not configured. */
  baseBatchSize: number | null;
}

/**
 * Applies a learning-rate rule on top of a batch-size schedule:
 *
 * `lrFactor = inner.lrFactor · w_t(rule(B, B_0))`, B = the inner decision's batch size,
 * w_t = {@link linearWarmup} over `warmupSteps` (identity when 0).
 *
 * The inner factor (e.g. AdaDamp's B_max/B_k above the cap) is kept; the rule sees the
 * capped B actually used. Warm-up applies to whichever rule is chosen (Goyal et al. 2017,
 * §2.2, pair it with the linear rule; extending it to the others is this library's choice).
 * `wantsTrainLoss`, `wantsCriticalBatch` and `trainLossFraction` are forwarded to the inner
 * schedule.
 *
 * @param schedule - Any batch-size schedule.
 * @param rule - The rule ({@link linearRule}, {@link sqrtRule}, {@link powerRule},
 *   {@link adaScaleRule}, {@link noLrRule}, or `createLrRule` from the registry).
 * @param opts - See {@link LrScalingOptions}.
 * @returns A schedule named `<inner>+<rule>` with state {@link LrScalingState}.
 * @throws ScheduleConfigError if baseBatchSize is not an integer ≥ 1 or warmupSteps not an
 *   integer ≥ 0 (naming the parameter and value).
 * @example
 * ```ts
 * const s = withLrScaling(geoDampSchedule({ initialBatchSize: 64, delay: 1 }), linearRule(), {
 *   warmupSteps: 500,
 * }); // B = 128 in epoch 1: lrFactor 2 (after warm-up)
 * ```
 */
export function withLrScaling<S>(
  schedule: BatchSchedule<S>,
  rule: LrRule,
  opts: LrScalingOptions = {},
): BatchSchedule<LrScalingState<S>> {
  if (opts.baseBatchSize !== undefined) requireInt("baseBatchSize", opts.baseBatchSize, 1);
  const warmupSteps = opts.warmupSteps ?? 0;
  requireInt("warmupSteps", warmupSteps, 0);
  const inner = schedule;
  const wrapped: BatchSchedule<LrScalingState<S>> = {
    name: `${inner.name}+${rule.name}`,
    trainLossFraction: inner.trainLossFraction,
    init: () => ({ inner: inner.init(), baseBatchSize: opts.baseBatchSize ?? null }),
    update: (state, obs) => {
      const d = inner.update(state.inner, obs);
      const b0 = state.baseBatchSize ?? d.batchSize;
      const f = linearWarmup(rule.factor(d.batchSize, b0, obs), obs.step, warmupSteps);
      return {
        batchSize: d.batchSize,
        lrFactor: d.lrFactor * f,
        state: { inner: d.state, baseBatchSize: b0 },
      };
    },
  };
  if (inner.wantsTrainLoss) {
    const wants = inner.wantsTrainLoss.bind(inner);
    wrapped.wantsTrainLoss = (state, step) => wants(state.inner, step);
  }
  if (inner.wantsCriticalBatch) {
    const wants = inner.wantsCriticalBatch.bind(inner);
    wrapped.wantsCriticalBatch = (state, progress) => wants(state.inner, progress);
  }
  return wrapped;
}
