/**
 * Loader for batchwise's SIMD kernel module (`build/kernels.wasm`, compiled from
 * `asm/kernels.ts` by `npm run build:wasm`).
 *
 * The module imports the tfjs wasm backend's own `WebAssembly.Memory` and works in place on
 * tensors in its heap: its functions take byte offsets ({@link heapOffset}) and sizes. It is
 * safe to import a live foreign memory only because the binary writes nothing on
 * instantiation (no data section, no start function) and allocates nothing; {@link
 * checkKernelModule} verifies that before every instantiation.
 *
 * Threaded tfjs (shared memory) gets `build/kernels-shared.wasm`, the same code declared
 * with a shared memory import.
 */
import * as fs from "fs";
import * as path from "path";
import * as tf from "@tensorflow/tfjs-core";
import { wasmInternals, type WasmBackendInternals } from "./wasm-module";
import { BackendError } from "../core/errors";

/** The functions exported by `asm/kernels.ts`. Pointers are byte offsets into tfjs's heap. */
export interface SimdKernelExports {
  /** out[kh,kw,ci,co] = Σ_{n,i,j} x[n, i·sh−padT+kh, j·sw−padL+kw, ci]·dy[n,i,j,co]. */
  conv2dBackpropFilterSmallC(
    x: number,
    dy: number,
    out: number,
    n: number,
    h: number,
    w: number,
    ci: number,
    ho: number,
    wo: number,
    co: number,
    fh: number,
    fw: number,
    sh: number,
    sw: number,
    padT: number,
    padL: number,
  ): void;
  /** out[c] = scale · Σ_r x[r,c] for x viewed as [rows, cols] (float32). */
  sumRowsF32(x: number, out: number, rows: number, cols: number, scale: number): void;
  /** out[fh,fw,c,mult] = Σ_{n,oh,ow} x[n, oh·sh−padT+i·dh, ow·sw−padL+j·dw, c]·dy[n,oh,ow,c·mult+m]. */
  depthwiseConv2dBackpropFilter(
    x: number,
    dy: number,
    out: number,
    n: number,
    h: number,
    w: number,
    c: number,
    mult: number,
    ho: number,
    wo: number,
    fh: number,
    fw: number,
    sh: number,
    sw: number,
    dh: number,
    dw: number,
    padT: number,
    padL: number,
  ): void;
  /** out[n,h,w,c] = Σ of dy over the windows whose first maximum is at that position. */
  maxPoolGrad(
    x: number,
    dy: number,
    out: number,
    n: number,
    h: number,
    w: number,
    c: number,
    ho: number,
    wo: number,
    fh: number,
    fw: number,
    sh: number,
    sw: number,
    dh: number,
    dw: number,
    padT: number,
    padL: number,
  ): void;
  /** out[n,h,w,c] = scale · Σ of dy over the windows containing that position. */
  avgPoolGrad(
    dy: number,
    out: number,
    n: number,
    h: number,
    w: number,
    c: number,
    ho: number,
    wo: number,
    fh: number,
    fw: number,
    sh: number,
    sw: number,
    dh: number,
    dw: number,
    padT: number,
    padL: number,
    scale: number,
  ): void;
  /** out[s,:] = Σ_{r: ids[r]=s} x[r,:] (float32); ids outside [0, numSegments) dropped. */
  unsortedSegmentSumF32(
    x: number,
    ids: number,
    out: number,
    rows: number,
    d: number,
    numSegments: number,
  ): void;
  /** As unsortedSegmentSumF32 for int32 (wrapping). */
  unsortedSegmentSumI32(
    x: number,
    ids: number,
    out: number,
    rows: number,
    d: number,
    numSegments: number,
  ): void;
  /**
   * out[t,i,j] = Σ_p a[t·strideA + i·k + p] · b[t·strideB + p·n + j] for t < batch (float32,
   * untransposed, row-major; a stride of 0 broadcasts one matrix).
   */
  batchMatMulF32(
    a: number,
    b: number,
    out: number,
    batch: number,
    m: number,
    k: number,
    n: number,
    strideA: number,
    strideB: number,
  ): void;
  /** out[t,c,r] = x[t,r,c] for 4-byte elements, x viewed as [batch, rows, cols]. */
  transposeLast2B32(x: number, out: number, batch: number, rows: number, cols: number): void;
  /** Position of the first index outside [0, dim), or −1. */
  firstIndexOutOfRange(indices: number, count: number, dim: number): number;
  /** out[o,k,:] = x[o, indices[k], :] with rows of rowBytes bytes. */
  gatherRows(
    x: number,
    indices: number,
    out: number,
    outer: number,
    dim: number,
    count: number,
    rowBytes: number,
  ): void;
}

const EXPORT_NAMES: readonly (keyof SimdKernelExports)[] = [
  "depthwiseConv2dBackpropFilter",
  "maxPoolGrad",
  "avgPoolGrad",
  "unsortedSegmentSumF32",
  "unsortedSegmentSumI32",
  "firstIndexOutOfRange",
  "gatherRows",
  "batchMatMulF32",
  "transposeLast2B32",
];

/** Repository root, found from this file's location (lib/backend/). */
const REPO_ROOT = path.resolve(__dirname, "..", "..");

/**
 * Path of the compiled kernel module: `build/` of the repository, or `BATCHWISE_BUILD_DIR`
 * (the GPU run kit's bundle, scripts/gpu/, sets it to its own folder).
 * @param shared the variant that imports a shared memory (threaded tfjs).
 */
export function kernelModulePath(shared = false): string {
  const dir = process.env.BATCHWISE_BUILD_DIR ?? path.join(REPO_ROOT, "build");
  return path.join(dir, shared ? "kernels-shared.wasm" : "kernels.wasm");
}

/** Ids of the sections of a wasm binary, in order (1 type, 2 import, ... 11 data). */
export function wasmSectionIds(bytes: Uint8Array): number[] {
  const magic = [0x00, 0x61, 0x73, 0x6d];
  if (bytes.length < 8 || magic.some((b, i) => bytes[i] !== b)) {
    throw new BackendError("not a WebAssembly binary (bad magic number)");
  }
  const ids: number[] = [];
  let p = 8;
  while (p < bytes.length) {
    const id = bytes[p++];
    let size = 0;
    let shift = 0;
    for (;;) {
      if (p >= bytes.length) throw new BackendError("truncated WebAssembly binary");
      const b = bytes[p++];
      size += (b & 0x7f) * 2 ** shift;
      shift += 7;
      if ((b & 0x80) === 0) break;
    }
    ids.push(id);
    p += size;
  }
  return ids;
}

const UNSAFE_SECTIONS: Record<number, string> = {
  5: "memory",
  8: "start",
  11: "data",
  12: "datacount",
};

/**
 * Checks that a kernel binary is safe to instantiate on tfjs's live memory: it imports only
 * `env.memory`, defines no memory of its own, and has no data or start section (so
 * instantiation writes nothing into the heap).
 * @returns the compiled module.
 * @throws Error naming the offending section or import.
 */
export function checkKernelModule(bytes: Uint8Array, name = "kernel module"): WebAssembly.Module {
  for (const id of wasmSectionIds(bytes)) {
    const what = UNSAFE_SECTIONS[id];
    if (what != null) {
      throw new BackendError(
        `${name}: has a ${what} section; refusing to instantiate it on tfjs's memory`,
      );
    }
  }
  const mod = new WebAssembly.Module(bytes);
  const imports = WebAssembly.Module.imports(mod).map((i) => `${i.module}.${i.name} (${i.kind})`);
  if (imports.length !== 1 || imports[0] !== "env.memory (memory)") {
    throw new BackendError(
      `${name}: imports ${imports.join(", ") || "nothing"}; expected only env.memory`,
    );
  }
  const exported = new Set(WebAssembly.Module.exports(mod).map((e) => e.name));
  const missing = EXPORT_NAMES.filter((n) => !exported.has(n));
  if (missing.length > 0) {
    throw new BackendError(`${name}: lacks ${missing.join(", ")}; run npm run build:wasm`);
  }
  return mod;
}

/** The tfjs wasm backend's `WebAssembly.Memory` (exported, or imported in the threaded build). */
export function tfjsWasmMemory(backend: WasmBackendInternals): WebAssembly.Memory {
  const w = backend.wasm as { asm?: { memory?: unknown }; wasmMemory?: unknown };
  const mem = w.asm?.memory ?? w.wasmMemory;
  if (!(mem instanceof WebAssembly.Memory)) {
    throw new BackendError("cannot find the tfjs wasm backend's WebAssembly.Memory");
  }
  return mem;
}

const modules = new Map<string, WebAssembly.Module>();
let current: { backend: object; memory: WebAssembly.Memory; exports: SimdKernelExports } | null =
  null;

/**
 * Reads, checks ({@link checkKernelModule}) and compiles a kernel binary; cached per path.
 * @throws Error "… is missing; run npm run build:wasm" if the file does not exist.
 */
export function loadKernelModule(file: string): WebAssembly.Module {
  let mod = modules.get(file);
  if (mod == null) {
    if (!fs.existsSync(file)) {
      throw new BackendError(`batchwise SIMD kernels: ${file} is missing; run npm run build:wasm`);
    }
    mod = checkKernelModule(fs.readFileSync(file), path.basename(file));
    modules.set(file, mod);
  }
  return mod;
}

/**
 * The SIMD kernel functions, instantiated on the given wasm backend's memory. Instantiated
 * on first use and again whenever the backend instance (or its memory) changes.
 *
 * @param backend the tfjs `wasm` backend (a kernelFunc's `args.backend`); default: the
 *   registered one.
 * @throws Error if the wasm backend is not initialised, or build/kernels.wasm is missing
 *   ("run npm run build:wasm") or unsafe.
 * @example
 * const b = wasmInternals(args.backend);
 * simdKernels(b).gatherRows(heapOffset(b, x), heapOffset(b, idx), heapOffset(b, out), 1, 65, n, 256);
 */
export function simdKernels(backend?: tf.KernelBackend | WasmBackendInternals): SimdKernelExports {
  const b = wasmInternals(backend as tf.KernelBackend | undefined);
  const memory = tfjsWasmMemory(b);
  if (current != null && current.backend === b && current.memory === memory) return current.exports;
  const shared =
    typeof SharedArrayBuffer !== "undefined" && memory.buffer instanceof SharedArrayBuffer;
  const instance = new WebAssembly.Instance(loadKernelModule(kernelModulePath(shared)), {
    env: { memory },
  });
  const exports = instance.exports as unknown as SimdKernelExports;
  current = { backend: b, memory, exports };
  return exports;
}
