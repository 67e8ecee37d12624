/**
 * Sum and Mean over leading axes for the tfjs `wasm` backend. The stock kernels transpose the
 * reduced axes to the end and then reduce (≈1 GFLOP/s); bias gradients (sum of dY over the
 * N·H·W rows) hit this every step. A reduction over the leading axes of a float32 tensor
 * viewed as [R, C] is the product 1[1,R] · X[R,C], which runs on XNNPACK's GEMV.
 * Other reductions go to the stock kernels.
 */
import * as tf from "@tensorflow/tfjs-core";

type KernelFunc = tf.KernelConfig["kernelFunc"];

/** Below this many elements the stock kernel is as fast (measured: overhead dominates). */
const MIN_SIZE = 4096;

/** The number of leading axes reduced if `axes` are exactly 0..k−1 (k < rank), else 0. */
export function leadingAxes(axis: number | number[], rank: number): number {
  const list = Array.isArray(axis) ? axis : [axis];
  const axes = [...new Set(list.map((a) => (a < 0 ? a + rank : a)))].sort((p, q) => p - q);
  if (axes.length === 0 || axes.length >= rank) return 0;
  for (let i = 0; i < axes.length; i++) if (axes[i] !== i) return 0;
  return axes.length;
}

function makeConfig(kernelName: "Sum" | "Mean"): tf.KernelConfig {
  const stock = tf.getKernel(kernelName, "wasm");
  if (stock == null) throw new Error(`stock wasm kernel '${kernelName}' is not registered`);
  const stockFunc: KernelFunc = stock.kernelFunc;
  const kernelFunc: KernelFunc = (args) => {
    const { x } = args.inputs as { x: tf.Tensor };
    const { axis, keepDims } = args.attrs as { axis: number | number[]; keepDims: boolean };
    const k = leadingAxes(axis, x.rank);
    if (k === 0 || x.dtype !== "float32" || x.size < MIN_SIZE) return stockFunc(args);
    const r = x.shape.slice(0, k).reduce((p, q) => p * q, 1);
    const c = x.size / r;
    return tf.tidy(() => {
      const ones = tf.fill([1, r], kernelName === "Mean" ? 1 / r : 1);
      const out = tf.matMul(ones, tf.reshape(x, [r, c]));
      const shape = keepDims ? [...Array(k).fill(1), ...x.shape.slice(k)] : x.shape.slice(k);
      return tf.reshape(out, shape);
    });
  };
  return { kernelName, backendName: "wasm", kernelFunc };
}

/** Sum override (captures the stock kernel; build before registering). */
export function sumConfig(): tf.KernelConfig {
  return makeConfig("Sum");
}

/** Mean override (captures the stock kernel; build before registering). */
export function meanConfig(): tf.KernelConfig {
  return makeConfig("Mean");
}
