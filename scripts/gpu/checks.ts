/**
 * The GPU run kit's checks (scripts/gpu/README.md): bundled by `scripts/gpu/build-kit` with
 * esbuild and run by `scripts/gpu/run-kit.sh` on a GPU machine without network.
 *
 *   node checks.js --out DIR [--cpu-mode] [--reps N] [--data DIR] [--steps a,b,...]
 *
 * 1. backend: `webgpu` (Dawn on Vulkan) with the adapter's name; where no adapter exists, one
 *    line saying why and the wasm backend with the kernel pack instead;
 * 2. kernels that training needs (conv and depthwise backprops, matmul with transposes, batched
 *    matmul, reductions) on that backend against the `cpu` backend, small random inputs;
 * 3. the bench models' Adam step (bench/models.ts): ms/step and GFLOP/s;
 * 4. EfficientNet-B0 + LAMB throughput at B = 64, 256, 1024 (examples/s, 32×32×3);
 * 5. the main job's quick configuration, training phase (constant vs growing batch on the
 *    Fashion-MNIST subset of the kit; the report needs nodejs-polars, which the kit leaves out).
 *
 * `--cpu-mode` (the CPU-side test) runs 1 and 2 on a small scale and one small bench row, and
 * skips 4 and 5; `--steps` names the steps to run (kernels, bench, efficientNetLamb,
 * mainJobQuick). Results go to DIR/results.json as they come (a killed run keeps what it had).
 */
import * as fs from "fs";
import * as path from "path";
import * as tf from "@tensorflow/tfjs-core";
import { Adam } from "../../lib/optim/adam";
import { describeBackend, initBackend, type BackendInfo } from "../../lib/backend";
import { trainStep } from "../../lib/train/step";
import { classificationTask } from "../../lib/grad/task";
import { efficientNetB0 } from "../../lib/models/efficientnet";
import { Lamb } from "../../lib/optim/lamb";
import { comparisonRuns, parseCompareConfig, QUICK_OVERRIDES } from "../../lib/jobs/compare";
import { fashionMnistSplits, runCnn } from "../../lib/jobs/common";
import { BENCH_CASES } from "../../bench/models";

interface Results {
  started: string;
  mode: "gpu" | "cpu";
  node: string;
  backend?: { name: string; tfName: string; description: string; webgpuUnavailable?: string };
  kernels?: { name: string; maxRelError: number; ok: boolean }[];
  bench?: {
    model: string;
    batchSize: number;
    msPerStep: number | null;
    gflops: number | null;
    error?: string;
  }[];
  efficientNetLamb?: {
    batchSize: number;
    examplesPerSecond: number | null;
    msPerStep: number | null;
    error?: string;
  }[];
  mainJobQuick?: {
    run: string;
    updates: number;
    examples: number;
    wallClockSeconds: number;
    testAccuracy: number | null;
  }[];
  errors: string[];
  finished?: string;
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const outDir = arg("--out") ?? "kit-results";
const cpuMode = process.argv.includes("--cpu-mode");
const reps = Number(arg("--reps") ?? (cpuMode ? 2 : 10));
const results: Results = {
  started: new Date().toISOString(),
  mode: cpuMode ? "cpu" : "gpu",
  node: process.version,
  errors: [],
};

function save(): void {
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(path.join(outDir, "results.json"), JSON.stringify(results, null, 2));
}
function log(msg: string): void {
  process.stdout.write(`${msg}\n`);
}

/** Seeded uniform values in [−1, 1). */
function rand(n: number, seed: number): Float32Array {
  let s = seed >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 4294967296) * 2 - 1;
  }
  return out;
}

/** Runs `f` on `backend` with the inputs; returns the flattened outputs. */
async function evalOn(
  backend: string,
  shapes: number[][],
  f: (...xs: tf.Tensor[]) => tf.Tensor[],
): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const xs = shapes.map((s, i) =>
    tf.tensor(
      rand(
        s.reduce((p, q) => p * q, 1),
        7 + i,
      ),
      s,
    ),
  );
  const outs = tf.tidy(() => f(...xs));
  const values = await Promise.all(outs.map(async (o) => Float32Array.from(await o.data())));
  tf.dispose([...xs, ...outs]);
  return values;
}

/**
 * A filter op's value and both backprops: op(x, w), and ∂/∂x, ∂/∂w of Σ dy·op(x, w) (the
 * Conv2DBackpropInput/Filter or DepthwiseConv2dNativeBackprop* kernels).
 */
function withBackprops(
  op: (x: tf.Tensor4D, w: tf.Tensor4D) => tf.Tensor,
): (x: tf.Tensor, w: tf.Tensor, dy: tf.Tensor) => tf.Tensor[] {
  const of = (a: tf.Tensor, b: tf.Tensor) => op(a as tf.Tensor4D, b as tf.Tensor4D);
  return (x, w, dy) => [of(x, w), ...tf.grads((a, b) => tf.sum(tf.mul(of(a, b), dy)))([x, w])];
}

/** Kernel checks: name, input shapes, and what to compute (values and gradients). */
const KERNEL_CHECKS: {
  name: string;
  shapes: number[][];
  f: (...xs: tf.Tensor[]) => tf.Tensor[];
}[] = [
  {
    name: "Conv2D 3x3 stride 1 same + Conv2DBackpropInput/Filter",
    shapes: [
      [2, 9, 9, 3],
      [3, 3, 3, 4],
      [2, 9, 9, 4],
    ],
    f: withBackprops((x, w) => tf.conv2d(x, w, 1, "same")),
  },
  {
    name: "Conv2D 3x3 stride 2 valid + Conv2DBackpropInput/Filter",
    shapes: [
      [2, 9, 9, 3],
      [3, 3, 3, 5],
      [2, 4, 4, 5],
    ],
    f: withBackprops((x, w) => tf.conv2d(x, w, 2, "valid")),
  },
  {
    name: "DepthwiseConv2dNative 3x3 stride 1 + backprops",
    shapes: [
      [2, 8, 8, 6],
      [3, 3, 6, 1],
      [2, 8, 8, 6],
    ],
    f: withBackprops((x, w) => tf.depthwiseConv2d(x, w, 1, "same")),
  },
  {
    name: "DepthwiseConv2dNative 5x5 stride 2 + backprops",
    shapes: [
      [2, 9, 9, 4],
      [5, 5, 4, 1],
      [2, 5, 5, 4],
    ],
    f: withBackprops((x, w) => tf.depthwiseConv2d(x, w, 2, "same")),
  },
  {
    name: "MatMul (all four transposes)",
    shapes: [
      [17, 33],
      [33, 9],
      [33, 17],
      [9, 33],
    ],
    f: (a, b, at, bt) => [
      tf.matMul(a, b),
      tf.matMul(at, b, true, false),
      tf.matMul(a, bt, false, true),
      tf.matMul(at, bt, true, true),
    ],
  },
  {
    name: "BatchMatMul [4, 16, 8] x [4, 8, 16] and its gradient",
    shapes: [
      [4, 16, 8],
      [4, 8, 16],
    ],
    f: (a, b) => [
      tf.matMul(a, b),
      ...tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.sum(tf.square(tf.matMul(p, q))))([a, b]),
    ],
  },
  {
    name: "Sum, Mean, Max over leading, middle and last axes",
    shapes: [[6, 7, 8]],
    f: (x) => [
      tf.sum(x, 0),
      tf.sum(x, 1),
      tf.mean(x, [0, 1]),
      tf.mean(x, -1),
      tf.max(x, 1),
      tf.sum(x),
    ],
  },
];

async function checkKernels(target: string): Promise<void> {
  results.kernels = [];
  for (const c of KERNEL_CHECKS) {
    const got = await evalOn(target, c.shapes, c.f);
    const want = await evalOn("cpu", c.shapes, c.f);
    let maxRel = 0;
    got.forEach((g, i) => {
      let ref = 0;
      let err = 0;
      for (let j = 0; j < g.length; j++) {
        ref = Math.max(ref, Math.abs(want[i][j]));
        err = Math.max(err, Math.abs(g[j] - want[i][j]));
      }
      maxRel = Math.max(maxRel, err / (1 + ref));
    });
    const ok = maxRel <= 1e-3;
    results.kernels.push({ name: c.name, maxRelError: maxRel, ok });
    log(
      `kernel ${ok ? "ok  " : "FAIL"} ${c.name}: max error / (1 + max|ref|) = ${maxRel.toExponential(2)}`,
    );
    save();
  }
  await tf.setBackend(target);
}

async function bench(): Promise<void> {
  results.bench = [];
  const cases = cpuMode ? BENCH_CASES.filter((c) => c.name.startsWith("MLP")) : BENCH_CASES;
  for (const c of cases) {
    const { model, task, batch, flops } = c.build();
    const opt = new Adam({ learningRate: 1e-3 });
    const run = () =>
      trainStep(model, opt, task, batch, { microBatchSize: batch.size, learningRate: 1e-3 });
    try {
      for (let i = 0; i < 2; i++) run();
      const t0 = performance.now();
      for (let i = 0; i < reps; i++) run(); // trainStep reads its norms back: synchronised
      const ms = (performance.now() - t0) / reps;
      results.bench.push({
        model: c.name,
        batchSize: c.batchSize,
        msPerStep: ms,
        gflops: flops / ms / 1e6,
      });
      log(
        `bench ${c.name} B=${c.batchSize}: ${ms.toFixed(1)} ms/step, ${(flops / ms / 1e6).toFixed(1)} GFLOP/s`,
      );
    } catch (e) {
      const error = (e as Error).message.split("\n")[0];
      results.bench.push({
        model: c.name,
        batchSize: c.batchSize,
        msPerStep: null,
        gflops: null,
        error,
      });
      log(`bench ${c.name}: error: ${error}`);
    }
    model.dispose();
    opt.dispose();
    save();
  }
}

async function efficientNetThroughput(): Promise<void> {
  results.efficientNetLamb = [];
  const task = classificationTask([32, 32, 3], 10);
  for (const B of [64, 256, 1024]) {
    const model = efficientNetB0({ inputShape: [32, 32, 3], numClasses: 10 });
    const opt = new Lamb({ learningRate: B >= 1024 ? 7e-3 : 1e-3 });
    const batch = {
      x: rand(B * 32 * 32 * 3, B),
      y: new Int32Array(B).map((_, i) => i % 10),
      size: B,
    };
    try {
      const run = () =>
        trainStep(model, opt, task, batch, { microBatchSize: B, learningRate: opt.learningRate });
      for (let i = 0; i < 2; i++) run();
      const n = Math.max(3, Math.round((reps * 64) / B));
      const t0 = performance.now();
      for (let i = 0; i < n; i++) run();
      const ms = (performance.now() - t0) / n;
      results.efficientNetLamb.push({
        batchSize: B,
        msPerStep: ms,
        examplesPerSecond: (1000 * B) / ms,
      });
      log(
        `EfficientNet-B0 + LAMB B=${B}: ${ms.toFixed(1)} ms/step, ${((1000 * B) / ms).toFixed(0)} examples/s`,
      );
    } catch (e) {
      const error = (e as Error).message.split("\n")[0];
      results.efficientNetLamb.push({
        batchSize: B,
        msPerStep: null,
        examplesPerSecond: null,
        error,
      });
      log(`EfficientNet-B0 + LAMB B=${B}: error: ${error}`);
    }
    model.dispose();
    opt.dispose();
    save();
  }
  const at = (b: number) =>
    results.efficientNetLamb?.find((r) => r.batchSize === b)?.examplesPerSecond;
  const r64 = at(64);
  const r1024 = at(1024);
  if (r64 != null && r1024 != null) {
    log(
      `EfficientNet-B0 + LAMB: B=1024 / B=64 examples/s = ${(r1024 / r64).toFixed(2)}x (the seed's GPU: about 3.9x)`,
    );
  }
}

async function mainJobQuick(dataDir: string): Promise<void> {
  const config = parseCompareConfig({
    ...QUICK_OVERRIDES,
    dataDir,
    progress: false,
    noiseScale: false,
  });
  const data = fashionMnistSplits(config);
  const { runs } = await comparisonRuns(config, data, () => {
    throw new Error("the kit runs the main job's default second schedule only");
  });
  results.mainJobQuick = [];
  for (const run of runs) {
    const r = await runCnn({ data, schedule: run.schedule, loop: run.loop, seed: config.seed });
    const last = r.rows[r.rows.length - 1];
    const acc = [...r.rows].reverse().find((q) => q.testAccuracy != null)?.testAccuracy ?? null;
    results.mainJobQuick.push({
      run: run.name,
      updates: last.step,
      examples: last.examples,
      wallClockSeconds: last.wallClock,
      testAccuracy: acc,
    });
    log(
      `main job quick, ${run.name}: ${last.step} updates, ${last.wallClock.toFixed(1)} s, test accuracy ${acc}`,
    );
    save();
  }
}

async function main(): Promise<void> {
  save();
  let info: BackendInfo;
  let webgpuUnavailable: string | undefined;
  try {
    info = await initBackend("webgpu");
  } catch (e) {
    webgpuUnavailable = (e as Error).message.split("\n")[0];
    log(`webgpu unavailable (${webgpuUnavailable}); using wasm with the kernel pack`);
    info = await initBackend("wasm");
  }
  results.backend = {
    name: info.name,
    tfName: info.tfName,
    description: describeBackend(info),
    webgpuUnavailable,
  };
  log(describeBackend(info));
  save();
  const all: [string, () => Promise<void>][] = [
    ["kernels", () => checkKernels(info.tfName)],
    ["bench", bench],
    ["efficientNetLamb", efficientNetThroughput],
    [
      "mainJobQuick",
      () => mainJobQuick(arg("--data") ?? path.join(__dirname, "data", "fashion-mnist")),
    ],
  ];
  const chosen =
    arg("--steps")?.split(",") ?? (cpuMode ? ["kernels", "bench"] : all.map((s) => s[0]));
  const unknown = chosen.filter((c) => !all.some((s) => s[0] === c));
  if (unknown.length > 0) throw new Error(`--steps: unknown step(s) ${unknown.join(", ")}`);
  const steps = all.filter((s) => chosen.includes(s[0]));
  for (const [name, step] of steps) {
    try {
      await step();
    } catch (e) {
      const msg = `${name}: ${(e as Error).message.split("\n")[0]}`;
      results.errors.push(msg);
      log(`error in ${msg}`);
      save();
    }
  }
  results.finished = new Date().toISOString();
  save();
  const failed = (results.kernels ?? []).filter((k) => !k.ok).length;
  log(
    `checks finished: ${failed} kernel check(s) failed, ${results.errors.length} error(s); ${path.join(outDir, "results.json")}`,
  );
  // Dawn keeps Node alive while a device is held: exit explicitly.
  process.exit(failed > 0 || results.errors.length > 0 ? 1 : 0);
}

main().catch((e) => {
  results.errors.push(String(e));
  save();
  console.error(e);
  process.exit(1);
});
