import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "child_process";
import * as path from "path";
import {
  findVulkanLoader,
  parseProbeOutput,
  probeWebGpu,
  VULKAN_LOADER,
} from "../../lib/backend/webgpu-probe";

const ROOT = path.resolve(__dirname, "..", "..");

test("findVulkanLoader: LD_LIBRARY_PATH first, then the library folders, then ldconfig's cache", () => {
  const files = new Set([`/opt/vk/${VULKAN_LOADER}`, `/usr/lib64/${VULKAN_LOADER}`]);
  const exists = (p: string): boolean => files.has(p);
  assert.equal(
    findVulkanLoader({ LD_LIBRARY_PATH: "/x:/opt/vk" }, exists, null),
    `/opt/vk/${VULKAN_LOADER}`,
  );
  assert.equal(findVulkanLoader({}, exists, null), `/usr/lib64/${VULKAN_LOADER}`);
  const cache = [
    "123 libs found in cache `/etc/ld.so.cache'",
    "\tlibvulkan.so.1 (libc6,x86-64) => /nix/store/vk/lib/libvulkan.so.1",
    "\tlibz.so.1 (libc6,x86-64) => /lib/x86_64-linux-gnu/libz.so.1",
  ].join("\n");
  assert.equal(
    findVulkanLoader({}, () => false, cache),
    "/nix/store/vk/lib/libvulkan.so.1",
  );
  assert.equal(
    findVulkanLoader({}, () => false, "\tlibz.so.1 (libc6) => /lib/libz.so.1"),
    null,
  );
  assert.equal(
    findVulkanLoader({}, () => false, null),
    null,
  );
});

test("parseProbeOutput reads the child's last JSON line past Dawn's own output", () => {
  assert.deepEqual(parseProbeOutput('Warning: Couldn\'t load Vulkan\n{"adapter":null}\n'), {
    adapter: null,
  });
  assert.deepEqual(parseProbeOutput('\n{"adapter":"nvidia H200 hopper"}\n'), {
    adapter: "nvidia H200 hopper",
  });
  assert.equal(parseProbeOutput("segfault\n"), null);
  assert.equal(parseProbeOutput('{"adapter": tru'), null);
});

test("probeWebGpu without a Vulkan loader says so without starting Dawn", () => {
  if (process.platform !== "linux") return;
  if (findVulkanLoader() != null) return; // a machine with a loader takes the child-process path
  const r = probeWebGpu();
  assert.equal(r.available, false);
  if (!r.available) assert.match(r.reason, /no Vulkan loader|webgpu package is not installed/);
});

test("trying the webgpu backend prints nothing from Dawn (no Vulkan warning on stderr)", () => {
  const r = spawnSync(
    process.execPath,
    [
      "--import",
      "tsx",
      "-e",
      `require("./lib/backend").initBackend("webgpu").then(() => console.log("loaded"), (e) => console.log("refused: " + e.message))`,
    ],
    { cwd: ROOT, encoding: "utf8", timeout: 120_000 },
  );
  assert.equal(r.status, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /Vulkan|BackendVk|XDG_RUNTIME_DIR/, r.stderr);
  assert.match(r.stdout, /^(loaded|refused: backend 'webgpu' cannot be loaded: .+)\n$/);
});
