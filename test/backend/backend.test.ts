import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "child_process";
import * as path from "path";
import * as tf from "@tensorflow/tfjs-core";
import {
  autoBackendOrder,
  cudaDeviceVisible,
  describeBackend,
  initBackend,
  nativeBackendBuilt,
  resolveBackendChoice,
} from "../../lib/backend";
import { BackendError } from "../../lib/core/errors";
import { kernelPackConfigs, kernelPackRegistered } from "../../lib/backend/kernels";

test("resolveBackendChoice: explicit, then BATCHWISE_BACKEND, then auto; unknown names rejected", () => {
  const saved = process.env.BATCHWISE_BACKEND;
  try {
    delete process.env.BATCHWISE_BACKEND;
    assert.equal(resolveBackendChoice(), "auto");
    process.env.BATCHWISE_BACKEND = "cpu";
    assert.equal(resolveBackendChoice(), "cpu");
    assert.equal(resolveBackendChoice("wasm"), "wasm");
    assert.throws(
      () => resolveBackendChoice("gpu"),
      /backend: unknown value 'gpu' \(valid: auto, tensorflow-gpu, tensorflow, webgpu, wasm, cpu\)/,
    );
    assert.equal(resolveBackendChoice("tfjs-node"), "tensorflow");
    assert.equal(resolveBackendChoice("tfjs-node-gpu"), "tensorflow-gpu");
  } finally {
    if (saved === undefined) delete process.env.BATCHWISE_BACKEND;
    else process.env.BATCHWISE_BACKEND = saved;
  }
});

test("cudaDeviceVisible: an NVIDIA driver and CUDA_VISIBLE_DEVICES not hiding every GPU; auto's order follows", () => {
  const driver = (p: string) => p === "/dev/nvidiactl";
  const none = () => false;
  assert.deepEqual(cudaDeviceVisible({}, driver), { visible: true });
  assert.deepEqual(cudaDeviceVisible({ CUDA_VISIBLE_DEVICES: "0,1" }, driver), { visible: true });
  assert.match(cudaDeviceVisible({}, none).reason ?? "", /^no NVIDIA driver/);
  for (const hidden of ["", "-1", " -1,0"]) {
    const v = cudaDeviceVisible({ CUDA_VISIBLE_DEVICES: hidden }, driver);
    assert.equal(v.visible, false, `CUDA_VISIBLE_DEVICES='${hidden}'`);
    assert.match(v.reason ?? "", /^CUDA_VISIBLE_DEVICES='.*' hides every GPU$/);
  }
  assert.deepEqual(autoBackendOrder({ visible: true }), [
    "tensorflow-gpu",
    "tensorflow",
    "webgpu",
    "wasm",
    "cpu",
  ]);
  assert.deepEqual(autoBackendOrder({ visible: false }), [
    "tensorflow",
    "tensorflow-gpu",
    "webgpu",
    "wasm",
    "cpu",
  ]);
});

test("auto picks the native build for this machine (CUDA build first only with a CUDA GPU), else wasm with the kernel pack", async () => {
  const info = await initBackend("auto");
  const gpuBuilt = nativeBackendBuilt("tensorflow-gpu");
  if (gpuBuilt && (cudaDeviceVisible().visible || !nativeBackendBuilt("tensorflow"))) {
    assert.equal(info.name, "tensorflow-gpu");
  } else if (nativeBackendBuilt("tensorflow")) {
    assert.equal(info.name, "tensorflow");
    assert.equal(tf.getBackend(), "tensorflow");
    assert.equal(info.kernelPack, false);
    assert.match(describeBackend(info), /^backend: tensorflow \(TensorFlow \d+\.\d+\.\d+\)$/);
    // a tensor op runs on TensorFlow's kernels
    const y = tf.tidy(() => tf.matMul(tf.tensor2d([[1, 2]]), tf.tensor2d([[3], [4]])).dataSync());
    assert.deepEqual(Array.from(y), [11]);
  } else {
    assert.ok(
      !process.env.BATCHWISE_REQUIRE_NATIVE,
      "BATCHWISE_REQUIRE_NATIVE is set but the native backend is not built",
    );
    assert.equal(info.name, "wasm");
    assert.equal(info.kernelPack, true);
    assert.equal(tf.getBackend(), "wasm");
    assert.ok(kernelPackRegistered());
    assert.equal(describeBackend(info), "backend: wasm (batchwise kernel pack, 1 thread)");
  }
});

test("tensorflow-gpu start-up prints one line naming the backend and the device, and no CUDA errors without a GPU", (t) => {
  if (!nativeBackendBuilt("tensorflow-gpu")) {
    t.skip("tensorflow-gpu backend not built (npm run setup:native -- --gpu)");
    return;
  }
  // A fresh process (it loads TensorFlow's CUDA build) with no TensorFlow settings of the user's.
  const env = { ...process.env };
  delete env.TF_CPP_MIN_LOG_LEVEL;
  delete env.TF_ENABLED_DEVICE_TYPES;
  const script = `const b = require("./lib/backend"); const tf = require("@tensorflow/tfjs-core");
    b.initBackend("tensorflow-gpu").then((info) => {
      tf.matMul(tf.ones([8, 8]), tf.ones([8, 8])).dataSync();
      console.log(b.describeBackend(info));
    });`;
  const root = path.join(__dirname, "..", "..");
  const r = spawnSync(process.execPath, ["--import", "tsx", "-e", script], {
    cwd: root,
    env,
    encoding: "utf8",
  });
  assert.equal(r.status, 0, r.stderr);
  if (cudaDeviceVisible().visible) {
    assert.match(r.stdout, /^backend: tensorflow-gpu \(TensorFlow \d+\.\d+\.\d+, (no )?CUDA GPU/);
    return;
  }
  assert.equal(
    r.stdout,
    `backend: tensorflow-gpu (TensorFlow ${r.stdout.match(/TensorFlow (\S+),/)?.[1]}, no CUDA GPU: running on CPU)\n`,
  );
  assert.equal(r.stderr, "", "nothing on stderr (no CUDA loader messages)");
});

test("forcing a backend that cannot load is a BackendError naming it and the set-up command", async () => {
  if (nativeBackendBuilt("tensorflow-gpu")) return;
  await assert.rejects(initBackend("tfjs-node-gpu"), (e: Error) => {
    assert.ok(e instanceof BackendError);
    assert.match(
      e.message,
      /^backend 'tensorflow-gpu' cannot be loaded: @tensorflow\/tfjs-node-gpu('s native binding is not built \(run npm run setup:native -- --gpu\)| is not installed)/,
    );
    return true;
  });
});

test("invalid thread counts are rejected, naming the parameter", async () => {
  await assert.rejects(
    initBackend("wasm", { threads: 0 }),
    /threads: must be an integer >= 1, got 0/,
  );
  await assert.rejects(
    initBackend("auto", { threads: 1.5 }),
    /threads: must be an integer >= 1, got 1.5/,
  );
});

test("every kernel of the pack is registered on wasm", async () => {
  await initBackend("wasm");
  const names = kernelPackConfigs().map((c) => c.kernelName);
  for (const k of [
    "Conv2DBackpropFilter",
    "Conv2DBackpropInput",
    "DepthwiseConv2dNativeBackpropInput",
    "DepthwiseConv2dNativeBackpropFilter",
    "UnsortedSegmentSum",
    "MaxPoolGrad",
    "AvgPoolGrad",
    "BatchMatMul",
    "GatherV2",
    "Sum",
    "Mean",
  ]) {
    assert.ok(names.includes(k), `${k} in the pack`);
    assert.ok(tf.getKernel(k, "wasm") != null, `${k} registered`);
  }
});

test("webgpu: runs where Dawn finds a GPU adapter, else a BackendError saying why", async () => {
  let dawn = true;
  try {
    require.resolve("webgpu");
  } catch {
    dawn = false;
  }
  try {
    await initBackend("webgpu");
    assert.equal(tf.getBackend(), "webgpu"); // a machine with a GPU
  } catch (e) {
    assert.ok(e instanceof BackendError, String(e));
    assert.match(
      (e as Error).message,
      dawn
        ? /^backend 'webgpu' cannot be loaded: (no WebGPU adapter|no Vulkan loader \(libvulkan\.so\.1\) on this machine)/
        : /^backend 'webgpu' cannot be loaded: the webgpu package is not installed/,
    );
  } finally {
    await initBackend("wasm");
  }
});
