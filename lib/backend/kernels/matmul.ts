/**
 * BatchMatMul for the tfjs `wasm` backend. The stock kernel is fast (XNNPACK) only for
 * untransposed operands; with `transposeA` or `transposeB` it runs a naive loop at about
 * 1–3 GFLOP/s, and every dense layer's backward pass (dY·Wᵀ, Xᵀ·dY) hits that case.
 * This override materialises the transpose with the (fast) Transpose kernel and calls the
 * stock kernel untransposed; a batched A times an unbatched B is folded into one
 * [batch·M, K] × [K, N] product.
 */
import * as tf from "@tensorflow/tfjs-core";

type KernelFunc = tf.KernelConfig["kernelFunc"];

function swapLast2(x: tf.Tensor): tf.Tensor {
  const r = x.rank;
  const perm = [...Array(r).keys()];
  perm[r - 2] = r - 1;
  perm[r - 1] = r - 2;
  return tf.transpose(x, perm);
}

/**
 * Builds the BatchMatMul override around the stock wasm kernel (captured at call time, so
 * call this before the override is registered).
 * @throws Error if the stock wasm BatchMatMul kernel is not registered.
 */
export function batchMatMulConfig(): tf.KernelConfig {
  const stock = tf.getKernel("BatchMatMul", "wasm");
  if (stock == null) throw new Error("stock wasm kernel 'BatchMatMul' is not registered");
  const stockFunc: KernelFunc = stock.kernelFunc;
  const kernelFunc: KernelFunc = (args) => {
    const { a, b } = args.inputs as { a: tf.Tensor; b: tf.Tensor };
    const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
    const aBatch = a.shape.slice(0, -2).reduce((p, q) => p * q, 1);
    const bBatch = b.shape.slice(0, -2).reduce((p, q) => p * q, 1);
    const fold = aBatch > 1 && bBatch === 1 && !transposeA;
    if (!transposeA && !transposeB && !fold) return stockFunc(args);
    // Re-enter through tf ops: the inner BatchMatMul is untransposed and unfolded, so it
    // reaches the stock kernel.
    return tf.tidy(() => {
      const aa = transposeA ? swapLast2(a) : a;
      const bb = transposeB ? swapLast2(b) : b;
      const m = aa.shape[aa.rank - 2];
      const k = aa.shape[aa.rank - 1];
      const n = bb.shape[bb.rank - 1];
      if (!fold) return tf.matMul(aa, bb);
      const flat = tf.matMul(tf.reshape(aa, [aBatch * m, k]), tf.reshape(bb, [k, n]));
      return tf.reshape(flat, [...a.shape.slice(0, -2), m, n]);
    });
  };
  return { kernelName: "BatchMatMul", backendName: "wasm", kernelFunc };
}
