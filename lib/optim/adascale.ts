/**
 * AdaScale (Johnson, Agrawal, Gu & Guestrin 2020, "AdaScale SGD: A User-Friendly Algorithm for
 * Distributed Training", ICML, arXiv:2007.05105; implementations in fairscale's
 * `AdaScale` and AdaptDL): an optimizer wrapper that multiplies the learning rate by the gain
 * ratio r_t at scale S and advances a scale-invariant step counter τ by r_t per update, so a
 * learning-rate schedule written for S = 1 (as a function of τ) carries over to any S.
 *
 * The optimizer layer sits below lib/noise (docs/design.md §3), so the gradient statistics come
 * in as plain numbers per update ({@link AdaScale.setStatistics}), e.g. from the noise-scale
 * estimator's tr(Σ) and |G|² through {@link adaScaleStatistics}.
 */
import * as tf from "@tensorflow/tfjs-core";
import { OptimizerConfigError, type NamedTensor } from "./base";
import { setLearningRate } from "./learning-rate";

/**
 * The AdaScale gain ratio (Johnson et al. 2020, §3, eq. for r_t):
 *
 * `r = (σ² + μ²) / (σ²/S + μ²)`
 *
 * with σ² the variance (trace of the covariance) of the gradient of one base batch, μ² = |G|²
 * the squared norm of the true gradient and S the scale (S = B/B₀ for a batch B against the base
 * batch B₀, or the number of replicas K each computing a B₀ gradient). r ∈ [1, S]: ≈ S while
 * noise dominates (σ² ≫ S μ²: linear scaling), ≈ 1 when the gradient is nearly exact.
 *
 * Departures (guards for noisy estimates, not in the paper, where σ², μ² are exact): negative
 * σ² or μ² are clamped to 0; σ² = μ² = 0 (or non-finite statistics) gives r = 1; the result is
 * clamped to [1, S] against rounding. S = 1 returns exactly 1.
 *
 * @param sigmaSq - σ², variance of a base-batch gradient (squared gradient units).
 * @param muSq - μ² = |G|² (squared gradient units).
 * @param scale - S, finite ≥ 1.
 * @returns r in [1, S].
 * @throws OptimizerConfigError if S is not a finite number ≥ 1.
 * @example
 * ```ts
 * adaScaleGainRatio(3, 1, 4); // (3 + 1)/(3/4 + 1) = 16/7 ≈ 2.286
 * adaScaleGainRatio(0, 1, 4); // 1 (exact gradient)
 * adaScaleGainRatio(1, 0, 4); // 4 (pure noise)
 * ```
 */
export function adaScaleGainRatio(sigmaSq: number, muSq: number, scale: number): number {
  checkScale(scale);
  if (scale === 1) return 1;
  const s2 = Number.isFinite(sigmaSq) ? Math.max(0, sigmaSq) : NaN;
  const m2 = Number.isFinite(muSq) ? Math.max(0, muSq) : NaN;
  if (!Number.isFinite(s2) || !Number.isFinite(m2)) return 1;
  const den = s2 / scale + m2;
  if (!(den > 0)) return 1;
  return Math.min(Math.max((s2 + m2) / den, 1), scale);
}

/**
 * AdaScale's (σ², μ²) from the per-example statistics the noise-scale estimators report
 * (McCandlish et al. 2018; lib/noise: `traceSigma` = tr Σ of one example's gradient,
 * `gradSqNorm` = |G|²): a base batch of B₀ examples has σ² = tr Σ / B₀.
 *
 * @param traceSigma - tr Σ per example, ≥ 0 (negative estimates are kept; the gain clamps).
 * @param gradSqNorm - |G|².
 * @param baseBatchSize - B₀, integer ≥ 1.
 * @returns `{sigmaSq: tr Σ/B₀, muSq: |G|²}`.
 * @throws OptimizerConfigError if B₀ is not an integer ≥ 1.
 * @example adaScaleStatistics(1280, 1, 128) // { sigmaSq: 10, muSq: 1 }
 */
export function adaScaleStatistics(
  traceSigma: number,
  gradSqNorm: number,
  baseBatchSize: number,
): { sigmaSq: number; muSq: number } {
  if (!Number.isInteger(baseBatchSize) || baseBatchSize < 1) {
    throw new OptimizerConfigError(
      `AdaScale: baseBatchSize must be an integer >= 1, got ${baseBatchSize}`,
    );
  }
  return { sigmaSq: traceSigma / baseBatchSize, muSq: gradSqNorm };
}

function checkScale(scale: number): void {
  if (!Number.isFinite(scale) || scale < 1) {
    throw new OptimizerConfigError(`AdaScale: scale must be a finite number >= 1, got ${scale}`);
  }
}

/** Options of {@link AdaScale}. */
export interface AdaScaleOptions {
  /** S, finite ≥ 1 (B/B₀ or the replica count K); default 1. Mutable via `scale`. */
  scale?: number;
  /**
   * The learning rate at S = 1 as a function of scale-invariant steps τ (a schedule written
   * for the base batch). When given it replaces `learningRate`: update t uses
   * `r_t · learningRateSchedule(τ_t)`. Must return a finite number ≥ 0.
   */
  learningRateSchedule?: (scaleInvariantSteps: number) => number;
  /**
   * B₀, the base batch size the S = 1 schedule was written for, integer ≥ 1. In `trainLoop`
   * (lib/train/loop.ts) it is required: the loop sets S = max(1, B/B₀) before every update and
   * feeds σ², μ² from the run's noise-scale estimator.
   */
  baseBatchSize?: number;
}

/** AdaScale's own state, plain JSON (the wrapped optimizer's state is its own). */
export interface AdaScaleState {
  /** τ = Σ r over the updates applied, ≥ 0. */
  scaleInvariantSteps: number;
  /** S in force. */
  scale: number;
  /** The statistics for the next update, or null (then r = 1). */
  statistics: { sigmaSq: number; muSq: number } | null;
  /** r of the last update, or null before the first. */
  lastGain: number | null;
  /** r·η of the last update, or null before the first (absent in states saved before it). */
  lastLearningRate?: number | null;
}

/** Name of AdaScale's own entry in {@link AdaScale.getWeights}. */
export const ADASCALE_STATE_NAME = "__adascale__/state";

/**
 * An AdaScale wrapper around any tfjs optimizer (tf.train.sgd/momentum/adam or batchwise's
 * Adam, AdamW, LAMB, LARS):
 *
 * `lr_t = r_t · η(τ_t)`,  `τ_{t+1} = τ_t + r_t`,  r_t = {@link adaScaleGainRatio}(σ², μ², S)
 *
 * — Johnson et al. (2020), Algorithm 1 (AdaScale SGD), where η(τ) is the S = 1 schedule
 * (`learningRateSchedule`, or the constant `learningRate` the loop sets). Set the statistics
 * before each update with {@link AdaScale.setStatistics} (plain numbers; r = 1 without them).
 *
 * Departures: the paper and fairscale estimate σ², μ² themselves from the replicas' gradients
 * with their own moving averages; here the caller supplies them (e.g. the noise-scale
 * estimator's EMAs, through {@link adaScaleStatistics}); AdaScale's gain is applied to the
 * wrapped optimizer's learning rate whatever its update rule (the paper's analysis is for
 * SGD; fairscale and AdaptDL apply it to Adam too). At S = 1 the base optimizer's updates are
 * bit-identical to using it directly (r = 1 exactly).
 *
 * State: `getWeights()` returns the wrapped optimizer's weights followed by one entry
 * {@link ADASCALE_STATE_NAME} (τ, S, the statistics, the last r); `setWeights` restores both;
 * {@link AdaScale.getState}/{@link AdaScale.setState} give AdaScale's part as plain JSON.
 *
 * @throws OptimizerConfigError at construction for S not ≥ 1.
 * @example
 * ```ts
 * const opt = new AdaScale(tf.train.sgd(0.1), { scale: 4 });
 * opt.setStatistics(3, 1); // σ², μ²
 * opt.applyGradients(grads); // lr = 0.1 · 16/7; τ = 16/7
 * ```
 */
export class AdaScale extends tf.Optimizer {
  static className = "BatchwiseAdaScale";
  /** The wrapped optimizer. */
  readonly base: tf.Optimizer;
  private lr = 0;
  private s: number;
  private tau = 0;
  private stats: { sigmaSq: number; muSq: number } | null = null;
  private gain: number | null = null;
  private readonly schedule?: (t: number) => number;
  private lastLr: number | null = null;
  /** B₀ of {@link AdaScaleOptions.baseBatchSize}, or null when not given. */
  readonly baseBatchSize: number | null;

  /**
   * @param base - The optimizer to wrap; AdaScale sets its learning rate before each update.
   * @param opts - See {@link AdaScaleOptions}.
   */
  constructor(base: tf.Optimizer, opts: AdaScaleOptions = {}) {
    super();
    this.base = base;
    const scale = opts.scale ?? 1;
    checkScale(scale);
    this.s = scale;
    this.schedule = opts.learningRateSchedule;
    const b0 = opts.baseBatchSize;
    if (b0 !== undefined && (!Number.isInteger(b0) || b0 < 1)) {
      throw new OptimizerConfigError(`AdaScale: baseBatchSize must be an integer >= 1, got ${b0}`);
    }
    this.baseBatchSize = b0 ?? null;
    const lr = (base as unknown as { learningRate?: unknown }).learningRate;
    if (typeof lr === "number") this.lr = lr;
  }

  /**
   * Whether `o` is an AdaScale. (`instanceof` cannot tell: tf.Optimizer's Symbol.hasInstance
   * accepts any object with minimize/computeGradients/applyGradients, so every optimizer is
   * `instanceof AdaScale`.)
   */
  static is(o: unknown): o is AdaScale {
    return (
      typeof o === "object" &&
      o !== null &&
      Object.prototype.isPrototypeOf.call(AdaScale.prototype, o)
    );
  }

  /** The S = 1 learning rate η (when no schedule is given); the loop sets it every step. */
  get learningRate(): number {
    return this.lr;
  }

  set learningRate(v: number) {
    if (!Number.isFinite(v) || v < 0) {
      throw new OptimizerConfigError(`AdaScale: learningRate must be a number >= 0, got ${v}`);
    }
    this.lr = v;
  }

  /** S, finite ≥ 1; set it when B (or the replica count) changes. */
  get scale(): number {
    return this.s;
  }

  set scale(v: number) {
    checkScale(v);
    this.s = v;
  }

  /** τ = Σ r_t over the updates applied: the scale-invariant step count schedules read. */
  get scaleInvariantSteps(): number {
    return this.tau;
  }

  /**
   * Sets σ² (variance of a base-batch gradient) and μ² = |G|² for the next updates; pass
   * null to clear them (r = 1).
   * @throws OptimizerConfigError if a value is not finite.
   */
  setStatistics(sigmaSq: number | null, muSq?: number): void {
    if (sigmaSq === null) {
      this.stats = null;
      return;
    }
    if (!Number.isFinite(sigmaSq) || !Number.isFinite(muSq)) {
      throw new OptimizerConfigError(
        `AdaScale: statistics must be finite numbers, got sigmaSq=${sigmaSq}, muSq=${muSq}`,
      );
    }
    this.stats = { sigmaSq, muSq: muSq as number };
  }

  /** r for the next update from the statistics and S now set (1 without statistics). */
  currentGain(): number {
    return this.stats === null ? 1 : adaScaleGainRatio(this.stats.sigmaSq, this.stats.muSq, this.s);
  }

  /** r of the last update applied, or null before the first. */
  get lastGain(): number | null {
    return this.gain;
  }

  /** The learning rate the last update applied, r_t·η(τ_t), or null before the first. */
  get lastLearningRate(): number | null {
    return this.lastLr;
  }

  /**
   * Sets the wrapped optimizer's learning rate to `r_t · η(τ_t)`, applies the gradients with
   * it, and advances τ by r_t.
   * @throws OptimizerConfigError if the schedule returns a negative or non-finite value.
   */
  override applyGradients(variableGradients: tf.NamedTensorMap | NamedTensor[]): void {
    const r = this.currentGain();
    const eta = this.schedule ? this.schedule(this.tau) : this.lr;
    if (!Number.isFinite(eta) || eta < 0) {
      throw new OptimizerConfigError(
        `AdaScale: learningRateSchedule(${this.tau}) must be a number >= 0, got ${eta}`,
      );
    }
    const lr = r === 1 ? eta : r * eta;
    setLearningRate(this.base, lr);
    this.base.applyGradients(variableGradients as tf.NamedTensorMap);
    this.tau += r;
    this.gain = r;
    this.lastLr = lr;
    this.incrementIterations();
  }

  /** AdaScale's own state as plain JSON. */
  getState(): AdaScaleState {
    return {
      scaleInvariantSteps: this.tau,
      scale: this.s,
      statistics: this.stats === null ? null : { ...this.stats },
      lastGain: this.gain,
      lastLearningRate: this.lastLr,
    };
  }

  /**
   * Restores AdaScale's own state (from {@link AdaScale.getState}).
   * @throws OptimizerConfigError on an invalid scale or τ.
   */
  setState(state: AdaScaleState): void {
    checkScale(state.scale);
    if (!Number.isFinite(state.scaleInvariantSteps) || state.scaleInvariantSteps < 0) {
      throw new OptimizerConfigError(
        `AdaScale: scaleInvariantSteps must be a number >= 0, got ${state.scaleInvariantSteps}`,
      );
    }
    this.s = state.scale;
    this.tau = state.scaleInvariantSteps;
    this.stats = state.statistics === null ? null : { ...state.statistics };
    this.gain = state.lastGain;
    this.lastLr = state.lastLearningRate ?? null;
  }

  /**
   * The wrapped optimizer's weights, then {@link ADASCALE_STATE_NAME}: a float64-safe encoding
   * is not available in tfjs tensors, so τ, S, σ², μ², r are stored as float32 — use
   * {@link AdaScale.getState} for exact JSON checkpoints.
   */
  override async getWeights(): Promise<NamedTensor[]> {
    const w = await this.base.getWeights();
    const st = this.stats;
    const vec = [this.tau, this.s, st ? 1 : 0, st?.sigmaSq ?? 0, st?.muSq ?? 0, this.gain ?? -1];
    return [...w, { name: ADASCALE_STATE_NAME, tensor: tf.tensor1d(vec) }];
  }

  /** Restores what {@link AdaScale.getWeights} returned (base weights and AdaScale's entry). */
  override async setWeights(weightValues: NamedTensor[]): Promise<void> {
    const own = weightValues.find((w) => w.name === ADASCALE_STATE_NAME);
    await this.base.setWeights(weightValues.filter((w) => w.name !== ADASCALE_STATE_NAME));
    if (own) {
      const [tau, s, has, s2, m2, g] = Array.from(await own.tensor.data());
      this.setState({
        scaleInvariantSteps: tau,
        scale: s,
        statistics: has ? { sigmaSq: s2, muSq: m2 } : null,
        lastGain: g < 0 ? null : g,
      });
    }
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { scale: this.s, base: this.base.getClassName() };
  }

  /** Disposes the wrapped optimizer's state. */
  override dispose(): void {
    this.base.dispose();
  }
}
