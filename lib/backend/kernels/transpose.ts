/**
 * Transpose for the tfjs `wasm` backend when it amounts to swapping the last two axes of a
 * (batch of) matrices — the transposes a training step makes most (matmul operands in dense
 * and attention gradients, `[B·T, d] ↔ [d, B·T]`). The stock kernel moves one element at a
 * time (≈ 60 M elements/s measured on [8192, 512]); here the SIMD module moves 4×4 blocks
 * (asm/kernels.ts `transposeLast2B32`). Every other permutation, and dtypes other than
 * float32/int32, go to the stock kernel.
 */
import * as tf from "@tensorflow/tfjs-core";
import { heapOffset, wasmInternals } from "../wasm-module";
import { simdKernels } from "../simd";
import { BackendError } from "../../core/errors";

/**
 * Simplifies a transpose: drops axes of size 1 and merges runs of input axes that stay
 * adjacent and in order in the output. Returns the simplified input shape and permutation
 * (`out = transpose(reshape(x, shape), perm)` equals the original transpose, reshaped).
 *
 * @param shape input shape.
 * @param perm permutation of its axes.
 * @returns `{shape, perm}`; e.g. [64, 128, 1, 32] with perm [0, 3, 2, 1] → [64, 128, 32], [0, 2, 1].
 *   An identity permutation coalesces to a single axis (perm [0]) or none.
 * @example
 * coalescePermutation([2, 3, 4, 5], [0, 1, 3, 2]); // { shape: [6, 4, 5], perm: [0, 2, 1] }
 */
export function coalescePermutation(
  shape: readonly number[],
  perm: readonly number[],
): { shape: number[]; perm: number[] } {
  const kept = perm.filter((a) => shape[a] !== 1);
  // Groups of input axes in output order, each a run a, a+1, … of kept axes.
  const groups: number[][] = [];
  for (const a of kept) {
    const g = groups[groups.length - 1];
    if (g != null && nextKept(shape, g[g.length - 1]) === a) g.push(a);
    else groups.push([a]);
  }
  const byInput = [...groups].sort((p, q) => p[0] - q[0]);
  return {
    shape: byInput.map((g) => g.reduce((n, a) => n * shape[a], 1)),
    perm: groups.map((g) => byInput.indexOf(g)),
  };
}

/** The next input axis after `a` whose size is not 1 (or −1). */
function nextKept(shape: readonly number[], a: number): number {
  for (let b = a + 1; b < shape.length; b++) if (shape[b] !== 1) return b;
  return -1;
}

/**
 * The Transpose override: `out = transpose(x, perm)`; after {@link coalescePermutation}, a
 * swap of the last two axes of [batch, rows, cols] runs in the SIMD module, anything else in
 * the stock kernel (captured at call time: call this before registering the override).
 *
 * @returns the kernel config (`kernelName` "Transpose", backend "wasm").
 * @throws Error if the stock wasm Transpose kernel is not registered.
 * @example
 * tf.registerKernel({ ...transposeConfig(), setupFunc: stock.setupFunc });
 */
export function transposeConfig(): tf.KernelConfig {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require("@tensorflow/tfjs-backend-wasm");
  const stock = tf.getKernel("Transpose", "wasm");
  if (stock == null) throw new BackendError("stock wasm kernel 'Transpose' is not registered");
  const stockFunc = stock.kernelFunc;
  const kernelFunc: tf.KernelFunc = (args) => {
    const x = args.inputs.x as tf.TensorInfo;
    const { perm } = args.attrs as unknown as tf.TransposeAttrs;
    if (x.dtype !== "float32" && x.dtype !== "int32") return stockFunc(args);
    const c = coalescePermutation(x.shape, perm);
    let batch: number;
    let rows: number;
    let cols: number;
    if (c.perm.length === 2 && c.perm[0] === 1) {
      [batch, rows, cols] = [1, c.shape[0], c.shape[1]];
    } else if (c.perm.length === 3 && c.perm[0] === 0 && c.perm[1] === 2) {
      [batch, rows, cols] = c.shape;
    } else {
      return stockFunc(args);
    }
    const b = wasmInternals(args.backend as tf.KernelBackend);
    const out = b.makeOutput(
      perm.map((a) => x.shape[a]),
      x.dtype,
    );
    simdKernels(b).transposeLast2B32(heapOffset(b, x), heapOffset(b, out), batch, rows, cols);
    return out;
  };
  return { kernelName: "Transpose", backendName: "wasm", kernelFunc };
}
