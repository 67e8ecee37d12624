/**
 * Choosing and initialising the TensorFlow.js backend.
 *
 * Order tried by `initBackend("auto")`: `@tensorflow/tfjs-node-gpu`, `@tensorflow/tfjs-node`
 * (optional dependencies; they need libtensorflow, which their install script downloads),
 * `webgpu` (`@tensorflow/tfjs-backend-webgpu` on the `webgpu` npm package, Google's Dawn, when a
 * Vulkan, Metal or D3D12 adapter exists), then the `wasm` backend with batchwise's kernel pack (the CPU path on machines without
 * libtensorflow), then the pure-JS `cpu` backend.
 *
 * The environment variable `BATCHWISE_BACKEND` (or the CLI's `--backend`) forces one; forcing
 * a backend that cannot load throws {@link BackendError} naming it and the cause.
 */
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
// Gradient definitions (tf.grad, optimizers) live in a side-effect module of tfjs-core.
import "@tensorflow/tfjs-core/dist/register_all_gradients";
import * as path from "path";
import * as wasmPkg from "@tensorflow/tfjs-backend-wasm";
import { registerKernelPack } from "./kernels";

/** Backends batchwise knows how to start, in the order `auto` tries them. */
export const BACKEND_NAMES = ["tfjs-node-gpu", "tfjs-node", "webgpu", "wasm", "cpu"] as const;
/** A backend name, or `auto` for the first that loads. */
export type BackendName = (typeof BACKEND_NAMES)[number];
export type BackendChoice = BackendName | "auto";

/** Raised when a forced backend cannot be loaded, or the name is unknown. */
export class BackendError extends Error {
  override name = "BackendError";
}

/** What {@link initBackend} chose. */
export interface BackendInfo {
  /** batchwise's name for it (`wasm`, `cpu`, `tfjs-node`, `tfjs-node-gpu`). */
  name: BackendName;
  /** tfjs's registered backend name (`wasm`, `cpu`, `tensorflow`). */
  tfName: string;
  /** Threads the backend computes with (wasm: XNNPACK pool size; else 0 = unknown). */
  threads: number;
  /** Whether batchwise's kernel pack is registered (wasm only). */
  kernelPack: boolean;
}

/** Options for {@link initBackend}. */
export interface BackendOptions {
  /** Register batchwise's wasm kernel pack (default true). Off only for benchmarks/tests. */
  kernelPack?: boolean;
  /** wasm only: threads for XNNPACK; only 1 works under Node with tfjs 4.22 (see startWasm). */
  threads?: number;
}

let current: BackendInfo | null = null;

/** Resolves a choice from an explicit argument, then `BATCHWISE_BACKEND`, then `auto`. */
export function resolveBackendChoice(choice?: string): BackendChoice {
  const c = choice ?? process.env.BATCHWISE_BACKEND ?? "auto";
  if (c === "auto" || (BACKEND_NAMES as readonly string[]).includes(c)) return c as BackendChoice;
  throw new BackendError(
    `backend: unknown value '${c}' (valid: auto, ${BACKEND_NAMES.join(", ")})`,
  );
}

function wasmDistDir(): string {
  return (
    path.join(path.dirname(require.resolve("@tensorflow/tfjs-backend-wasm/package.json")), "dist") +
    path.sep
  );
}

async function tryNode(pkg: string): Promise<void> {
  // Loading the package registers the 'tensorflow' backend as a side effect.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require(pkg);
  const ok = await tf.setBackend("tensorflow");
  if (!ok) throw new Error(`${pkg} loaded but the 'tensorflow' backend failed to initialise`);
}

/**
 * Starts tfjs-backend-webgpu on Dawn (the `webgpu` npm package): installs its WebGPU globals and
 * `navigator.gpu`, checks that an adapter exists, then sets the backend.
 * @throws Error when a package is missing or no GPU adapter is found.
 */
async function startWebGpu(): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const dawn = require("webgpu") as {
    create(flags: string[]): unknown;
    globals: Record<string, unknown>;
  };
  const g = globalThis as unknown as Record<string, unknown>;
  Object.assign(g, dawn.globals);
  const gpu = dawn.create([]) as { requestAdapter(): Promise<unknown> };
  const adapter = await gpu.requestAdapter();
  if (adapter == null)
    throw new Error("no WebGPU adapter (Dawn found no Vulkan, Metal or D3D12 GPU)");
  if (g.navigator == null) g.navigator = {};
  (g.navigator as Record<string, unknown>).gpu = gpu;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require("@tensorflow/tfjs-backend-webgpu");
  const ok = await tf.setBackend("webgpu");
  if (!ok) throw new Error("tf.setBackend('webgpu') returned false");
}

async function startWasm(opts: BackendOptions): Promise<number> {
  const threads = opts.threads ?? 1;
  if (!Number.isInteger(threads) || threads < 1) {
    throw new BackendError(`threads: must be an integer >= 1, got ${threads}`);
  }
  if (threads > 1) {
    // Measured with tfjs 4.22.0 on Node 20: naming the threaded-SIMD binary by path fails to
    // link (`emscripten_num_logical_cores` missing from the non-threaded JS glue), and forcing
    // WASM_HAS_MULTITHREAD_SUPPORT makes the pool start its workers from blob: URLs, which
    // Node rejects (ERR_WORKER_PATH). Data-parallel replicas in worker_threads are the way to
    // use more cores here.
    throw new BackendError(
      `threads: ${threads} is not supported by tfjs-backend-wasm 4.22 under Node (its thread pool needs blob: workers); use threads 1`,
    );
  }
  wasmPkg.setWasmPaths(wasmDistDir());
  const ok = await tf.setBackend("wasm");
  if (!ok) throw new Error("tf.setBackend('wasm') returned false");
  return threads;
}

/**
 * Chooses and initialises a backend; returns what was chosen. Idempotent: a second call with
 * the same choice returns the first result.
 *
 * @param choice a backend name, `auto`, or undefined (then `BATCHWISE_BACKEND`, else `auto`).
 * @throws BackendError if the choice is unknown, or a forced backend cannot load.
 */
export async function initBackend(
  choice?: string,
  opts: BackendOptions = {},
): Promise<BackendInfo> {
  const resolved = resolveBackendChoice(choice);
  const threads = opts.threads ?? 1;
  if (!Number.isInteger(threads) || threads < 1) {
    throw new BackendError(`threads: must be an integer >= 1, got ${threads}`);
  }
  if (current != null && (resolved === "auto" || resolved === current.name)) return current;
  const order: BackendName[] = resolved === "auto" ? [...BACKEND_NAMES] : [resolved];
  const failures: string[] = [];
  for (const name of order) {
    try {
      let threads = 0;
      let kernelPack = false;
      if (name === "tfjs-node-gpu") await tryNode("@tensorflow/tfjs-node-gpu");
      else if (name === "tfjs-node") await tryNode("@tensorflow/tfjs-node");
      else if (name === "webgpu") await startWebGpu();
      else if (name === "wasm") {
        threads = await startWasm(opts);
        if (opts.kernelPack ?? true) {
          registerKernelPack();
          kernelPack = true;
        }
      } else {
        const ok = await tf.setBackend("cpu");
        if (!ok) throw new Error("tf.setBackend('cpu') returned false");
      }
      await tf.ready();
      current = { name, tfName: tf.getBackend(), threads, kernelPack };
      return current;
    } catch (e) {
      const msg = e instanceof Error ? e.message.split("\n")[0] : String(e);
      if (resolved !== "auto" || (e instanceof BackendError && e.message.startsWith("threads:"))) {
        throw new BackendError(`backend '${name}' cannot be loaded: ${msg}`);
      }
      failures.push(`${name}: ${msg}`);
    }
  }
  throw new BackendError(`no backend could be loaded (${failures.join("; ")})`);
}

/** The backend chosen by {@link initBackend}, or null before it ran. */
export function currentBackend(): BackendInfo | null {
  return current;
}

/** One line describing the backend, for logs: `backend: wasm (kernel pack, 1 thread)`. */
export function describeBackend(info: BackendInfo): string {
  const extra: string[] = [];
  if (info.kernelPack) extra.push("batchwise kernel pack");
  if (info.threads > 0) extra.push(`${info.threads} thread${info.threads > 1 ? "s" : ""}`);
  return `backend: ${info.name}${extra.length ? ` (${extra.join(", ")})` : ""}`;
}
