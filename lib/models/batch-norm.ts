/**
 * Batch normalisation (Ioffe & Szegedy 2015, arXiv:1502.03167, Algorithm 1) with a hand-written
 * backward pass for training mode.
 *
 * tfjs-layers' `BatchNormalization` computes the batch moments and normalises with ops that
 * tfjs-core differentiates one by one: the gradient flows through the FusedBatchNorm kernel's
 * composite gradient (with respect to x, mean, variance, scale and offset) and then back
 * through the moments (Mean, SquaredDifference), about twenty passes over the activation per
 * layer. On the tensorflow backend that made element-wise Multiply/Add/Sub/Sum the largest cost
 * of an MBConv or EfficientNet step. The closed form needs five:
 *
 *   μ = mean(x), σ² = mean((x − μ)²) (biased, as tfjs-layers and Keras), r = 1/√(σ² + ε)
 *   x̂ = (x − μ)·r,  y = γ·x̂ + β
 *   ∂β = Σ dy,  ∂γ = Σ dy·x̂,  ∂x = γ·r·(dy − ∂β/N − x̂·∂γ/N)
 *
 * with sums over every axis but the channel axis and N the number of summed elements per
 * channel (Ioffe & Szegedy, §3, the chain rule of Algorithm 1 collapsed).
 *
 * {@link BatchNormalization} is tfjs-layers' layer with only its training-mode `call` replaced
 * (same config, weights, moving-average update and inference path), registered under the
 * same class name, so saved models load into it and its checkpoints load anywhere.
 */
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import type { Kwargs } from "@tensorflow/tfjs-layers/dist/types";

/** Output of {@link batchNormTraining}: y, and the batch moments for the moving averages. */
export interface BatchNormTrainingResult {
  y: tf.Tensor;
  mean: tf.Tensor1D;
  variance: tf.Tensor1D;
}

/**
 * Training-mode batch normalisation over all axes but `axis`, differentiable in x, γ and β by
 * the closed form in the module doc (not by tfjs-core's op-by-op gradients).
 *
 * @param x input, any rank ≥ 2, float32.
 * @param gamma scale γ, shape [C] with C = x.shape[axis].
 * @param beta offset β, shape [C].
 * @param axis channel axis (negative counts from the end).
 * @param epsilon ε > 0 added to the variance.
 * @returns y (x's shape) and the biased batch mean and variance (shape [C]); the caller owns
 *   all three.
 * @throws Error when γ or β is not of shape [C], or ε ≤ 0.
 */
export function batchNormTraining(
  x: tf.Tensor,
  gamma: tf.Tensor,
  beta: tf.Tensor,
  axis: number,
  epsilon: number,
): BatchNormTrainingResult {
  const ax = axis < 0 ? axis + x.rank : axis;
  const c = x.shape[ax];
  if (gamma.size !== c || beta.size !== c) {
    throw new Error(
      `batchNormTraining: gamma and beta must have ${c} values (x.shape[${ax}]), got ${gamma.size} and ${beta.size}`,
    );
  }
  if (!(epsilon > 0)) throw new Error(`batchNormTraining: epsilon must be > 0, got ${epsilon}`);
  const axes = x.shape.map((_, i) => i).filter((i) => i !== ax);
  const n = axes.reduce((p, i) => p * x.shape[i], 1);
  const bshape = x.shape.map((s, i) => (i === ax ? s : 1));
  let mean: tf.Tensor | null = null;
  let variance: tf.Tensor | null = null;
  const f = tf.customGrad(((xi: tf.Tensor, g: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
    const mu = tf.mean(xi, axes, true);
    const xc = tf.sub(xi, mu);
    const v = tf.mean(tf.square(xc), axes, true);
    const r = tf.rsqrt(tf.add(v, epsilon));
    const xhat = tf.mul(xc, r);
    const y = tf.add(tf.mul(xhat, tf.reshape(g, bshape)), tf.reshape(b, bshape));
    mean = tf.keep(tf.reshape(mu, [c]));
    variance = tf.keep(tf.reshape(v, [c]));
    save([xhat, r, g]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xh, rs, gs] = saved;
        const dBeta = tf.sum(dy, axes, true);
        const dGamma = tf.sum(tf.mul(dy, xh), axes, true);
        const centred = tf.sub(tf.sub(dy, tf.div(dBeta, n)), tf.mul(xh, tf.div(dGamma, n)));
        const dx = tf.mul(centred, tf.mul(tf.reshape(gs, bshape), rs));
        return [dx, tf.reshape(dGamma, [c]), tf.reshape(dBeta, [c])];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  const y = f(x, gamma, beta);
  return { y, mean: mean as unknown as tf.Tensor1D, variance: variance as unknown as tf.Tensor1D };
}

// tfjs-layers does not export the class itself; the factory's result carries it.
type BatchNormLayer = tfl.layers.Layer & {
  axis: number;
  momentum: number;
  epsilon: number;
  center: boolean;
  scale: boolean;
  gamma: tfl.LayerVariable;
  beta: tfl.LayerVariable;
  movingMean: tfl.LayerVariable;
  movingVariance: tfl.LayerVariable;
};
type BatchNormClass = new (args?: object) => BatchNormLayer;
const Base = tfl.layers.batchNormalization({}).constructor as unknown as BatchNormClass;

/**
 * tfjs-layers' `BatchNormalization` with the closed-form training backward of
 * {@link batchNormTraining}. Inference, the config and the weights are the base class's; the
 * moving averages are updated as there: m ← m − (m − batch)·(1 − momentum).
 * Layers without centre or scale fall back to the base class.
 */
export class BatchNormalization extends Base {
  static className = "BatchNormalization";

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor | tf.Tensor[] {
    const training = (kwargs["training"] as boolean | undefined) ?? false;
    if (!training || !this.center || !this.scale) return super.call(inputs, kwargs);
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      const { y, mean, variance } = batchNormTraining(
        x,
        this.gamma.read(),
        this.beta.read(),
        this.axis,
        this.epsilon,
      );
      const decay = 1 - this.momentum;
      for (const [v, batch] of [
        [this.movingMean, mean],
        [this.movingVariance, variance],
      ] as const) {
        tf.tidy(() => {
          const old = v.read();
          v.write(tf.sub(old, tf.mul(tf.sub(old, batch), decay)));
        });
      }
      tf.dispose([mean, variance]);
      return y;
    });
  }
}
tf.serialization.registerClass(
  BatchNormalization as unknown as tf.serialization.SerializableConstructor<tf.serialization.Serializable>,
);

/** Factory like `tfl.layers.batchNormalization`, returning batchwise's {@link BatchNormalization}. */
export function batchNormalization(
  args: Parameters<typeof tfl.layers.batchNormalization>[0] = {},
): BatchNormalization {
  return new BatchNormalization(args);
}
