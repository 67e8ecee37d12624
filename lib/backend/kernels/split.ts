/**
 * SplitV for the tfjs `wasm` backend as block copies inside the wasm heap. The stock kernel
 * slices each output with the generic strided Slice (measured: a 4,020,358-value vector split
 * into EfficientNet-B0's 213 variable sizes, the multi-tensor Adam's per-step split, took 917 ms);
 * split along axis k is, for each of the ∏_{j<k} s_j outer indices, one contiguous block per
 * output, so the cost is one copy of the input (a few ms for that case).
 */
import * as tf from "@tensorflow/tfjs-core";
import { heapOffset, wasmInternals } from "../wasm-module";
import { BackendError } from "../../core/errors";

// bool goes to the stock kernel (the backend's byte layout for bool is not relied on here).
const ITEM_BYTES: Partial<Record<tf.DataType, number>> = { float32: 4, int32: 4 };

/**
 * The sizes along `axis` of the outputs of `split(x, numOrSizeSplits, axis)`, as tfjs-core
 * defines them (a number splits evenly; one −1 in a list takes the rest).
 * @throws Error when the sizes do not add up to the axis' length.
 */
export function splitSizes(dim: number, numOrSizeSplits: number | number[]): number[] {
  if (typeof numOrSizeSplits === "number") {
    if (dim % numOrSizeSplits !== 0) {
      throw new BackendError(`SplitV: ${dim} is not divisible by ${numOrSizeSplits}`);
    }
    return new Array<number>(numOrSizeSplits).fill(dim / numOrSizeSplits);
  }
  const known = numOrSizeSplits.filter((s) => s !== -1).reduce((p, q) => p + q, 0);
  const sizes = numOrSizeSplits.map((s) => (s === -1 ? dim - known : s));
  if (sizes.reduce((p, q) => p + q, 0) !== dim) {
    throw new BackendError(`SplitV: sizes [${numOrSizeSplits}] do not add up to ${dim}`);
  }
  return sizes;
}

/**
 * Copies the pieces of a row-major array at byte offset `src` with shape `shape`, split along
 * `axis` into `sizes`, to the byte offsets `dsts`. Exported for tests on plain arrays.
 */
export function splitInto(
  heap: Uint8Array,
  src: number,
  shape: readonly number[],
  axis: number,
  sizes: readonly number[],
  dsts: readonly number[],
  itemBytes: number,
): void {
  const outer = shape.slice(0, axis).reduce((p, q) => p * q, 1);
  const inner = shape.slice(axis + 1).reduce((p, q) => p * q, 1) * itemBytes;
  const row = shape[axis] * inner;
  for (let o = 0; o < outer; o++) {
    let s = src + o * row;
    sizes.forEach((n, i) => {
      const len = n * inner;
      heap.copyWithin(dsts[i] + o * len, s, s + len);
      s += len;
    });
  }
}

/** The SplitV override (falls back to the stock kernel for other dtypes and rank 0). */
export function splitConfig(): tf.KernelConfig {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require("@tensorflow/tfjs-backend-wasm");
  const stock = tf.getKernel("SplitV", "wasm");
  if (stock == null) throw new BackendError("stock wasm kernel 'SplitV' is not registered");
  const stockFunc = stock.kernelFunc;
  const kernelFunc: tf.KernelFunc = (args) => {
    const x = args.inputs.x as tf.TensorInfo;
    const { numOrSizeSplits, axis } = args.attrs as unknown as tf.SplitVAttrs;
    const item = ITEM_BYTES[x.dtype];
    if (item == null || x.shape.length === 0) return stockFunc(args);
    const ax = tf.util.parseAxisParam(axis, x.shape)[0];
    const sizes = splitSizes(x.shape[ax], numOrSizeSplits);
    const b = wasmInternals(args.backend as tf.KernelBackend);
    const outs = sizes.map((n) =>
      b.makeOutput(
        x.shape.map((s, i) => (i === ax ? n : s)),
        x.dtype,
      ),
    );
    // Take the heap view after the allocations: growing the heap detaches older views.
    splitInto(
      b.wasm.HEAPU8,
      heapOffset(b, x),
      x.shape,
      ax,
      sizes,
      outs.map((o) => heapOffset(b, o)),
      item,
    );
    return outs;
  };
  return { kernelName: "SplitV", backendName: "wasm", kernelFunc };
}
