/**
 * Tile for the tfjs `wasm` backend as block copies inside the wasm heap. The stock kernel
 * walks every output element (measured: [1,1,1,96] → [64,32,32,96], the broadcast in a batch
 * norm gradient, 275 ms); here each source row is copied once and then replicated by doubling
 * `copyWithin`, so the cost is about one write of the output (≈ 5 ms for that case).
 */
import * as tf from "@tensorflow/tfjs-core";
import { heapOffset, wasmInternals } from "../wasm-module";
import { BackendError } from "../../core/errors";

const ITEM_BYTES: Partial<Record<tf.DataType, number>> = { float32: 4, int32: 4, bool: 1 };

/** Copies heap[d, d+len) after itself until it fills `times`·len bytes. */
function replicate(heap: Uint8Array, d: number, len: number, times: number): void {
  const total = len * times;
  let filled = len;
  while (filled < total) {
    const n = Math.min(filled, total - filled);
    heap.copyWithin(d + filled, d, d + n);
    filled += n;
  }
}

/**
 * Writes tile(x, reps) into `heap` at byte offset `dst`: out[i_0..i_{r−1}] =
 * x[i_0 mod s_0, …, i_{r−1} mod s_{r−1}], row-major, for a source at byte offset `src` of shape
 * `shape`. Exported for tests on plain arrays.
 */
export function tileInto(
  heap: Uint8Array,
  src: number,
  shape: readonly number[],
  reps: readonly number[],
  dst: number,
  itemBytes: number,
): void {
  const rank = shape.length;
  const outShape = shape.map((s, i) => s * reps[i]);
  const srcStride = new Array<number>(rank);
  const outStride = new Array<number>(rank);
  let a = itemBytes;
  let b = itemBytes;
  for (let k = rank - 1; k >= 0; k--) {
    srcStride[k] = a;
    outStride[k] = b;
    a *= shape[k];
    b *= outShape[k];
  }
  const rec = (k: number, s: number, d: number): void => {
    if (k === rank - 1) {
      const row = shape[k] * itemBytes;
      heap.copyWithin(d, s, s + row);
      replicate(heap, d, row, reps[k]);
      return;
    }
    for (let i = 0; i < shape[k]; i++) rec(k + 1, s + i * srcStride[k], d + i * outStride[k]);
    replicate(heap, d, shape[k] * outStride[k], reps[k]);
  };
  rec(0, src, dst);
}

/** The Tile override (falls back to the stock kernel for string/complex dtypes and rank 0). */
export function tileConfig(): tf.KernelConfig {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require("@tensorflow/tfjs-backend-wasm");
  const stock = tf.getKernel("Tile", "wasm");
  if (stock == null) throw new BackendError("stock wasm kernel 'Tile' is not registered");
  const stockFunc = stock.kernelFunc;
  const kernelFunc: tf.KernelFunc = (args) => {
    const x = args.inputs.x as tf.TensorInfo;
    const { reps } = args.attrs as unknown as { reps: number[] };
    const item = ITEM_BYTES[x.dtype];
    if (item == null || x.shape.length === 0 || reps.length !== x.shape.length)
      return stockFunc(args);
    const b = wasmInternals(args.backend as tf.KernelBackend);
    const outShape = x.shape.map((s, i) => s * reps[i]);
    const out = b.makeOutput(outShape, x.dtype);
    if (outShape.some((s) => s === 0)) return out;
    // Take the heap view after the allocation: growing the heap detaches older views.
    tileInto(b.wasm.HEAPU8, heapOffset(b, x), x.shape, reps, heapOffset(b, out), item);
    return out;
  };
  return { kernelName: "Tile", backendName: "wasm", kernelFunc };
}
