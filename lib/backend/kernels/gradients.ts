/**
 * Gradient definitions the kernel pack replaces because tfjs-core's make training slow on
 * every backend (they are backend-independent, so they apply to whichever backend runs).
 *
 * - **Tile**: tfjs-core's gradient adds one slice of dy per repetition — ∏ reps `Slice` and
 *   `Add` kernel calls. tfjs-layers' `LayerNormalization` tiles γ and β [1, 1, d] to
 *   [B, T, d] and the moments [B, T, 1] to [B, T, d], so each layer norm in a GPT at B = 64,
 *   T = 128 cost 8,192 + 128 slices per backward pass (measured: 142 s for one training step
 *   of a 4-layer GPT on wasm). Here it is one reshape and one sum.
 */
import * as tf from "@tensorflow/tfjs-core";

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
    throw new Error(`tileGrad: dy has shape [${dy.shape}], expected [${tiled}]`);
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
 * Gradient configs of the pack, in registration order (registered by `registerKernelPack`
 * with `tf.registerGradient`, replacing tfjs-core's for every backend).
 *
 * @returns the configs (currently the Tile gradient).
 * @example
 * for (const g of packGradientConfigs()) tf.registerGradient(g);
 */
export function packGradientConfigs(): tf.GradConfig[] {
  return [tileGradConfig];
}
