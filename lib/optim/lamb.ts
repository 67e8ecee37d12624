/**
 * LAMB: layer-wise adaptive moments for large-batch training (You et al. 2019,
 * "Large Batch Optimization for Deep Learning: Training BERT in 76 minutes",
 * arXiv:1904.00962, Algorithm 2).
 */
import * as tf from "@tensorflow/tfjs-core";
import {
  SlotOptimizer,
  checkRange,
  compilePatterns,
  l2norm,
  rejectUnknown,
  safeRatio,
  OptimizerConfigError,
} from "./base";

/** Options of {@link Lamb}. All are plain data (the optimizer's `getConfig`). */
export interface LambOptions {
  /** Step size η (≥ 0); mutable later through `learningRate`. Default 1e-3. */
  learningRate?: number;
  /** First-moment decay β₁ in [0, 1). Default 0.9. */
  beta1?: number;
  /** Second-moment decay β₂ in [0, 1). Default 0.999. */
  beta2?: number;
  /** ε added to √v̂ (≥ 0). Default 1e-6 (the paper's experiments; tensorflow-addons). */
  epsilon?: number;
  /** Decoupled weight decay λ (≥ 0), added to the Adam direction. Default 0.01. */
  weightDecay?: number;
  /** Divide the moments by 1 − βᵗ (Algorithm 2). Default true. */
  biasCorrection?: boolean;
  /**
   * Regular-expression sources; a variable whose name matches any gets no weight decay.
   * Default `[]` (the paper decays every layer). {@link BIAS_AND_NORM_PATTERNS} gives
   * BERT's practice (no decay on biases and normalisation parameters).
   */
  excludeFromWeightDecay?: string[];
  /**
   * Regular-expression sources; a variable whose name matches any gets trust ratio 1 (a plain
   * AdamW step). Default: the same list as `excludeFromWeightDecay` (tensorflow-addons'
   * convention).
   */
  excludeFromAdaptation?: string[];
}

const KEYS = [
  "learningRate",
  "beta1",
  "beta2",
  "epsilon",
  "weightDecay",
  "biasCorrection",
  "excludeFromWeightDecay",
  "excludeFromAdaptation",
] as const;

/**
 * The LAMB optimizer. Per variable (a "layer" in the paper: each weight tensor separately),
 * at step t = 1, 2, …:
 *
 * ```text
 * m ← β₁ m + (1 − β₁) g            v ← β₂ v + (1 − β₂) g²
 * m̂ = m / (1 − β₁ᵗ)                v̂ = v / (1 − β₂ᵗ)          (if biasCorrection)
 * r = m̂ / (√v̂ + ε) + λ θ
 * φ = |θ| / |r|   (1 if |θ| = 0 or |r| = 0, or the variable is excluded from adaptation)
 * θ ← θ − η φ r
 * ```
 *
 * Departures from Algorithm 2, all documented choices of the reference implementations:
 * the scaling function φ(z) is the identity (the paper allows clipping to [γₗ, γᵤ]); the
 * ratio is 1 when either norm is 0 (tensorflow-addons' LAMB; the paper leaves 0/0
 * undefined); exclusion lists as tensorflow-addons (`exclude_from_weight_decay`,
 * `exclude_from_layer_adaptation`). State is keyed by variable name (`<name>/m`,
 * `<name>/v`) and round-trips through `getWeights`/`setWeights`.
 *
 * Usable by batchwise's `trainStep` (which sets `learningRate` every step) and by
 * `LayersModel.compile({optimizer: new Lamb(...)})` / `fit`.
 *
 * @example
 * const opt = new Lamb({ learningRate: 2e-3, weightDecay: 0.01,
 *   excludeFromWeightDecay: [...BIAS_AND_NORM_PATTERNS] });
 * trainStep(model, opt, task, batch, { microBatchSize: 64, learningRate: 2e-3 });
 */
export class Lamb extends SlotOptimizer {
  /** Registered class name (tfjs serialisation). */
  static get className(): string {
    return "Lamb";
  }
  protected readonly slotNames = ["m", "v"] as const;
  protected readonly label = "Lamb";
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  /** λ ≥ 0; settable between updates (lib/optim/learning-rate.ts `setWeightDecay`). */
  weightDecay: number;
  readonly biasCorrection: boolean;
  readonly excludeFromWeightDecay: readonly string[];
  readonly excludeFromAdaptation: readonly string[];
  private readonly noDecay: RegExp[];
  private readonly noAdapt: RegExp[];

  /**
   * @param opts see {@link LambOptions}; unknown keys are rejected.
   * @throws OptimizerConfigError naming the option for a value out of range, a bad regular
   *   expression, or an unknown key.
   */
  constructor(opts: LambOptions = {}) {
    super(opts.learningRate ?? 1e-3, "Lamb");
    rejectUnknown("Lamb", opts, KEYS);
    this.beta1 = checkRange("Lamb", "beta1", opts.beta1 ?? 0.9, 0, 1 - 1e-12);
    this.beta2 = checkRange("Lamb", "beta2", opts.beta2 ?? 0.999, 0, 1 - 1e-12);
    this.epsilon = checkRange("Lamb", "epsilon", opts.epsilon ?? 1e-6, 0, Infinity);
    this.weightDecay = checkRange("Lamb", "weightDecay", opts.weightDecay ?? 0.01, 0, Infinity);
    const bc = opts.biasCorrection ?? true;
    if (typeof bc !== "boolean") {
      throw new OptimizerConfigError(`Lamb: biasCorrection must be a boolean, got ${bc}`);
    }
    this.biasCorrection = bc;
    // Validate (compile) the raw values before copying them.
    this.noDecay = compilePatterns("Lamb", "excludeFromWeightDecay", opts.excludeFromWeightDecay);
    this.noAdapt =
      opts.excludeFromAdaptation == null
        ? this.noDecay
        : compilePatterns("Lamb", "excludeFromAdaptation", opts.excludeFromAdaptation);
    this.excludeFromWeightDecay = Object.freeze([...(opts.excludeFromWeightDecay ?? [])]);
    this.excludeFromAdaptation = Object.freeze([
      ...(opts.excludeFromAdaptation ?? this.excludeFromWeightDecay),
    ]);
  }

  protected update(name: string, value: tf.Variable, grad: tf.Tensor, t: number): void {
    const m = this.slot(name, "m", value);
    const v = this.slot(name, "v", value);
    const g = grad.dtype === "float32" ? grad : tf.cast(grad, "float32");
    const m1 = tf.add(tf.mul(m, this.beta1), tf.mul(g, 1 - this.beta1));
    const v1 = tf.add(tf.mul(v, this.beta2), tf.mul(tf.square(g), 1 - this.beta2));
    m.assign(m1);
    v.assign(v1);
    const mHat = this.biasCorrection ? tf.div(m1, 1 - Math.pow(this.beta1, t)) : m1;
    const vHat = this.biasCorrection ? tf.div(v1, 1 - Math.pow(this.beta2, t)) : v1;
    let r = tf.div(mHat, tf.add(tf.sqrt(vHat), this.epsilon));
    if (this.weightDecay > 0 && !this.noDecay.some((p) => p.test(name))) {
      r = tf.add(r, tf.mul(value, this.weightDecay));
    }
    const step = this.noAdapt.some((p) => p.test(name))
      ? tf.mul(r, this.learningRate)
      : tf.mul(r, tf.mul(safeRatio(l2norm(value), l2norm(r)), this.learningRate));
    value.assign(tf.sub(value, step));
  }

  /** The options as plain data (tfjs serialisation; `fromConfig` inverts it). */
  override getConfig(): tf.serialization.ConfigDict {
    return {
      learningRate: this.learningRate,
      beta1: this.beta1,
      beta2: this.beta2,
      epsilon: this.epsilon,
      weightDecay: this.weightDecay,
      biasCorrection: this.biasCorrection,
      excludeFromWeightDecay: [...this.excludeFromWeightDecay],
      excludeFromAdaptation: [...this.excludeFromAdaptation],
    };
  }

  /** Rebuilds a Lamb from {@link getConfig}'s output (tfjs serialisation hook). */
  static override fromConfig<T extends tf.serialization.Serializable>(
    cls: tf.serialization.SerializableConstructor<T>,
    config: tf.serialization.ConfigDict,
  ): T {
    return new cls(config as unknown as LambOptions);
  }
}

tf.serialization.registerClass(Lamb);
