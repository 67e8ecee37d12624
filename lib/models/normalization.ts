/**
 * Batch normalisation (Ioffe & Szegedy 2015, arXiv:1502.03167, Algorithm 1) and layer
 * normalisation (Ba, Kiros & Hinton 2016, arXiv:1607.06450, eq. 4) with a hand-written backward
 * pass.
 *
 * tfjs-layers computes both from moments and `tf.batchNorm`, and tfjs-core differentiates them
 * op by op: the gradient flows through the FusedBatchNorm kernel's composite gradient (with
 * respect to x, mean, variance, scale and offset) and back through the moments; its
 * `LayerNormalization` also tiles the moments, γ and β to the full input shape first (tfjs issue
 * 2120). Each of those ops is a pass over the activation, and element-wise kernels were the
 * largest cost of an MBConv or EfficientNet step on the tensorflow backend; with the closed
 * form below (about ten passes) the MBConv block's step went from 268 to 199 ms and
 * EfficientNet-B0's from 708 to 636 ms (bench/profile-step.ts, B = 64):
 *
 *   μ = mean_S(x), σ² = mean_S((x − μ)²) (biased, as tfjs-layers and Keras), r = 1/√(σ² + ε)
 *   x̂ = (x − μ)·r,  y = γ·x̂ + β
 *   ∂β = Σ_P dy,  ∂γ = Σ_P dy·x̂,  g = γ·dy
 *   ∂x = r·(g − mean_S(g) − x̂·mean_S(g·x̂))
 *
 * where S are the statistics axes (batch norm: all but the channel axis; layer norm: the
 * normalised axes) and P the axes γ and β are broadcast along (all but their own axes). When γ
 * is constant over S (batch norm), g's means are γ·mean_S(dy) and γ·mean_S(dy·x̂) = γ·∂γ/N, so
 * ∂x = γ·r·(dy − ∂β/N − x̂·∂γ/N) (Ioffe & Szegedy §3, the chain rule of Algorithm 1 collapsed).
 *
 * {@link BatchNormalization} and {@link LayerNormalization} are tfjs-layers' layers with only
 * their `call` replaced (same config, weights, moving averages and inference path), registered
 * under the same class names, so saved models load into them and their checkpoints load
 * anywhere.
 */
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import type { Kwargs } from "@tensorflow/tfjs-layers/dist/types";
import { ConfigError } from "../core/errors";

/** Output of {@link normalizeWithGrad}: y, and the moments (keepDims shape) it used. */
export interface NormalizeResult {
  y: tf.Tensor;
  mean: tf.Tensor;
  variance: tf.Tensor;
}

/**
 * y = γ·(x − μ)/√(σ² + ε) + β with the moments over `statAxes`, differentiable in x, γ and β by
 * the closed form in the module doc (not by tfjs-core's op-by-op gradients).
 *
 * @param x input, float32, rank ≥ 1.
 * @param gamma scale γ with the sizes of x along `paramAxes` (any shape of that size).
 * @param beta offset β, same size as γ.
 * @param statAxes axes the mean and variance are taken over (non-negative, sorted).
 * @param paramAxes axes γ and β vary along (non-negative, sorted).
 * @param epsilon ε > 0 added to the variance.
 * @returns y (x's shape) and the biased mean and variance (x's rank, size 1 on `statAxes`); the
 *   caller owns all three.
 * @throws Error when γ or β has the wrong size, or ε ≤ 0.
 */
export function normalizeWithGrad(
  x: tf.Tensor,
  gamma: tf.Tensor,
  beta: tf.Tensor,
  statAxes: number[],
  paramAxes: number[],
  epsilon: number,
): NormalizeResult {
  const pshape = x.shape.map((s, i) => (paramAxes.includes(i) ? s : 1));
  const psize = pshape.reduce((p, q) => p * q, 1);
  if (gamma.size !== psize || beta.size !== psize) {
    throw new ConfigError(
      `normalize: gamma and beta must have ${psize} values (x's axes ${paramAxes}), got ${gamma.size} and ${beta.size}`,
    );
  }
  if (!(epsilon > 0)) throw new ConfigError(`normalize: epsilon must be > 0, got ${epsilon}`);
  const n = statAxes.reduce((p, i) => p * x.shape[i], 1);
  const sumAxes = x.shape.map((_, i) => i).filter((i) => !paramAxes.includes(i));
  const gammaConstantOverStats = statAxes.every((i) => !paramAxes.includes(i));
  let mean: tf.Tensor | null = null;
  let variance: tf.Tensor | null = null;
  const f = tf.customGrad(((xi: tf.Tensor, g: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
    const mu = tf.mean(xi, statAxes, true);
    const xc = tf.sub(xi, mu);
    const v = tf.mean(tf.square(xc), statAxes, true);
    const r = tf.rsqrt(tf.add(v, epsilon));
    const xhat = tf.mul(xc, r);
    const gb = tf.reshape(g, pshape);
    const y = tf.add(tf.mul(xhat, gb), tf.reshape(b, pshape));
    mean = tf.keep(mu);
    variance = tf.keep(v);
    save([xhat, r, gb]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xh, rs, gs] = saved;
        const dBeta = tf.sum(dy, sumAxes, true);
        const dyXhat = tf.mul(dy, xh);
        const dGamma = tf.sum(dyXhat, sumAxes, true);
        let dx: tf.Tensor;
        if (gammaConstantOverStats) {
          // the parameters' sums run over exactly the statistics axes (batch norm)
          const centred = tf.sub(tf.sub(dy, tf.div(dBeta, n)), tf.mul(xh, tf.div(dGamma, n)));
          dx = tf.mul(centred, tf.mul(gs, rs));
        } else {
          const gdy = tf.mul(dy, gs);
          const centred = tf.sub(
            tf.sub(gdy, tf.mean(gdy, statAxes, true)),
            tf.mul(xh, tf.mean(tf.mul(gdy, xh), statAxes, true)),
          );
          dx = tf.mul(centred, rs);
        }
        return [dx, tf.reshape(dGamma, g.shape), tf.reshape(dBeta, b.shape)];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  const y = f(x, gamma, beta);
  return { y, mean: mean as unknown as tf.Tensor, variance: variance as unknown as tf.Tensor };
}

/**
 * Training-mode batch normalisation over all axes but `axis` ({@link normalizeWithGrad}).
 *
 * @param x input, any rank ≥ 2, float32.
 * @param gamma scale γ, shape [C] with C = x.shape[axis].
 * @param beta offset β, shape [C].
 * @param axis channel axis (negative counts from the end).
 * @param epsilon ε > 0 added to the variance.
 * @returns y (x's shape) and the biased batch mean and variance, shape [C]; the caller owns all
 *   three.
 * @throws Error when γ or β does not have C values, or ε ≤ 0.
 */
export function batchNormTraining(
  x: tf.Tensor,
  gamma: tf.Tensor,
  beta: tf.Tensor,
  axis: number,
  epsilon: number,
): { y: tf.Tensor; mean: tf.Tensor1D; variance: tf.Tensor1D } {
  const ax = axis < 0 ? axis + x.rank : axis;
  const stat = x.shape.map((_, i) => i).filter((i) => i !== ax);
  const r = normalizeWithGrad(x, gamma, beta, stat, [ax], epsilon);
  const c = x.shape[ax];
  const out = { y: r.y, mean: tf.reshape(r.mean, [c]), variance: tf.reshape(r.variance, [c]) };
  tf.dispose([r.mean, r.variance]);
  return out as { y: tf.Tensor; mean: tf.Tensor1D; variance: tf.Tensor1D };
}

// tfjs-layers does not export the classes; the factories' results carry them.
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
type LayerNormLayer = tfl.layers.Layer & {
  axis: number[];
  epsilon: number;
  center: boolean;
  scale: boolean;
  gamma: tfl.LayerVariable;
  beta: tfl.LayerVariable;
};
const BatchNormBase = tfl.layers.batchNormalization({}).constructor as unknown as new (
  args?: object,
) => BatchNormLayer;
const LayerNormBase = tfl.layers.layerNormalization({}).constructor as unknown as new (
  args?: object,
) => LayerNormLayer;

const one = (inputs: tf.Tensor | tf.Tensor[]): tf.Tensor =>
  Array.isArray(inputs) ? inputs[0] : inputs;

/**
 * tfjs-layers' `BatchNormalization` with the closed-form training backward of
 * {@link batchNormTraining}. Inference, the config and the weights are the base class's; the
 * moving averages are updated as there: m ← m − (m − batch)·(1 − momentum). Layers without
 * centre or scale use the base class's `call`.
 */
export class BatchNormalization extends BatchNormBase {
  static className = "BatchNormalization";

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor | tf.Tensor[] {
    const training = (kwargs["training"] as boolean | undefined) ?? false;
    if (!training || !this.center || !this.scale) return super.call(inputs, kwargs);
    return tf.tidy(() => {
      const { y, mean, variance } = batchNormTraining(
        one(inputs),
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
      return y;
    });
  }
}

/**
 * tfjs-layers' `LayerNormalization` (normalised axes `axis`, γ and β along them) with the
 * closed-form backward of {@link normalizeWithGrad} and no tiling of the moments or parameters.
 * Config and weights are the base class's; layers without centre or scale use its `call`.
 */
export class LayerNormalization extends LayerNormBase {
  static className = "LayerNormalization";

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor | tf.Tensor[] {
    if (!this.center || !this.scale) return super.call(inputs, kwargs);
    return tf.tidy(() => {
      const x = one(inputs);
      const axes = [...this.axis].map((a) => (a < 0 ? a + x.rank : a)).sort((a, b) => a - b);
      const r = normalizeWithGrad(x, this.gamma.read(), this.beta.read(), axes, axes, this.epsilon);
      tf.dispose([r.mean, r.variance]);
      return r.y;
    });
  }
}

for (const cls of [BatchNormalization, LayerNormalization]) {
  tf.serialization.registerClass(
    cls as unknown as tf.serialization.SerializableConstructor<tf.serialization.Serializable>,
  );
}

/** Factory like `tfl.layers.batchNormalization`, returning {@link BatchNormalization}. */
export function batchNormalization(
  args: Parameters<typeof tfl.layers.batchNormalization>[0] = {},
): BatchNormalization {
  return new BatchNormalization(args);
}

/** Factory like `tfl.layers.layerNormalization`, returning {@link LayerNormalization}. */
export function layerNormalization(
  args: Parameters<typeof tfl.layers.layerNormalization>[0] = {},
): LayerNormalization {
  return new LayerNormalization(args);
}
