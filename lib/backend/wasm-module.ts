/**
 * Access to the internals of `@tensorflow/tfjs-backend-wasm` that the kernel pack needs:
 * the emscripten module (heap views, exported C functions), its `WebAssembly.Memory`, and
 * the per-tensor heap offsets.
 *
 * These are not public tfjs API; they are stable within the pinned tfjs 4.22.0.
 */
import * as tf from "@tensorflow/tfjs-core";
import { BackendError } from "../core/errors";

/** The subset of tfjs-backend-wasm's `BackendWasm` the kernel pack uses. */
export interface WasmBackendInternals {
  wasm: {
    asm: { memory: WebAssembly.Memory } & Record<string, unknown>;
    HEAPU8: Uint8Array;
    HEAPF32: Float32Array;
    HEAP32: Int32Array;
  } & Record<string, unknown>;
  dataIdMap: { get(dataId: object): { memoryOffset: number; id: number } | undefined };
  makeOutput(shape: number[], dtype: tf.DataType, memoryOffset?: number): tf.TensorInfo;
  dataIdMapSize?: number;
}

/**
 * Returns the wasm backend's internals.
 * @throws Error if the `wasm` backend has not been initialised.
 */
export function wasmInternals(backend?: tf.KernelBackend): WasmBackendInternals {
  const b = (backend ?? tf.findBackend("wasm")) as unknown as WasmBackendInternals | null;
  if (b == null || b.wasm == null) {
    throw new BackendError(
      "the 'wasm' backend is not initialised (call initBackend('wasm') first)",
    );
  }
  return b;
}

/** Byte offset of a tensor's data in the wasm heap. */
export function heapOffset(backend: WasmBackendInternals, t: tf.TensorInfo): number {
  const d = backend.dataIdMap.get(t.dataId);
  if (d == null) throw new BackendError(`tensor ${t.shape} has no data on the wasm backend`);
  return d.memoryOffset;
}
