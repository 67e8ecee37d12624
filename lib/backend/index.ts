/**
 * Choosing and initialising the TensorFlow.js backend.
 *
 * Order tried by `initBackend("auto")`:
 * 1. `tensorflow-gpu`, then `tensorflow`: TensorFlow's own C++ kernels through the binding of
 *    `@tensorflow/tfjs-node-gpu` / `@tensorflow/tfjs-node`, built by `npm run setup:native
 *    -- --gpu` / `npm run setup:native` against the libraries of TensorFlow's pip wheels (the
 *    CUDA-capable `tensorflow`, the CPU-only `tensorflow-cpu`; see `scripts/setup-native.mjs`);
 *    the packages' own install script, which downloads libtensorflow, is disabled in
 *    package.json. Where no CUDA GPU can be present ({@link cudaDeviceVisible}) the order is
 *    `tensorflow`, then `tensorflow-gpu` (the CUDA build then runs on its CPU kernels).
 * 2. `webgpu` (`@tensorflow/tfjs-backend-webgpu` on the `webgpu` npm package, Google's Dawn,
 *    when a Vulkan, Metal or D3D12 adapter exists; probed quietly first, see
 *    `lib/backend/webgpu-probe.ts`).
 * 3. `wasm` with batchwise's kernel pack (the CPU path without the native build).
 * 4. the pure-JS `cpu` backend.
 *
 * `tfjs-node` and `tfjs-node-gpu` are accepted as aliases of `tensorflow` and `tensorflow-gpu`.
 *
 * The environment variable `BATCHWISE_BACKEND` (or the CLI's `--backend`) forces one; forcing
 * a backend that cannot load throws {@link BackendError} naming it and the cause.
 */
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
// Gradient definitions (tf.grad, optimizers) live in a side-effect module of tfjs-core.
import "@tensorflow/tfjs-core/dist/register_all_gradients";
import * as fs from "fs";
import * as path from "path";
import * as wasmPkg from "@tensorflow/tfjs-backend-wasm";
import { registerKernelPack, registerPackGradients } from "./kernels";
import { registerNativeKernels } from "./native";
import { BackendError } from "../core/errors";
import { probeWebGpu } from "./webgpu-probe";
import { installWebGpuKernels } from "./kernels/webgpu";

/** Backends batchwise knows how to start, in the order `auto` tries them. */
export const BACKEND_NAMES = ["tensorflow-gpu", "tensorflow", "webgpu", "wasm", "cpu"] as const;
/** Older spellings accepted by {@link resolveBackendChoice}. */
const BACKEND_ALIASES: Partial<Record<string, BackendName>> = {
  "tfjs-node": "tensorflow",
  "tfjs-node-gpu": "tensorflow-gpu",
};
/** A backend name, or `auto` for the first that loads. */
export type BackendName = (typeof BACKEND_NAMES)[number];
export type BackendChoice = BackendName | "auto";

export { BackendError };

/** What {@link initBackend} chose. */
export interface BackendInfo {
  /** batchwise's name for it (`tensorflow-gpu`, `tensorflow`, `webgpu`, `wasm`, `cpu`). */
  name: BackendName;
  /** tfjs's registered backend name (`wasm`, `cpu`, `tensorflow`). */
  tfName: string;
  /** Threads the backend computes with (wasm: XNNPACK pool size; else 0 = unknown). */
  threads: number;
  /** Whether batchwise's kernel pack is registered (wasm only). */
  kernelPack: boolean;
  /**
   * What runs the kernels, when known: `TensorFlow 2.20.0`, `TensorFlow 2.20.0, CUDA GPU`,
   * `TensorFlow 2.20.0, no CUDA GPU: running on CPU` (the CUDA build without a GPU).
   */
  detail?: string;
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
  const given = choice ?? process.env.BATCHWISE_BACKEND ?? "auto";
  const c: string = BACKEND_ALIASES[given] ?? given;
  if (c === "auto" || (BACKEND_NAMES as readonly string[]).includes(c)) return c as BackendChoice;
  throw new BackendError(
    `backend: unknown value '${given}' (valid: auto, ${BACKEND_NAMES.join(", ")})`,
  );
}

function wasmDistDir(): string {
  return (
    path.join(path.dirname(require.resolve("@tensorflow/tfjs-backend-wasm/package.json")), "dist") +
    path.sep
  );
}

/** Whether a CUDA GPU can be visible to TensorFlow here ({@link cudaDeviceVisible}). */
export interface CudaVisibility {
  visible: boolean;
  /** Why no CUDA GPU can be used (absent when `visible`). */
  reason?: string;
}

/**
 * Whether this machine can show TensorFlow a CUDA GPU, decided without loading anything: an
 * NVIDIA kernel driver (`/proc/driver/nvidia/version` or `/dev/nvidiactl`; WSL2's `/dev/dxg`)
 * must exist, and `CUDA_VISIBLE_DEVICES` must not hide every device (empty, or starting with
 * `-1`). False means TensorFlow's CUDA platform could only fail (`cuInit`), so
 * `tensorflow-gpu` starts on its CPU kernels without trying it, and `auto` prefers the
 * `tensorflow` build. True does not promise a usable GPU: the backend's detail says whether
 * TensorFlow placed ops on one.
 *
 * @param env the environment to read (default `process.env`).
 * @param exists the file test (default `fs.existsSync`; tests pass their own).
 */
export function cudaDeviceVisible(
  env: NodeJS.ProcessEnv = process.env,
  exists: (p: string) => boolean = fs.existsSync,
): CudaVisibility {
  if (!["/proc/driver/nvidia/version", "/dev/nvidiactl", "/dev/dxg"].some((p) => exists(p)))
    return { visible: false, reason: "no NVIDIA driver (no /proc/driver/nvidia, /dev/nvidiactl)" };
  const cvd = env.CUDA_VISIBLE_DEVICES;
  if (cvd != null && (cvd.trim() === "" || cvd.trim().startsWith("-1")))
    return { visible: false, reason: `CUDA_VISIBLE_DEVICES='${cvd}' hides every GPU` };
  return { visible: true };
}

/**
 * The order `initBackend("auto")` tries: {@link BACKEND_NAMES} where a CUDA GPU can be seen;
 * else `tensorflow` before `tensorflow-gpu` (the CPU wheel's build is the one made for a CPU).
 */
export function autoBackendOrder(cuda: CudaVisibility = cudaDeviceVisible()): BackendName[] {
  if (cuda.visible) return [...BACKEND_NAMES];
  return [
    "tensorflow",
    "tensorflow-gpu",
    ...BACKEND_NAMES.filter((n) => n !== "tensorflow" && n !== "tensorflow-gpu"),
  ];
}

/** The npm package whose binding a native backend loads. */
export function nativePackage(name: "tensorflow" | "tensorflow-gpu"): string {
  return name === "tensorflow" ? "@tensorflow/tfjs-node" : "@tensorflow/tfjs-node-gpu";
}

/**
 * Where `npm run setup:native` puts the native binding of a `tensorflow` backend (the path
 * tfjs-node's loader looks in: `lib/napi-v8/tfjs_binding.node` of the package), or null when the
 * package itself is not installed.
 */
export function nativeAddonPath(name: "tensorflow" | "tensorflow-gpu"): string | null {
  try {
    const dir = path.dirname(require.resolve(`${nativePackage(name)}/package.json`));
    return path.join(dir, "lib", "napi-v8", "tfjs_binding.node");
  } catch {
    return null;
  }
}

/** Whether the native binding of `name` has been built (see {@link nativeAddonPath}). */
export function nativeBackendBuilt(name: "tensorflow" | "tensorflow-gpu"): boolean {
  const p = nativeAddonPath(name);
  return p != null && fs.existsSync(p);
}

async function tryNode(name: "tensorflow" | "tensorflow-gpu"): Promise<string> {
  const pkg = nativePackage(name);
  // Fail with the set-up command rather than tfjs-node's advice to rebuild from source.
  if (nativeAddonPath(name) == null)
    throw new BackendError(`${pkg} is not installed (run npm install)`);
  if (!nativeBackendBuilt(name)) {
    throw new BackendError(
      `${pkg}'s native binding is not built (run npm run setup:native${name === "tensorflow-gpu" ? " -- --gpu" : ""})`,
    );
  }
  // TensorFlow's C++ logging (oneDNN and CPU-feature notices) to warnings and above, unless
  // the user chose a level. Both settings here are read when the library loads.
  process.env.TF_CPP_MIN_LOG_LEVEL ??= "1";
  // The CUDA build where no CUDA GPU can be seen: creating the context would initialise
  // TensorFlow's CUDA platform, which can only fail there and logs that as an error (`failed
  // call to cuInit`). Restricting TensorFlow's device factories to CPU skips exactly that; a
  // user's own TF_ENABLED_DEVICE_TYPES wins.
  if (name === "tensorflow-gpu" && !cudaDeviceVisible().visible)
    process.env.TF_ENABLED_DEVICE_TYPES ??= "CPU";
  // Loading the package registers the 'tensorflow' backend as a side effect.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require(pkg);
  const ok = await tf.setBackend("tensorflow");
  if (!ok)
    throw new BackendError(`${pkg} loaded but the 'tensorflow' backend failed to initialise`);
  registerNativeKernels();
  // tfjs-node's NodeJSKernelBackend: the binding reports the C library's version.
  const b = tf.backend() as unknown as {
    binding?: { TF_Version?: string };
    isUsingGpuDevice?: boolean;
  };
  const version = `TensorFlow ${b.binding?.TF_Version ?? "?"}`;
  if (b.isUsingGpuDevice) return `${version}, CUDA GPU`;
  return name === "tensorflow-gpu" ? `${version}, no CUDA GPU: running on CPU` : version;
}

/**
 * Starts tfjs-backend-webgpu on Dawn (the `webgpu` npm package): probes for an adapter in a child
 * process ({@link probeWebGpu}: no Dawn output in this process on a machine without a GPU), then
 * installs its WebGPU globals and `navigator.gpu`, checks the adapter, and sets the backend.
 * @throws Error when a package is missing or no GPU adapter is found.
 */
async function startWebGpu(): Promise<string> {
  // Dawn prints its Vulkan warnings from native code into the process that loads it: ask a
  // child first (lib/backend/webgpu-probe.ts), and load it here only where it found a GPU.
  const probe = probeWebGpu();
  if (!probe.available) throw new BackendError(probe.reason);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const dawn = require("webgpu") as {
    create(flags: string[]): unknown;
    globals: Record<string, unknown>;
  };
  const g = globalThis as unknown as Record<string, unknown>;
  Object.assign(g, dawn.globals);
  const gpu = dawn.create([]) as { requestAdapter(): Promise<unknown> };
  const adapter = (await gpu.requestAdapter()) as {
    info?: Record<string, string>;
    requestAdapterInfo?: () => Promise<Record<string, string>>;
  } | null;
  if (adapter == null)
    throw new BackendError("no WebGPU adapter (Dawn found no Vulkan, Metal or D3D12 GPU)");
  const info = adapter.info ?? (await adapter.requestAdapterInfo?.()) ?? {};
  const adapterName =
    [info.vendor, info.device || info.description, info.architecture]
      .filter((s) => s != null && s !== "")
      .join(" ") || "unnamed adapter";
  if (g.navigator == null) g.navigator = {};
  (g.navigator as Record<string, unknown>).gpu = gpu;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require("@tensorflow/tfjs-backend-webgpu");
  const ok = await tf.setBackend("webgpu");
  if (!ok) throw new BackendError("tf.setBackend('webgpu') returned false");
  installWebGpuKernels();
  return `adapter: ${adapterName}`;
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
  if (!ok) throw new BackendError("tf.setBackend('wasm') returned false");
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
  const order: BackendName[] = resolved === "auto" ? autoBackendOrder() : [resolved];
  const failures: string[] = [];
  for (const name of order) {
    try {
      let threads = 0;
      let kernelPack = false;
      let detail: string | undefined;
      if (name === "tensorflow-gpu" || name === "tensorflow") detail = await tryNode(name);
      else if (name === "webgpu") detail = await startWebGpu();
      else if (name === "wasm") {
        threads = await startWasm(opts);
        if (opts.kernelPack ?? true) {
          registerKernelPack();
          kernelPack = true;
        }
      } else {
        const ok = await tf.setBackend("cpu");
        if (!ok) throw new BackendError("tf.setBackend('cpu') returned false");
      }
      await tf.ready();
      registerPackGradients();
      current = { name, tfName: tf.getBackend(), threads, kernelPack, detail };
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

/**
 * One line describing the backend, for logs: `backend: wasm (batchwise kernel pack, 1 thread)`,
 * `backend: tensorflow (TensorFlow 2.20.0)`, `backend: tensorflow-gpu (TensorFlow 2.20.0, no
 * CUDA GPU: running on CPU)`.
 */
export function describeBackend(info: BackendInfo): string {
  const extra: string[] = [];
  if (info.detail) extra.push(info.detail);
  if (info.kernelPack) extra.push("batchwise kernel pack");
  if (info.threads > 0) extra.push(`${info.threads} thread${info.threads > 1 ? "s" : ""}`);
  return `backend: ${info.name}${extra.length ? ` (${extra.join(", ")})` : ""}`;
}
