/**
 * Gradient definitions the kernel pack replaces because tfjs-core's make training slow on
 * every backend (they are backend-independent, so they apply to whichever backend runs).
 *
 * - **Tile**: tfjs-core's gradient adds one slice of dy per repetition — ∏ reps `Slice` and
 *   `Add` kernel calls. tfjs-layers' `LayerNormalization` tiles γ and β [1, 1, d] to
 *   [B, T, d] and the moments [B, T, 1] to [B, T, d], so each layer norm in a GPT at B = 64,
 *   T = 128 cost 8,192 + 128 slices per backward pass (measured: 142 s for one training step
 *   of a 4-layer GPT on wasm). Here it is one reshape and one sum.
 * - **Sum, Mean**: tfjs-core's gradients multiply the reshaped dy by `tf.ones(x.shape)`, a
 *   tensor of ones filled element by element in JavaScript and uploaded to the backend at
 *   every backward pass (measured with `node --cpu-prof` on the tensorflow backend: 1.15 s in
 *   tfjs-core's `makeOnesTypedArray` over six steps of the MBConv block at B = 64, about
 *   190 ms a step; with this replacement the step went from 439 to 268 ms). Here dy is broadcast to
 *   x's shape by `tf.broadcastTo` (one Tile kernel); Mean divides the small dy by the count
 *   first.
 */
import * as tf from "@tensorflow/tfjs-core";
import { BackendError } from "../../core/errors";

/**
 * The gradient of `tile(x, reps)` with respect to x:
 * `dx[i₀, …] = Σ_{k₀ < r₀, …} dy[k₀·s₀ + i₀, …]`, computed as dy reshaped to
 * [r₀, s₀, r₁, s₁, …] (dropping axes of size 1) summed over the repetition axes.
 *
 * @param dy gradient of the tiled tensor, shape [r₀·s₀, r₁·s₁, …].
 * @param xShape the shape s of x.
 * @param reps the repetitions r (same length as xShape, integers ≥ 0).
 * @returns dx with shape `xShape`.
 * @throws Error if dy's shape is not the tiled shape.
 * @example
 * tileGrad(tf.ones([4, 6]), [2, 3], [2, 2]); // 4s, shape [2, 3]
 */
export function tileGrad(
  dy: tf.Tensor,
  xShape: readonly number[],
  reps: readonly number[],
): tf.Tensor {
  const tiled = xShape.map((s, i) => s * reps[i]);
  if (!tf.util.arraysEqual(dy.shape, tiled)) {
    throw new BackendError(`tileGrad: dy has shape [${dy.shape}], expected [${tiled}]`);
  }
  return tf.tidy(() => {
    if (tf.util.sizeFromShape(tiled) === 0) return tf.zeros([...xShape], dy.dtype);
    const shape: number[] = [];
    const axes: number[] = [];
    xShape.forEach((s, i) => {
      if (reps[i] > 1) {
        axes.push(shape.length);
        shape.push(reps[i]);
      }
      if (s > 1) shape.push(s);
    });
    const split = tf.reshape(dy, shape);
    return tf.reshape(axes.length > 0 ? tf.sum(split, axes) : split, [...xShape]);
  });
}

/** The Tile gradient config ({@link tileGrad}); replaces tfjs-core's (same values). */
export const tileGradConfig: tf.GradConfig = {
  kernelName: tf.Tile,
  inputsToSave: ["x"],
  gradFunc: (dy, saved, attrs) => {
    const [x] = saved;
    const { reps } = attrs as unknown as tf.TileAttrs;
    return { x: () => tileGrad(dy as tf.Tensor, x.shape, reps) };
  },
};

/**
 * dL/dx of a sum or mean of x over `axis`: dy (the reduced shape, with or without kept dims)
 * reshaped to x's rank with size-1 reduced axes, divided by the count of reduced elements for
 * a mean, broadcast to x.shape.
 *
 * @param dy gradient of the reduction's output.
 * @param xShape the shape of x.
 * @param axis the reduction's axis attribute (number, list, or undefined for all axes).
 * @param mean true for Mean (scale 1/count of reduced elements), false for Sum.
 * @returns dx, float32, shape `xShape`.
 * @example
 * reduceGrad(tf.scalar(3), [2, 2], undefined, true); // [[0.75, 0.75], [0.75, 0.75]]
 */
export function reduceGrad(
  dy: tf.Tensor,
  xShape: readonly number[],
  axis: number | number[] | undefined,
  mean: boolean,
): tf.Tensor {
  return tf.tidy(() => {
    const axes = tf.util.parseAxisParam(axis ?? xShape.map((_, i) => i), [...xShape]);
    const expanded = [...xShape];
    let count = 1;
    for (const a of axes) {
      count *= xShape[a];
      expanded[a] = 1;
    }
    let d = tf.reshape(tf.cast(dy, "float32"), expanded);
    if (mean) d = tf.div(d, count);
    return tf.broadcastTo(d, [...xShape]);
  });
}

/** The Sum gradient config ({@link reduceGrad}); replaces tfjs-core's (same values). */
export const sumGradConfig: tf.GradConfig = {
  kernelName: tf.Sum,
  inputsToSave: ["x"],
  gradFunc: (dy, saved, attrs) => {
    const [x] = saved;
    const { axis } = attrs as unknown as tf.SumAttrs;
    return { x: () => reduceGrad(dy as tf.Tensor, x.shape, axis, false) };
  },
};

/** The Mean gradient config ({@link reduceGrad}); replaces tfjs-core's (same values). */
export const meanGradConfig: tf.GradConfig = {
  kernelName: tf.Mean,
  inputsToSave: ["x"],
  gradFunc: (dy, saved, attrs) => {
    const [x] = saved;
    const { axis } = attrs as unknown as tf.MeanAttrs;
    return { x: () => reduceGrad(dy as tf.Tensor, x.shape, axis, true) };
  },
};

/**
 * Gradient configs of the pack, in registration order (registered by `registerKernelPack`
 * with `tf.registerGradient`, replacing tfjs-core's for every backend).
 *
 * @returns the configs (the Tile, Sum and Mean gradients).
 * @example
 * for (const g of packGradientConfigs()) tf.registerGradient(g);
 */
export function packGradientConfigs(): tf.GradConfig[] {
  return [tileGradConfig, sumGradConfig, meanGradConfig];
}
