/**
 * Whether WebGPU (Dawn, the `webgpu` npm package) can start here, found out without Dawn
 * printing anything into this process.
 *
 * Loading Dawn on a machine without a GPU prints `Warning: Couldn't load Vulkan:
 * libvulkan.so.1: cannot open shared object file` (with the C++ source line) to stderr from
 * native code, which no JavaScript can silence, into every run and notebook kernel that tries
 * the `webgpu` backend. So `initBackend` asks {@link probeWebGpu} first:
 *
 * 1. on Linux, without a Vulkan loader (`libvulkan.so.1` in LD_LIBRARY_PATH, the usual library
 *    folders or ldconfig's cache) Dawn has no backend to use: no adapter, decided without
 *    loading it;
 * 2. otherwise a child Node process loads Dawn and asks for an adapter; its output is captured,
 *    and only when it found one does the caller load Dawn in-process (a machine with a GPU).
 *
 * The child costs about a second, and is paid only where a Vulkan loader exists (or on macOS and
 * Windows, where Dawn uses Metal or D3D12).
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

/** The file Dawn's Vulkan backend opens on Linux. */
export const VULKAN_LOADER = "libvulkan.so.1";

/** Library folders searched for {@link VULKAN_LOADER} besides LD_LIBRARY_PATH. */
const LIBRARY_DIRS = [
  "/usr/lib/x86_64-linux-gnu",
  "/usr/lib/aarch64-linux-gnu",
  "/lib/x86_64-linux-gnu",
  "/lib/aarch64-linux-gnu",
  "/usr/lib64",
  "/usr/lib",
  "/lib64",
  "/lib",
  "/usr/local/lib",
];

/**
 * The Vulkan loader the dynamic linker would find, or null.
 *
 * @param env the environment (its LD_LIBRARY_PATH is searched first).
 * @param exists file test (a parameter for tests).
 * @param ldconfigCache the output of `ldconfig -p` (read when omitted and the folders have no
 *   loader); null when it cannot be read.
 * @returns the loader's path, or null when none is found.
 */
export function findVulkanLoader(
  env: NodeJS.ProcessEnv = process.env,
  exists: (p: string) => boolean = fs.existsSync,
  ldconfigCache?: string | null,
): string | null {
  const dirs = [...(env.LD_LIBRARY_PATH ?? "").split(":").filter((d) => d !== ""), ...LIBRARY_DIRS];
  for (const d of dirs) {
    const p = path.join(d, VULKAN_LOADER);
    if (exists(p)) return p;
  }
  const cache = ldconfigCache === undefined ? readLdconfigCache() : ldconfigCache;
  if (cache == null) return null;
  for (const line of cache.split("\n")) {
    const m = /^\s*libvulkan\.so\.1\s.*=>\s*(\S+)\s*$/.exec(line);
    if (m != null) return m[1];
  }
  return null;
}

function readLdconfigCache(): string | null {
  for (const cmd of ["/sbin/ldconfig", "/usr/sbin/ldconfig", "ldconfig"]) {
    const r = spawnSync(cmd, ["-p"], { encoding: "utf8", timeout: 5000 });
    if (r.status === 0 && typeof r.stdout === "string") return r.stdout;
  }
  return null;
}

/** What {@link probeWebGpu} found. */
export type WebGpuProbe =
  { available: true; adapter: string } | { available: false; reason: string };

/**
 * The script the child process runs: loads Dawn from `modulePath`, asks for an adapter, and
 * prints one JSON line `{"adapter": "<vendor device architecture>"}` or `{"adapter": null}`.
 */
export function probeScript(modulePath: string): string {
  return `
const dawn = require(${JSON.stringify(modulePath)});
Object.assign(globalThis, dawn.globals);
dawn.create([]).requestAdapter().then(async (a) => {
  let name = null;
  if (a != null) {
    const info = a.info ?? (a.requestAdapterInfo ? await a.requestAdapterInfo() : {}) ?? {};
    name = [info.vendor, info.device || info.description, info.architecture].filter((s) => s).join(" ") || "unnamed adapter";
  }
  process.stdout.write("\\n" + JSON.stringify({ adapter: name }) + "\\n");
  process.exit(0);
}, (e) => { process.stdout.write("\\n" + JSON.stringify({ adapter: null, error: String(e) }) + "\\n"); process.exit(0); });
`;
}

/**
 * Reads the child's answer: the last line of its stdout that is the JSON {@link probeScript}
 * prints (Dawn may write other lines before it).
 */
export function parseProbeOutput(
  stdout: string,
): { adapter: string | null; error?: string } | null {
  const lines = stdout.split("\n").filter((l) => l.trim().startsWith('{"adapter"'));
  if (lines.length === 0) return null;
  try {
    return JSON.parse(lines[lines.length - 1]) as { adapter: string | null; error?: string };
  } catch {
    return null;
  }
}

/**
 * Whether Dawn finds a WebGPU adapter, without loading it into this process (see the module
 * comment).
 *
 * @param opts `platform` and `env` (defaults: this process's); `timeoutMs` for the child
 *   (default 30 000).
 * @returns `{ available: true, adapter }`, or `{ available: false, reason }` naming why
 *   (package missing, no Vulkan loader, no adapter, the child failed); never throws.
 */
export function probeWebGpu(
  opts: { platform?: NodeJS.Platform; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): WebGpuProbe {
  const platform = opts.platform ?? process.platform;
  const env = opts.env ?? process.env;
  let modulePath: string;
  try {
    modulePath = require.resolve("webgpu");
  } catch {
    return { available: false, reason: "the webgpu package is not installed" };
  }
  if (platform === "linux" && findVulkanLoader(env) == null) {
    return {
      available: false,
      reason: `no Vulkan loader (${VULKAN_LOADER}) on this machine, so Dawn has no GPU to use`,
    };
  }
  const r = spawnSync(process.execPath, ["-e", probeScript(modulePath)], {
    encoding: "utf8",
    env,
    timeout: opts.timeoutMs ?? 30_000,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const answer = parseProbeOutput(r.stdout ?? "");
  if (answer == null) {
    const why = r.error?.message ?? `exit ${r.status}${r.signal ? ` (${r.signal})` : ""}`;
    return { available: false, reason: `the WebGPU probe process failed: ${why}` };
  }
  if (answer.adapter == null) {
    return {
      available: false,
      reason: `no WebGPU adapter (Dawn found no Vulkan, Metal or D3D12 GPU${answer.error ? `: ${answer.error}` : ""})`,
    };
  }
  return { available: true, adapter: answer.adapter };
}
