/**
 * The SIMD kernel module and its loader (lib/backend/simd.ts): the built binary is safe to
 * instantiate on tfjs's live memory, the loader refuses unsafe or missing binaries, caches
 * per backend, works with a shared (threaded tfjs) memory, and survives heap growth.
 */
import { before, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "../../lib/backend";
import {
  checkKernelModule,
  kernelModulePath,
  loadKernelModule,
  simdKernels,
  tfjsWasmMemory,
  wasmSectionIds,
} from "../../lib/backend/simd";
import { makeGatherV2 } from "../../lib/backend/kernels/simd-kernels";
import {
  heapOffset,
  wasmInternals,
  type WasmBackendInternals,
} from "../../lib/backend/wasm-module";

before(async () => {
  await initBackend("wasm", { kernelPack: false });
  await tf.setBackend("wasm");
});

const HEADER = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
// Import section: one import, env.memory, a memory with min 1 page.
const IMPORT_MEMORY = [
  0x02, 0x0f, 0x01, 0x03, 0x65, 0x6e, 0x76, 0x06, 0x6d, 0x65, 0x6d, 0x6f, 0x72, 0x79, 0x02, 0x00,
  0x01,
];
// Data section: one active segment writing the byte 42 at offset 1024.
const DATA_SEGMENT = [0x0b, 0x08, 0x01, 0x00, 0x41, 0x80, 0x08, 0x0b, 0x01, 0x2a];

test("both built binaries have no data/start/memory section and import only env.memory", () => {
  for (const shared of [false, true]) {
    const file = kernelModulePath(shared);
    assert.ok(fs.existsSync(file), `${file} missing (npm run build:wasm)`);
    const bytes = fs.readFileSync(file);
    const ids = wasmSectionIds(bytes);
    for (const bad of [5, 8, 11, 12]) assert.ok(!ids.includes(bad), `section ${bad} in ${file}`);
    const mod = checkKernelModule(bytes);
    const imports = WebAssembly.Module.imports(mod);
    assert.deepEqual(imports, [{ module: "env", name: "memory", kind: "memory" }]);
  }
});

test("checkKernelModule refuses a binary with a data segment", () => {
  const bytes = Uint8Array.from([...HEADER, ...IMPORT_MEMORY, ...DATA_SEGMENT]);
  // The hand-made binary is valid wasm, so the refusal is ours, not the compiler's.
  assert.ok(WebAssembly.validate(bytes));
  assert.throws(() => checkKernelModule(bytes, "bad.wasm"), /bad\.wasm: has a data section/);
  assert.throws(() => checkKernelModule(Uint8Array.from([...HEADER, ...IMPORT_MEMORY])), /lacks/);
  assert.throws(() => wasmSectionIds(Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8])), /magic/);
});

test("a missing binary gives an error telling to run npm run build:wasm", () => {
  assert.throws(
    () => loadKernelModule("/nonexistent/kernels.wasm"),
    /kernels\.wasm is missing; run npm run build:wasm/,
  );
});

test("instantiating the module on tfjs's memory leaves the heap unchanged", () => {
  const memory = tfjsWasmMemory(wasmInternals());
  const before = Buffer.from(new Uint8Array(memory.buffer)); // a copy
  new WebAssembly.Instance(loadKernelModule(kernelModulePath(false)), { env: { memory } });
  assert.equal(Buffer.compare(before, Buffer.from(memory.buffer)), 0);
});

/** A stand-in backend whose only internals are a memory, for loader tests. */
function fakeBackend(memory: WebAssembly.Memory): WasmBackendInternals {
  const wasm =
    memory.buffer instanceof SharedArrayBuffer ? { wasmMemory: memory } : { asm: { memory } };
  return { wasm } as unknown as WasmBackendInternals;
}

test("caches per backend and re-instantiates when the backend changes", () => {
  const real = wasmInternals();
  const a = simdKernels(real);
  assert.equal(simdKernels(real), a);
  for (const shared of [false, true]) {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 65536, shared });
    const fake = fakeBackend(memory);
    const k = simdKernels(fake);
    assert.notEqual(k, a);
    // rows x = [[1,2],[3,4],[5,6]] at byte 0, ids [1,0,1] at 64, out [2,2] at 128.
    const f32 = new Float32Array(memory.buffer);
    f32.set([1, 2, 3, 4, 5, 6], 0);
    new Int32Array(memory.buffer).set([1, 0, 1], 16);
    f32.fill(NaN, 32, 36);
    k.unsortedSegmentSumF32(0, 64, 128, 3, 2, 2);
    assert.deepEqual(Array.from(f32.subarray(32, 36)), [3, 4, 6, 8], `shared=${shared}`);
  }
  assert.notEqual(simdKernels(real), a); // re-instantiated for the real backend again
});

test("kernels keep working after tfjs's heap grows", () => {
  const b = wasmInternals();
  const memory = tfjsWasmMemory(b);
  const k = simdKernels(b);
  const x = tf.tensor2d([
    [1, 2],
    [3, 4],
  ]);
  const idx = tf.tensor1d([1, 1, 0], "int32");
  const bytesBefore = memory.buffer.byteLength;
  const big = tf.zeros([bytesBefore / 4 + 1024 * 1024]); // forces the heap to grow
  assert.ok(memory.buffer.byteLength > bytesBefore, "heap did not grow");
  assert.equal(simdKernels(b), k); // same memory object: no re-instantiation needed
  const gather = makeGatherV2(undefined);
  const info = gather({
    inputs: { x, indices: idx },
    backend: b,
    attrs: { axis: 0, batchDims: 0 },
  });
  const out = tf.engine().makeTensorFromTensorInfo(info as tf.TensorInfo);
  assert.deepEqual(Array.from(out.dataSync()), [3, 4, 3, 4, 1, 2]);
  assert.ok(heapOffset(b, out) >= 0);
  tf.dispose([x, idx, big, out]);
});
