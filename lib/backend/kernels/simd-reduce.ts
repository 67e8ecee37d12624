/**
 * Sum and Mean over a contiguous block of axes that is not innermost (leading axes: bias
 * gradients; middle axes: global average pooling) for the tfjs `wasm` backend, as SIMD passes
 * over the rows (asm/kernels.ts `sumRowsF32`). The stock kernels transpose the reduced axes to the end
 * first: for the bias gradient of a [512,26,26,32] activation that took 84 ms against
 * ≈ 5 ms here. Every other reduction goes to the stock kernel.
 */
import * as tf from "@tensorflow/tfjs-core";
import { heapOffset, wasmInternals } from "../wasm-module";
import { simdKernels } from "../simd";
import { BackendError } from "../../core/errors";

/**
 * If `axis` is one contiguous block [a, b] of axes that leaves at least one axis after it,
 * returns the view [outer, reduced, inner] of the input (out[o, i] = Σ_r x[o, r, i]); else
 * null (the stock kernel, which reduces innermost axes without a transpose, handles it).
 */
export function reductionView(
  axis: number | number[] | null | undefined,
  shape: readonly number[],
): { outer: number; reduced: number; inner: number; first: number; last: number } | null {
  // A null/undefined axis means all axes (tfjs's convention); parseAxisParam also
  // normalises negative axes and rejects out-of-range ones.
  const axes = [
    ...new Set(tf.util.parseAxisParam(axis as number | number[], shape as number[])),
  ].sort((p, q) => p - q);
  const rank = shape.length;
  if (axes.length === 0) return null;
  const first = axes[0];
  const last = axes[axes.length - 1];
  if (last - first + 1 !== axes.length || last >= rank - 1) return null;
  const prod = (xs: readonly number[]) => xs.reduce((p, q) => p * q, 1);
  return {
    outer: prod(shape.slice(0, first)),
    reduced: prod(shape.slice(first, last + 1)),
    inner: prod(shape.slice(last + 1)),
    first,
    last,
  };
}

/** The number of leading axes reduced if `axis` is exactly 0..k−1 (k < rank), else 0. */
export function leadingAxes(axis: number | number[] | null, rank: number): number {
  const v = reductionView(axis, new Array<number>(rank).fill(1));
  return v != null && v.first === 0 ? v.last + 1 : 0;
}

function makeConfig(kernelName: "Sum" | "Mean"): tf.KernelConfig {
  // Loading the package registers the stock wasm kernels (no backend is started).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require("@tensorflow/tfjs-backend-wasm");
  const stock = tf.getKernel(kernelName, "wasm");
  if (stock == null) throw new BackendError(`stock wasm kernel '${kernelName}' is not registered`);
  const stockFunc = stock.kernelFunc;
  const kernelFunc: tf.KernelFunc = (args) => {
    const x = args.inputs.x as tf.TensorInfo;
    const { axis, keepDims } = args.attrs as unknown as {
      axis: number | number[];
      keepDims: boolean;
    };
    const v = reductionView(axis, x.shape);
    if (v == null || x.dtype !== "float32") return stockFunc(args);
    const kept = [...x.shape.slice(0, v.first), ...x.shape.slice(v.last + 1)];
    const outShape = keepDims
      ? [
          ...x.shape.slice(0, v.first),
          ...new Array<number>(v.last - v.first + 1).fill(1),
          ...x.shape.slice(v.last + 1),
        ]
      : kept;
    const b = wasmInternals(args.backend as tf.KernelBackend);
    const out = b.makeOutput(outShape, "float32");
    if (v.outer * v.inner === 0) return out;
    const scale = kernelName === "Mean" ? 1 / v.reduced : 1;
    const k = simdKernels(b);
    const xOff = heapOffset(b, x);
    const oOff = heapOffset(b, out);
    for (let o = 0; o < v.outer; o++) {
      k.sumRowsF32(
        xOff + 4 * o * v.reduced * v.inner,
        oOff + 4 * o * v.inner,
        v.reduced,
        v.inner,
        scale,
      );
    }
    return out;
  };
  return { kernelName, backendName: "wasm", kernelFunc };
}

/** Sum override (captures the stock kernel at call time: call before registering). */
export function sumConfig(): tf.KernelConfig {
  return makeConfig("Sum");
}

/** Mean override (captures the stock kernel at call time: call before registering). */
export function meanConfig(): tf.KernelConfig {
  return makeConfig("Mean");
}
