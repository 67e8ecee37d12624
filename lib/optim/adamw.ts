/**
 * AdamW: Adam with decoupled weight decay (Loshchilov & Hutter 2019, "Decoupled Weight Decay
 * Regularization", ICLR 2019, arXiv:1711.05101, Algorithm 2).
 */
import * as tf from "@tensorflow/tfjs-core";
import { SlotOptimizer, checkRange, compilePatterns, rejectUnknown } from "./base";

/** Options of {@link AdamW}. All are plain data (the optimizer's `getConfig`). */
export interface AdamWOptions {
  /** Step size η (≥ 0); mutable later through `learningRate`. Default 1e-3. */
  learningRate?: number;
  /** First-moment decay β₁ in [0, 1). Default 0.9. */
  beta1?: number;
  /** Second-moment decay β₂ in [0, 1). Default 0.999. */
  beta2?: number;
  /** ε added to √v̂ (≥ 0). Default 1e-8 (the paper; PyTorch). */
  epsilon?: number;
  /** Decoupled weight decay λ (≥ 0). Default 0.01 (PyTorch's AdamW). */
  weightDecay?: number;
  /** Regular-expression sources: matching variables get no weight decay. Default `[]`. */
  excludeFromWeightDecay?: string[];
}

const KEYS = [
  "learningRate",
  "beta1",
  "beta2",
  "epsilon",
  "weightDecay",
  "excludeFromWeightDecay",
] as const;

/**
 * The AdamW optimizer. Per variable, at step t = 1, 2, …:
 *
 * ```text
 * m ← β₁ m + (1 − β₁) g            v ← β₂ v + (1 − β₂) g²
 * m̂ = m / (1 − β₁ᵗ)                v̂ = v / (1 − β₂ᵗ)
 * θ ← θ − η (m̂ / (√v̂ + ε) + λ θ)
 * ```
 *
 * Departure: in Algorithm 2 the decay is multiplied by the schedule multiplier η_t but not by
 * the base rate α (θ ← θ − η_t(α m̂/(√v̂+ε) + λθ)); here, as in PyTorch and optax, it is
 * multiplied by the learning rate itself, so λ_paper = η·λ_here at a constant rate and the
 * decay follows any schedule set through `learningRate`. State: `<name>/m`, `<name>/v`.
 *
 * @example
 * const opt = new AdamW({ learningRate: 3e-4, weightDecay: 0.1,
 *   excludeFromWeightDecay: [...BIAS_AND_NORM_PATTERNS] });
 * model.compile({ optimizer: opt, loss: "sparseCategoricalCrossentropy" });
 */
export class AdamW extends SlotOptimizer {
  /** Registered class name (tfjs serialisation). */
  static get className(): string {
    return "AdamW";
  }
  protected readonly slotNames = ["m", "v"] as const;
  protected readonly label = "AdamW";
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  /** λ ≥ 0; settable between updates (lib/optim/learning-rate.ts `setWeightDecay`). */
  weightDecay: number;
  readonly excludeFromWeightDecay: readonly string[];
  private readonly noDecay: RegExp[];

  /**
   * @param opts see {@link AdamWOptions}; unknown keys are rejected.
   * @throws OptimizerConfigError naming the option for a value out of range, a bad regular
   *   expression, or an unknown key.
   */
  constructor(opts: AdamWOptions = {}) {
    super(opts.learningRate ?? 1e-3, "AdamW");
    rejectUnknown("AdamW", opts, KEYS);
    this.beta1 = checkRange("AdamW", "beta1", opts.beta1 ?? 0.9, 0, 1 - 1e-12);
    this.beta2 = checkRange("AdamW", "beta2", opts.beta2 ?? 0.999, 0, 1 - 1e-12);
    this.epsilon = checkRange("AdamW", "epsilon", opts.epsilon ?? 1e-8, 0, Infinity);
    this.weightDecay = checkRange("AdamW", "weightDecay", opts.weightDecay ?? 0.01, 0, Infinity);
    this.noDecay = compilePatterns("AdamW", "excludeFromWeightDecay", opts.excludeFromWeightDecay);
    this.excludeFromWeightDecay = Object.freeze([...(opts.excludeFromWeightDecay ?? [])]);
  }

  protected update(name: string, value: tf.Variable, grad: tf.Tensor, t: number): void {
    const m = this.slot(name, "m", value);
    const v = this.slot(name, "v", value);
    const g = grad.dtype === "float32" ? grad : tf.cast(grad, "float32");
    const m1 = tf.add(tf.mul(m, this.beta1), tf.mul(g, 1 - this.beta1));
    const v1 = tf.add(tf.mul(v, this.beta2), tf.mul(tf.square(g), 1 - this.beta2));
    m.assign(m1);
    v.assign(v1);
    const mHat = tf.div(m1, 1 - Math.pow(this.beta1, t));
    const vHat = tf.div(v1, 1 - Math.pow(this.beta2, t));
    let r = tf.div(mHat, tf.add(tf.sqrt(vHat), this.epsilon));
    if (this.weightDecay > 0 && !this.noDecay.some((p) => p.test(name))) {
      r = tf.add(r, tf.mul(value, this.weightDecay));
    }
    value.assign(tf.sub(value, tf.mul(r, this.learningRate)));
  }

  /** The options as plain data (tfjs serialisation; `fromConfig` inverts it). */
  override getConfig(): tf.serialization.ConfigDict {
    return {
      learningRate: this.learningRate,
      beta1: this.beta1,
      beta2: this.beta2,
      epsilon: this.epsilon,
      weightDecay: this.weightDecay,
      excludeFromWeightDecay: [...this.excludeFromWeightDecay],
    };
  }

  /** Rebuilds an AdamW from {@link getConfig}'s output (tfjs serialisation hook). */
  static override fromConfig<T extends tf.serialization.Serializable>(
    cls: tf.serialization.SerializableConstructor<T>,
    config: tf.serialization.ConfigDict,
  ): T {
    return new cls(config as unknown as AdamWOptions);
  }
}

tf.serialization.registerClass(AdamW);
