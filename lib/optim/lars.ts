/**
 * LARS: layer-wise adaptive rate scaling (You, Gitman, Ginsburg 2017, "Large Batch Training
 * of Convolutional Networks", arXiv:1708.03888, Algorithm 1).
 */
import * as tf from "@tensorflow/tfjs-core";
import { SlotOptimizer, checkRange, compilePatterns, l2norm, rejectUnknown } from "./base";

/** Options of {@link Lars}. All are plain data (the optimizer's `getConfig`). */
export interface LarsOptions {
  /** Global learning rate γ (≥ 0); mutable later through `learningRate`. Default 0.1. */
  learningRate?: number;
  /** Momentum m in [0, 1). Default 0.9 (the paper's experiments). */
  momentum?: number;
  /** Weight decay β (≥ 0). Default 5e-4 (the paper's AlexNet/ResNet runs). */
  weightDecay?: number;
  /** Trust coefficient η (> 0). Default 0.001 (the paper, §3). */
  trustCoefficient?: number;
  /** ε added to the local-rate denominator (≥ 0). Default 0 (tf-models' LARS). */
  epsilon?: number;
  /** Regular-expression sources: matching variables get no weight decay. Default `[]`. */
  excludeFromWeightDecay?: string[];
  /**
   * Regular-expression sources: matching variables get local rate 1 (plain momentum SGD).
   * Default: the same list as `excludeFromWeightDecay` (tf-models' convention).
   */
  excludeFromAdaptation?: string[];
}

const KEYS = [
  "learningRate",
  "momentum",
  "weightDecay",
  "trustCoefficient",
  "epsilon",
  "excludeFromWeightDecay",
  "excludeFromAdaptation",
] as const;

/**
 * The LARS optimizer: momentum SGD with a per-layer local learning rate. Per variable w with
 * gradient g:
 *
 * ```text
 * λ = η |w| / (|g| + β |w| + ε)     (λ = 1 if |w| = 0 or |g| = 0, or w is excluded)
 * v ← m v + γ λ (g + β w)
 * w ← w − v
 * ```
 *
 * Departures from Algorithm 1: the polynomial decay of γ is left to the caller (set
 * `learningRate` every step); λ = 1 when either norm is 0 and the ε term follow tf-models'
 * `LARSOptimizer` (the paper leaves 0/0 undefined); exclusion lists as tf-models
 * (`exclude_from_weight_decay`, `exclude_from_layer_adaptation`). State: `<name>/v`.
 *
 * @example
 * const opt = new Lars({ learningRate: 1, momentum: 0.9, weightDecay: 5e-4 });
 * trainStep(model, opt, task, batch, { microBatchSize: 256, learningRate: 1 });
 */
export class Lars extends SlotOptimizer {
  /** Registered class name (tfjs serialisation). */
  static get className(): string {
    return "Lars";
  }
  protected readonly slotNames = ["v"] as const;
  protected readonly label = "Lars";
  readonly momentum: number;
  readonly weightDecay: number;
  readonly trustCoefficient: number;
  readonly epsilon: number;
  readonly excludeFromWeightDecay: readonly string[];
  readonly excludeFromAdaptation: readonly string[];
  private readonly noDecay: RegExp[];
  private readonly noAdapt: RegExp[];

  /**
   * @param opts see {@link LarsOptions}; unknown keys are rejected.
   * @throws OptimizerConfigError naming the option for a value out of range, a bad regular
   *   expression, or an unknown key.
   */
  constructor(opts: LarsOptions = {}) {
    super(opts.learningRate ?? 0.1, "Lars");
    rejectUnknown("Lars", opts, KEYS);
    this.momentum = checkRange("Lars", "momentum", opts.momentum ?? 0.9, 0, 1 - 1e-12);
    this.weightDecay = checkRange("Lars", "weightDecay", opts.weightDecay ?? 5e-4, 0, Infinity);
    this.trustCoefficient = checkRange(
      "Lars",
      "trustCoefficient",
      opts.trustCoefficient ?? 0.001,
      0,
      Infinity,
      true,
    );
    this.epsilon = checkRange("Lars", "epsilon", opts.epsilon ?? 0, 0, Infinity);
    // Validate (compile) the raw values before copying them.
    this.noDecay = compilePatterns("Lars", "excludeFromWeightDecay", opts.excludeFromWeightDecay);
    this.noAdapt =
      opts.excludeFromAdaptation == null
        ? this.noDecay
        : compilePatterns("Lars", "excludeFromAdaptation", opts.excludeFromAdaptation);
    this.excludeFromWeightDecay = Object.freeze([...(opts.excludeFromWeightDecay ?? [])]);
    this.excludeFromAdaptation = Object.freeze([
      ...(opts.excludeFromAdaptation ?? this.excludeFromWeightDecay),
    ]);
  }

  protected update(name: string, value: tf.Variable, grad: tf.Tensor, _t: number): void {
    const vel = this.slot(name, "v", value);
    const g = grad.dtype === "float32" ? grad : tf.cast(grad, "float32");
    const decay = this.noDecay.some((p) => p.test(name)) ? 0 : this.weightDecay;
    const d = decay > 0 ? tf.add(g, tf.mul(value, decay)) : g;
    let rate: tf.Tensor;
    if (this.noAdapt.some((p) => p.test(name))) {
      rate = tf.scalar(this.learningRate);
    } else {
      const wn = l2norm(value);
      const gn = l2norm(g);
      const ok = tf.logicalAnd(tf.greater(wn, 0), tf.greater(gn, 0));
      const denom = tf.add(tf.add(gn, tf.mul(wn, decay)), this.epsilon);
      const local = tf.where(
        ok,
        tf.div(tf.mul(wn, this.trustCoefficient), tf.where(ok, denom, tf.onesLike(denom))),
        tf.onesLike(wn),
      );
      rate = tf.mul(local, this.learningRate);
    }
    const v1 = tf.add(tf.mul(vel, this.momentum), tf.mul(d, rate));
    vel.assign(v1);
    value.assign(tf.sub(value, v1));
  }

  /** The options as plain data (tfjs serialisation; `fromConfig` inverts it). */
  override getConfig(): tf.serialization.ConfigDict {
    return {
      learningRate: this.learningRate,
      momentum: this.momentum,
      weightDecay: this.weightDecay,
      trustCoefficient: this.trustCoefficient,
      epsilon: this.epsilon,
      excludeFromWeightDecay: [...this.excludeFromWeightDecay],
      excludeFromAdaptation: [...this.excludeFromAdaptation],
    };
  }

  /** Rebuilds a Lars from {@link getConfig}'s output (tfjs serialisation hook). */
  static override fromConfig<T extends tf.serialization.Serializable>(
    cls: tf.serialization.SerializableConstructor<T>,
    config: tf.serialization.ConfigDict,
  ): T {
    return new cls(config as unknown as LarsOptions);
  }
}

tf.serialization.registerClass(Lars);
