/**
 * Custom tfjs-layers layers that batchwise's model builders need and tfjs-layers lacks:
 *
 * - {@link Normalization}: Keras's `Normalization` preprocessing layer (per-channel mean and
 *   variance as non-trainable weights), so an EfficientNet built with Keras's preprocessing
 *   stem has Keras's parameter count;
 * - {@link PositionEmbedding}: learned absolute position embeddings added to a sequence;
 * - {@link CausalSelfAttention}: multi-head self-attention with a causal mask (GPT).
 *
 * Each is registered with `tf.serialization.registerClass`, so models using them save and
 * load with tfjs-layers' `model.save` / `tf.loadLayersModel` once this module is imported.
 */
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import type { Initializer } from "@tensorflow/tfjs-layers/dist/initializers";
import type { Kwargs } from "@tensorflow/tfjs-layers/dist/types";
import type { LayerArgs } from "@tensorflow/tfjs-layers/dist/engine/topology";
import { ConfigError } from "../core/errors";

type Shape = (number | null)[];

function one(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
  if (Array.isArray(inputs)) {
    if (inputs.length !== 1)
      throw new ConfigError(`expected one input tensor, got ${inputs.length}`);
    return inputs[0];
  }
  return inputs;
}

function lastShape(s: Shape | Shape[]): Shape {
  return (Array.isArray(s[0]) ? (s as Shape[])[0] : s) as Shape;
}

function checkInt(where: string, name: string, v: unknown, min: number): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < min) {
    throw new ConfigError(`${where}: ${name} must be an integer >= ${min}, got ${v}`);
  }
  return v;
}

// ----------------------------------------------------------------------------------------

/** Arguments of {@link Normalization}. */
export interface NormalizationArgs extends LayerArgs {
  /** Per-channel means (length = channels); default zeros. */
  mean?: number[];
  /** Per-channel variances (≥ 0, length = channels); default ones. */
  variance?: number[];
}

/**
 * Keras's `Normalization` layer over the last axis: `y = (x − mean) / max(√variance, ε)`,
 * ε = 1e-7 (Keras's `backend.epsilon()`). Holds three non-trainable weights like Keras:
 * `mean` [C], `variance` [C] and `count` [] (examples seen by `adapt`; kept at 0 here as
 * there is no `adapt`), so a model counts 2C + 1 parameters for it, as Keras does.
 *
 * @example
 * const n = new Normalization({ mean: [0.485, 0.456, 0.406], variance: [0.052, 0.05, 0.051] });
 */
export class Normalization extends tfl.layers.Layer {
  /** Registered class name. */
  static className = "Normalization";
  private readonly meanInit?: number[];
  private readonly varianceInit?: number[];
  private mean!: tfl.LayerVariable;
  private variance!: tfl.LayerVariable;

  /**
   * @param args `mean`, `variance` (same length as the input's last axis, variances ≥ 0).
   * @throws Error if `mean` and `variance` differ in length or a variance is negative.
   */
  constructor(args: NormalizationArgs = {}) {
    super(args);
    if (args.mean != null && args.variance != null && args.mean.length !== args.variance.length) {
      throw new ConfigError(
        `Normalization: mean has ${args.mean.length} entries, variance ${args.variance.length}`,
      );
    }
    if (args.variance?.some((v) => !(v >= 0))) {
      throw new ConfigError(`Normalization: variance must be >= 0, got [${args.variance}]`);
    }
    this.meanInit = args.mean;
    this.varianceInit = args.variance;
  }

  override build(inputShape: Shape | Shape[]): void {
    const s = lastShape(inputShape);
    const c = s[s.length - 1];
    if (c == null) throw new ConfigError("Normalization: the last axis must have a known size");
    for (const [k, v] of [
      ["mean", this.meanInit],
      ["variance", this.varianceInit],
    ] as const) {
      if (v != null && v.length !== c) {
        throw new ConfigError(
          `Normalization: ${k} has ${v.length} entries, the input has ${c} channels`,
        );
      }
    }
    const zeros = tfl.initializers.zeros();
    const ones = tfl.initializers.ones();
    this.mean = this.addWeight("mean", [c], "float32", zeros, undefined, false);
    this.variance = this.addWeight("variance", [c], "float32", ones, undefined, false);
    const meanInit = this.meanInit;
    const varianceInit = this.varianceInit;
    tf.tidy(() => {
      if (meanInit != null) this.mean.write(tf.tensor1d(meanInit));
      if (varianceInit != null) this.variance.write(tf.tensor1d(varianceInit));
    });
    this.addWeight("count", [], "float32", zeros, undefined, false);
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = one(inputs);
      const sd = tf.maximum(tf.sqrt(this.variance.read()), 1e-7);
      return tf.div(tf.sub(x, this.mean.read()), sd);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    const cfg: tf.serialization.ConfigDict = { ...super.getConfig() };
    if (this.meanInit != null) cfg.mean = this.meanInit;
    if (this.varianceInit != null) cfg.variance = this.varianceInit;
    return cfg;
  }
}
tf.serialization.registerClass(Normalization);

// ----------------------------------------------------------------------------------------

/** Arguments of {@link PositionEmbedding}. */
export interface PositionEmbeddingArgs extends LayerArgs {
  /** Largest sequence length (rows of the table); integer ≥ 1. */
  maxLength: number;
  /** Initializer of the [maxLength, width] table; default normal(0, 0.02) as GPT-2. */
  initializer?: Initializer;
}

/**
 * Learned absolute position embeddings (GPT-2; Radford et al. 2019): for input [B, T, d],
 * `y[b, t, :] = x[b, t, :] + P[t, :]` with a trainable table P [maxLength, d], T ≤ maxLength.
 *
 * @example
 * const h = new PositionEmbedding({ maxLength: 128 }).apply(tokenEmbeddings);
 */
export class PositionEmbedding extends tfl.layers.Layer {
  /** Registered class name. */
  static className = "PositionEmbedding";
  readonly maxLength: number;
  private readonly init: Initializer;
  private table!: tfl.LayerVariable;

  /** @throws Error if `maxLength` is not an integer ≥ 1. */
  constructor(args: PositionEmbeddingArgs) {
    super(args);
    this.maxLength = checkInt("PositionEmbedding", "maxLength", args.maxLength, 1);
    this.init = args.initializer ?? tfl.initializers.randomNormal({ mean: 0, stddev: 0.02 });
  }

  override build(inputShape: Shape | Shape[]): void {
    const s = lastShape(inputShape);
    const d = s[s.length - 1];
    if (s.length !== 3 || d == null) {
      throw new ConfigError(`PositionEmbedding: input must be [B, T, d] with known d, got [${s}]`);
    }
    this.table = this.addWeight("embeddings", [this.maxLength, d], "float32", this.init);
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = one(inputs);
      const [, t, d] = x.shape;
      if (t > this.maxLength) {
        throw new ConfigError(
          `PositionEmbedding: sequence length ${t} > maxLength ${this.maxLength}`,
        );
      }
      const p = this.table.read();
      return tf.add(x, t === this.maxLength ? p : tf.slice(p, [0, 0], [t, d]));
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), maxLength: this.maxLength };
  }
}
tf.serialization.registerClass(PositionEmbedding);

// ----------------------------------------------------------------------------------------

/** Arguments of {@link CausalSelfAttention}. */
export interface CausalSelfAttentionArgs extends LayerArgs {
  /** Number of heads h; the width d must be a multiple of h. */
  heads: number;
  /** Dropout rate on the attention weights and the output, in [0, 1); default 0. */
  dropout?: number;
  /** Initializer of the query/key/value projection [d, 3d]; default normal(0, 0.02). */
  kernelInitializer?: Initializer;
  /** Initializer of the output projection [d, d]; default normal(0, 0.02). */
  projInitializer?: Initializer;
}

/**
 * Multi-head causal self-attention (Vaswani et al. 2017 §3.2; the GPT decoder's masked
 * attention, Radford et al. 2018). For input x [B, T, d], heads h, d_h = d/h:
 *
 * ```text
 * [Q K V] = x W_qkv + b_qkv     (W_qkv [d, 3d]: columns [0, d) Q, [d, 2d) K, [2d, 3d) V;
 *                                 each split into h heads of d_h: [B·h, T, d_h])
 * A = softmax(Q Kᵀ / √d_h + M)                  M[i, j] = 0 if j ≤ i, else −1e9 (causal mask)
 * y = concat_heads(A V) W_o + b_o               (W_o [d, d])
 * ```
 *
 * Weights (4): `qkv_kernel`, `qkv_bias`, `proj_kernel`, `proj_bias` — 4d² + 4d parameters.
 * The mask uses −1e9 rather than −∞ so a fully masked row cannot produce NaN (none occurs
 * with a causal mask; the result is the same in float32).
 *
 * @example
 * const y = new CausalSelfAttention({ heads: 4 }).apply(x) as tfl.SymbolicTensor;
 */
export class CausalSelfAttention extends tfl.layers.Layer {
  /** Registered class name. */
  static className = "CausalSelfAttention";
  readonly heads: number;
  readonly dropout: number;
  private readonly kernelInit: Initializer;
  private readonly projInit: Initializer;
  private qkvKernel!: tfl.LayerVariable;
  private qkvBias!: tfl.LayerVariable;
  private projKernel!: tfl.LayerVariable;
  private projBias!: tfl.LayerVariable;

  /** @throws Error if `heads` is not an integer ≥ 1 or `dropout` is not in [0, 1). */
  constructor(args: CausalSelfAttentionArgs) {
    super(args);
    this.heads = checkInt("CausalSelfAttention", "heads", args.heads, 1);
    const p = args.dropout ?? 0;
    if (!(p >= 0 && p < 1)) {
      throw new ConfigError(`CausalSelfAttention: dropout must be in [0, 1), got ${p}`);
    }
    this.dropout = p;
    this.kernelInit = args.kernelInitializer ?? tfl.initializers.randomNormal({ stddev: 0.02 });
    this.projInit = args.projInitializer ?? tfl.initializers.randomNormal({ stddev: 0.02 });
  }

  override build(inputShape: Shape | Shape[]): void {
    const s = lastShape(inputShape);
    const d = s[s.length - 1];
    if (s.length !== 3 || d == null) {
      throw new ConfigError(
        `CausalSelfAttention: input must be [B, T, d] with known d, got [${s}]`,
      );
    }
    if (d % this.heads !== 0) {
      throw new ConfigError(
        `CausalSelfAttention: width ${d} is not a multiple of heads ${this.heads}`,
      );
    }
    const zeros = tfl.initializers.zeros();
    this.qkvKernel = this.addWeight("qkv_kernel", [d, 3 * d], "float32", this.kernelInit);
    this.qkvBias = this.addWeight("qkv_bias", [3 * d], "float32", zeros);
    this.projKernel = this.addWeight("proj_kernel", [d, d], "float32", this.projInit);
    this.projBias = this.addWeight("proj_bias", [d], "float32", zeros);
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const x = one(inputs);
      const [b, t, d] = x.shape;
      const h = this.heads;
      const dh = d / h;
      const training = kwargs?.training === true && this.dropout > 0;
      // q, k, v = x·W_qkv[:, i·d:(i+1)·d] + b_qkv[i·d:(i+1)·d] → [B, T, h, d_h] → [B·h, T, d_h].
      // Slicing the small weight (not the [B·T, 3d] product) keeps the big tensors
      // contiguous; 4-D transposes (the wasm backend's 5-D transpose is 10× slower).
      const x2 = tf.reshape(x, [b * t, d]);
      const w = this.qkvKernel.read();
      const bias = this.qkvBias.read();
      const [q, k, v] = [0, 1, 2].map((i) => {
        const z = tf.add(
          tf.matMul(x2, tf.slice(w, [0, i * d], [d, d])),
          tf.slice(bias, [i * d], [d]),
        );
        return tf.reshape(tf.transpose(tf.reshape(z, [b, t, h, dh]), [0, 2, 1, 3]), [b * h, t, dh]);
      });
      const scores = tf.add(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(dh)), causalMask(t));
      let att = tf.softmax(scores);
      if (training) att = tf.dropout(att, this.dropout);
      const y = tf.matMul(att, v); // [B·h, T, d_h]
      const merged = tf.reshape(tf.transpose(tf.reshape(y, [b, h, t, dh]), [0, 2, 1, 3]), [
        b * t,
        d,
      ]);
      let out = tf.add(tf.matMul(merged, this.projKernel.read()), this.projBias.read());
      if (training) out = tf.dropout(out, this.dropout);
      return tf.reshape(out, [b, t, d]);
    });
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return lastShape(inputShape);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), heads: this.heads, dropout: this.dropout };
  }
}
tf.serialization.registerClass(CausalSelfAttention);

/**
 * The additive causal mask of {@link CausalSelfAttention}: `M[i, j] = 0` for j ≤ i (position
 * i may attend to j) and −1e9 for j > i (the future), so softmax gives those entries weight
 * exp(−1e9) = 0. Built on the host and uploaded once per call (T² values).
 *
 * @param t sequence length T (integer ≥ 1).
 * @returns a float32 [T, T] tensor (the caller disposes it).
 * @throws Error if `t` is not a positive integer (from the typed-array allocation).
 * @example
 * causalMask(2); // [[0, −1e9], [0, 0]]
 */
export function causalMask(t: number): tf.Tensor2D {
  const m = new Float32Array(t * t);
  for (let i = 0; i < t; i++) m.fill(-1e9, i * t + i + 1, (i + 1) * t);
  return tf.tensor2d(m, [t, t]);
}
