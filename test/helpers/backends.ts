/**
 * Test helpers: the backend training tests run on, and running the same computation on the
 * `cpu` backend and on `wasm` with the kernel pack to compare them.
 */
import * as tf from "@tensorflow/tfjs-core";
import assert from "node:assert/strict";
import { initBackend, type BackendInfo } from "../../lib/backend";

let ready: Promise<BackendInfo> | null = null;
let wasmReady: Promise<unknown> | null = null;

/**
 * The backend the backend-independent tests (step, loop, norms, estimators, checkpoints,
 * optimizers, models) train on: `BATCHWISE_TEST_BACKEND` (`wasm` or `tensorflow`; default
 * `wasm`, with the kernel pack). `npm test` runs those files once per backend it can load.
 */
export function trainingBackendName(): string {
  return process.env.BATCHWISE_TEST_BACKEND ?? "wasm";
}

/** Starts the training backend (once per process) and makes it current; cpu stays registered. */
export async function useTrainingBackend(): Promise<BackendInfo> {
  ready ??= initBackend(trainingBackendName());
  const info = await ready;
  await tf.setBackend(info.tfName);
  return info;
}

/** Starts the wasm backend with the kernel pack (once per process); for wasm-only tests. */
export async function useWasmWithPack(): Promise<void> {
  wasmReady ??= initBackend("wasm");
  await wasmReady;
  await tf.setBackend("wasm");
}

/** Evaluates `f` on `backend` with inputs copied there; returns the result's values and shape. */
export async function runOn(
  backend: "cpu" | "wasm",
  inputs: { values: Float32Array | Int32Array; shape: number[]; dtype?: "float32" | "int32" }[],
  f: (...xs: tf.Tensor[]) => tf.Tensor,
): Promise<{ values: Float32Array; shape: number[] }> {
  await tf.setBackend(backend);
  const before = tf.memory().numTensors;
  const xs = inputs.map((i) => tf.tensor(i.values, i.shape, i.dtype ?? "float32"));
  const out = tf.tidy(() => f(...xs));
  const values = (await out.data()) as Float32Array;
  const shape = out.shape;
  out.dispose();
  xs.forEach((x) => x.dispose());
  assert.equal(tf.memory().numTensors, before, `${backend}: tensors leaked`);
  return { values: Float32Array.from(values), shape };
}

/** A tensor's values (as float32) and shape, the form {@link assertClose} compares. */
export function valuesOf(t: tf.Tensor): { values: Float32Array; shape: number[] } {
  return { values: Float32Array.from(t.dataSync()), shape: t.shape };
}

/** Seeded standard-normal-ish values (Box–Muller on a small LCG), for reproducible inputs. */
export function randn(n: number, seed: number): Float32Array {
  let s = seed >>> 0 || 1;
  const u = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s + 0.5) / 4294967296;
  };
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    out[i] = Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
  }
  return out;
}

/**
 * Asserts max|a−b| ≤ tol·(1 + max|b|) — a relative tolerance on the scale of the reference,
 * which for float32 sums of a few thousand terms is well above rounding error (≈1e-6).
 */
export function assertClose(
  a: { values: Float32Array; shape: number[] },
  b: { values: Float32Array; shape: number[] },
  tol: number,
  what: string,
): void {
  assert.deepEqual(a.shape, b.shape, `${what}: shape`);
  let maxRef = 0;
  let maxErr = 0;
  for (let i = 0; i < b.values.length; i++) {
    maxRef = Math.max(maxRef, Math.abs(b.values[i]));
    maxErr = Math.max(maxErr, Math.abs(a.values[i] - b.values[i]));
  }
  assert.ok(
    maxErr <= tol * (1 + maxRef),
    `${what}: max abs error ${maxErr.toExponential(2)} > ${tol} * (1 + ${maxRef.toFixed(3)})`,
  );
}
