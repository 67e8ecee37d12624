/**
 * The GPU run kit's checks (scripts/gpu/README.md): bundled by `scripts/gpu/build-kit` with
 * esbuild and run by `scripts/gpu/run-kit.sh` on a GPU machine without network.
 *
 *   node checks.js --out DIR [--cpu-mode] [--reps N] [--data DIR] [--steps a,b,...]
 *     [--limit SECONDS] [--notebook4-seconds T]
 *
 * 1. backend: `webgpu` (Dawn on Vulkan) with the adapter's name and the device limits tfjs
 *    asked for; where no adapter exists, one line saying why and the wasm backend with the
 *    kernel pack instead;
 * 2. kernels that training needs (conv and depthwise backprops, matmul with transposes, batched
 *    matmul, reductions) on that backend against the `cpu` backend, small random inputs;
 * 3. `bench`: the bench models' Adam step (bench/models.ts) at their own B: ms/step, GFLOP/s;
 * 4. `filterGrads`: the gap CNN at B = 1024 and EfficientNet-B0 at B = 256 with
 *    tfjs-backend-webgpu's own filter gradients against batchwise's
 *    (lib/backend/kernels/webgpu.ts), side by side;
 * 5. `batchSweep`: Adam steps of EfficientNet-B0 32×32×3 and the two CNNs at B = 64, 128, …
 *    doubling up to the largest batch that fits (the first B whose step raises or leaves a
 *    WebGPU validation or out-of-memory error ends a model's sweep), its per-model time budget,
 *    or a cap; examples/s per B;
 * 6. `efficientNetLamb`: EfficientNet-B0 + LAMB at B = 64, 256, 1024 (32×32×3) and the
 *    B=1024/B=64 ratio of examples/s (the seed's GPU: about 3.9×);
 * 7. `mainJobQuick`: the main job's quick configuration, training phase — the machine table
 *    (machine.json, K = 1: one GPU), then B = 64 against goodput with the live noise scale;
 *    the run log goes to runlog.json (the report needs nodejs-polars, which the kit leaves out);
 * 8. `notebook4`: notebook 4's comparison — EfficientNet-B0 + LAMB at the seed's batch sizes
 *    and learning rates (64 at 1e-3 for 3T with a snapshot at T, 1024 at 7e-3 for T), training
 *    and validation accuracy at equal training time, on Fashion-MNIST (CIFAR-10 is not
 *    vendored); T from `--notebook4-seconds` (default 20), shortened to fit `--limit`.
 *
 * Reads go through `await tensor.data()` (trainStepAsync, evaluateAsync): tfjs-backend-webgpu
 * reads synchronously through `OffscreenCanvas`, which Node lacks.
 *
 * `--cpu-mode` (the CPU-side test) runs 1–3 on a small scale; `--steps` names the steps to run.
 * `--limit` (s) is the time the checks may take: later steps shrink or are skipped to finish
 * inside it. Results go to DIR/results.json as they come (a killed run keeps what it had).
 */
import * as fs from "fs";
import * as path from "path";
import * as tf from "@tensorflow/tfjs-core";
import type * as tfl from "@tensorflow/tfjs-layers";
import type { StepBatch } from "../../lib/data/source";
import { Adam } from "../../lib/optim/adam";
import { BIAS_AND_NORM_PATTERNS } from "../../lib/optim/base";
import { describeBackend, initBackend, type BackendInfo } from "../../lib/backend";
import { setWebGpuFilterGrads } from "../../lib/backend/kernels/webgpu";
import { trainStepAsync } from "../../lib/train/step";
import { evaluateAsync, probeSource } from "../../lib/train/evaluate";
import { classificationTask } from "../../lib/grad/task";
import { efficientNetB0 } from "../../lib/models/efficientnet";
import { gapCnn, smallCnn } from "../../lib/models/small";
import { Lamb } from "../../lib/optim/lamb";
import { constantSchedule } from "../../lib/schedules/constant";
import { comparisonRuns, parseCompareConfig, QUICK_OVERRIDES } from "../../lib/jobs/compare";
import { fashionMnistSplits, measureMachine, runCnn } from "../../lib/jobs/common";
import { machineThroughputCurve } from "../../lib/train/replica-plan";
import { noiseScaleEstimator } from "../../lib/noise/noise-scale-estimator";
import { trainForWallClock } from "../../lib/analysis/wall-clock";
import type { RunLogRow } from "../../lib/train/types";
import { BENCH_CASES } from "../../bench/models";

interface Results {
  started: string;
  mode: "gpu" | "cpu";
  node: string;
  backend?: {
    name: string;
    tfName: string;
    description: string;
    webgpuUnavailable?: string;
    /** The WebGPU device's limits that bound the largest batch (bytes). */
    limits?: Record<string, number>;
  };
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
  batchSweep?: SweepPoint[];
  /** Adam step with tfjs-backend-webgpu's filter gradients against batchwise's (lib/backend/kernels/webgpu.ts). */
  filterGrads?: {
    model: string;
    batchSize: number;
    msTfjs: number | null;
    msBatchwise: number | null;
    error?: string;
  }[];
  mainJobQuick?: {
    run: string;
    updates: number;
    examples: number;
    wallClockSeconds: number;
    testAccuracy: number | null;
    /** Training seconds to the quick job's target accuracy (null: not reached). */
    secondsToTarget: number | null;
    batchSizes: number[];
  }[];
  notebook4?: {
    dataset: string;
    trainExamples: number;
    valExamples: number;
    seconds: number;
    warmUpSeconds: number;
    runs: {
      label: string;
      batchSize: number;
      learningRate: number;
      seconds: number;
      updates: number;
      epochs: number;
      trainAccuracy: number;
      valAccuracy: number;
    }[];
  };
  skipped: string[];
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
const limitSeconds = Number(arg("--limit") ?? Infinity);
const startedAt = performance.now();
/** Seconds left of `--limit`. */
const secondsLeft = () => limitSeconds - (performance.now() - startedAt) / 1000;
const results: Results = {
  started: new Date().toISOString(),
  mode: cpuMode ? "cpu" : "gpu",
  node: process.version,
  errors: [],
  skipped: [],
};

function save(): void {
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(path.join(outDir, "results.json"), JSON.stringify(results, null, 2));
}
function log(msg: string): void {
  process.stdout.write(`${msg}\n`);
}

/** One point of a batch sweep: a model's Adam step at batch size B. */
interface SweepPoint {
  model: string;
  batchSize: number;
  msPerStep: number | null;
  examplesPerSecond: number | null;
  error?: string;
}

/** The WebGPU device of the current backend (null on other backends). */
function gpuDevice(): {
  pushErrorScope(filter: string): void;
  popErrorScope(): Promise<{ message: string } | null>;
  limits: Record<string, number>;
} | null {
  const b = tf.backend() as unknown as { device?: ReturnType<typeof gpuDevice> };
  return b.device ?? null;
}

/**
 * Runs `f` inside WebGPU validation and out-of-memory error scopes: a buffer over the device's
 * limits or its memory is reported there, not thrown. Returns the thrown or reported error's
 * first line, or null.
 */
async function gpuErrorOf(f: () => Promise<void>): Promise<string | null> {
  const dev = gpuDevice();
  dev?.pushErrorScope("out-of-memory");
  dev?.pushErrorScope("validation");
  let thrown: string | null = null;
  try {
    await f();
  } catch (e) {
    thrown = (e as Error).message.split("\n")[0];
  }
  const scoped = dev != null ? [await dev.popErrorScope(), await dev.popErrorScope()] : [];
  const reported = scoped.find((e) => e != null);
  return thrown ?? (reported != null ? `WebGPU error: ${reported.message.split("\n")[0]}` : null);
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

/** A seeded random image batch of B examples of `shape` (features in [−1, 1), labels i mod 10). */
function randomBatch(B: number, shape: readonly number[]): StepBatch {
  const per = shape.reduce((p, q) => p * q, 1);
  return { x: rand(B * per, B), y: new Int32Array(B).map((_, i) => i % 10), size: B };
}

/**
 * ms per call of `step` (one update that reads its statistics back, so each call ends
 * synchronised with the device): two untimed calls (shader compilation, slots), then `timed`.
 */
async function msPerStep(step: () => Promise<unknown>, timed: number): Promise<number> {
  for (let i = 0; i < 2; i++) await step();
  const t0 = performance.now();
  for (let i = 0; i < timed; i++) await step();
  return (performance.now() - t0) / timed;
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
      trainStepAsync(model, opt, task, batch, { microBatchSize: batch.size, learningRate: 1e-3 });
    try {
      const ms = await msPerStep(run, reps);
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
    const batch = randomBatch(B, [32, 32, 3]);
    try {
      const run = () =>
        trainStepAsync(model, opt, task, batch, {
          microBatchSize: B,
          learningRate: opt.learningRate,
        });
      const ms = await msPerStep(run, Math.max(3, Math.round((reps * 64) / B)));
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

/**
 * Floats per example of the model's largest layer output (or input): a batch of B needs
 * buffers of B times this many floats, forward and backward.
 */
function largestActivation(model: tfl.LayersModel): number {
  const shapes = [...model.layers.map((l) => l.outputShape), ...model.inputs.map((i) => i.shape)];
  const sizes = shapes.flatMap((sh) => {
    const list = (Array.isArray(sh[0]) ? sh : [sh]) as (number | null)[][];
    return list.map((d) => d.slice(1).reduce<number>((p, q) => p * (q ?? 1), 1));
  });
  return Math.max(...sizes);
}

/**
 * Adam steps of one model at B = 64, 128, … until a step fails (raises, or leaves a WebGPU
 * validation or out-of-memory error), the batch whose largest activation would exceed the
 * device's `maxStorageBufferBindingSize` (a WebGPU limit: one tensor is one binding), `maxBatch`,
 * or `budgetSeconds` of this model's time.
 */
async function sweepModel(
  name: string,
  build: () => tfl.LayersModel,
  inputShape: number[],
  maxBatch: number,
  budgetSeconds: number,
): Promise<void> {
  const task = classificationTask(inputShape, 10);
  const model = build();
  const opt = new Adam({ learningRate: 1e-3 });
  const t0 = performance.now();
  const binding = gpuDevice()?.limits.maxStorageBufferBindingSize;
  const act = largestActivation(model);
  try {
    for (let B = 64; B <= maxBatch; B *= 2) {
      if ((performance.now() - t0) / 1000 > budgetSeconds || secondsLeft() < 60) {
        results.skipped.push(`batchSweep ${name}: B ≥ ${B} (time budget)`);
        break;
      }
      if (binding != null && 4 * act * B > Number(binding)) {
        const error = `not run: its largest activation, ${act} floats per example, would take ${4 * act * B} bytes, over maxStorageBufferBindingSize ${binding}`;
        results.batchSweep?.push({
          model: name,
          batchSize: B,
          msPerStep: null,
          examplesPerSecond: null,
          error,
        });
        log(`sweep ${name} B=${B}: ${error}`);
        break;
      }
      const batch = randomBatch(B, inputShape);
      const step = () =>
        trainStepAsync(model, opt, task, batch, { microBatchSize: B, learningRate: 1e-3 });
      let ms = 0;
      const error = await gpuErrorOf(async () => {
        ms = await msPerStep(step, Math.max(2, Math.min(10, Math.round(4096 / B))));
      });
      const point: SweepPoint =
        error == null
          ? { model: name, batchSize: B, msPerStep: ms, examplesPerSecond: (1000 * B) / ms }
          : { model: name, batchSize: B, msPerStep: null, examplesPerSecond: null, error };
      results.batchSweep?.push(point);
      log(
        error == null
          ? `sweep ${name} B=${B}: ${ms.toFixed(1)} ms/step, ${((1000 * B) / ms).toFixed(0)} examples/s`
          : `sweep ${name} B=${B}: does not run: ${error}`,
      );
      save();
      if (error != null) break;
    }
  } finally {
    model.dispose();
    opt.dispose();
  }
}

/**
 * One model's Adam step at one B with tfjs-backend-webgpu's own filter-gradient kernels and
 * with batchwise's replacements, side by side (warm-up for each, then timed steps).
 */
async function filterGrads(): Promise<void> {
  results.filterGrads = [];
  const cases: [string, () => tfl.LayersModel, number[], number][] = [
    [
      "CNN conv32-pool-conv64-gap-dense 28x28x1",
      () => gapCnn({ inputShape: [28, 28, 1], numClasses: 10 }),
      [28, 28, 1],
      1024,
    ],
    [
      "EfficientNet-B0 32x32x3",
      () => efficientNetB0({ inputShape: [32, 32, 3], numClasses: 10 }),
      [32, 32, 3],
      256,
    ],
  ];
  for (const [name, build, shape, B] of cases) {
    const model = build();
    const opt = new Adam({ learningRate: 1e-3 });
    const task = classificationTask(shape, 10);
    const batch = randomBatch(B, shape);
    const time = (ours: boolean) => {
      setWebGpuFilterGrads(ours);
      return msPerStep(
        () => trainStepAsync(model, opt, task, batch, { microBatchSize: B, learningRate: 1e-3 }),
        3,
      );
    };
    try {
      const msTfjs = await time(false);
      const msBatchwise = await time(true);
      results.filterGrads.push({ model: name, batchSize: B, msTfjs, msBatchwise });
      log(
        `filter gradients ${name} B=${B}: tfjs-backend-webgpu's ${msTfjs.toFixed(1)} ms/step, batchwise's ${msBatchwise.toFixed(1)} ms/step (${(msTfjs / msBatchwise).toFixed(2)}x)`,
      );
    } catch (e) {
      const error = (e as Error).message.split("\n")[0];
      results.filterGrads.push({
        model: name,
        batchSize: B,
        msTfjs: null,
        msBatchwise: null,
        error,
      });
      log(`filter gradients ${name}: error: ${error}`);
    } finally {
      setWebGpuFilterGrads(true);
      model.dispose();
      opt.dispose();
      save();
    }
  }
}

async function batchSweep(): Promise<void> {
  results.batchSweep = [];
  const budget = Math.max(15, Math.min(45, (secondsLeft() - 240) / 3));
  await sweepModel(
    "EfficientNet-B0 32x32x3",
    () => efficientNetB0({ inputShape: [32, 32, 3], numClasses: 10 }),
    [32, 32, 3],
    8192,
    budget,
  );
  await sweepModel(
    "main-job CNN (smallCnn) 28x28x1",
    () => smallCnn({ inputShape: [28, 28, 1], numClasses: 10 }),
    [28, 28, 1],
    65536,
    budget,
  );
  await sweepModel(
    "CNN conv32-pool-conv64-gap-dense 28x28x1",
    () => gapCnn({ inputShape: [28, 28, 1], numClasses: 10 }),
    [28, 28, 1],
    65536,
    budget,
  );
}

async function mainJobQuick(dataDir: string): Promise<void> {
  // One GPU is one replica: K = 1, the micro-batch size and the (B, K = 1) table measured as
  // the main job measures them (lib/jobs/common.ts measureMachine), written as machine.json.
  const config = parseCompareConfig({
    ...QUICK_OVERRIDES,
    dataDir,
    progress: false,
    replicas: "auto",
    maxReplicas: 1,
  });
  const data = fashionMnistSplits(config);
  const machine = await measureMachine(data, { ...config, maxReplicas: 1 });
  fs.writeFileSync(path.join(outDir, "machine.json"), JSON.stringify(machine, null, 2));
  const curve = machineThroughputCurve(machine.table);
  log(
    `main job quick: micro-batch ${machine.microBatchSize}; throughput ${curve.map((p) => `B=${p.batchSize}: ${p.examplesPerSecond.toFixed(0)}/s`).join(", ")} (measured in ${machine.probeSeconds.toFixed(1)} s)`,
  );
  const { runs } = await comparisonRuns(config, data, () => curve);
  results.mainJobQuick = [];
  const rows: RunLogRow[] = [];
  const estimator = noiseScaleEstimator({ datasetSize: data.trainDs.n });
  for (const run of runs) {
    const r = await runCnn({
      data,
      schedule: run.schedule,
      loop: run.loop,
      seed: config.seed,
      noise: config.noiseScale ? estimator : undefined,
      replicaPlan: machine,
      optimizer: run.optimizer,
    });
    rows.push(...r.rows);
    fs.writeFileSync(path.join(outDir, "runlog.json"), JSON.stringify(rows));
    const last = r.rows[r.rows.length - 1];
    const acc = [...r.rows].reverse().find((q) => q.testAccuracy != null)?.testAccuracy ?? null;
    const hit = r.rows.find((q) => (q.testAccuracy ?? -1) >= config.targetAccuracy);
    results.mainJobQuick.push({
      run: run.name,
      updates: last.step,
      examples: last.examples,
      wallClockSeconds: last.wallClock,
      testAccuracy: acc,
      secondsToTarget: hit?.wallClock ?? null,
      batchSizes: [...new Set(r.rows.map((q) => q.batchSize))],
    });
    log(
      `main job quick, ${run.name}: ${last.step} updates, ${last.wallClock.toFixed(1)} s, test accuracy ${acc}, B ${[...new Set(r.rows.map((q) => q.batchSize))].join("→")}, ${config.targetAccuracy} reached at ${hit != null ? `${hit.wallClock.toFixed(1)} s` : "never"}`,
    );
    save();
  }
}

/**
 * Notebook 4's comparison (notebooks/04-efficientnet-lamb.ipynb, full-mode sizes): the seed's
 * batch sizes and learning rates at equal training time, LAMB with weight decay 0.01 (none on
 * biases and normalisation), batch-norm momentum 0.9, micro-batches of at most 1024 (the GPU
 * holds the whole batch; 256 in --cpu-mode, as the notebook). Each B's shaders are compiled by untimed steps on a throwaway copy
 * first, so the timed runs measure training, not compilation.
 */
async function notebook4(dataDir: string): Promise<void> {
  const wanted = Number(arg("--notebook4-seconds") ?? 20);
  // 3T + T of training, plus evaluations and the warm-up: keep 45 s in hand
  const T = Math.min(wanted, (secondsLeft() - 45) / 4.5);
  if (!(T >= 3)) {
    results.skipped.push(`notebook4: ${secondsLeft().toFixed(0)} s left`);
    log(`notebook4: skipped (${secondsLeft().toFixed(0)} s left)`);
    return;
  }
  const data = fashionMnistSplits({ dataDir, trainSubset: 12_000, testSubset: 2000 });
  const { trainDs, train, test: val, task } = data;
  const trainProbe = probeSource(train, 2000 / trainDs.n, 1);
  const netOpts = {
    inputShape: trainDs.featureShape,
    numClasses: trainDs.numClasses,
    seed: 1,
    batchNormMomentum: 0.9,
  };
  const makeLamb = (lr: number) =>
    new Lamb({
      learningRate: lr,
      weightDecay: 0.01,
      excludeFromWeightDecay: [...BIAS_AND_NORM_PATTERNS],
    });
  // the GPU holds a whole batch of 1024; wasm's 4 GiB heap does not (notebook 4 uses 256)
  const micro = cpuMode ? 256 : 1024;
  const w0 = performance.now();
  {
    const net = efficientNetB0(netOpts);
    const opt = makeLamb(1e-3);
    for (const B of [64, 1024]) {
      const batch = train.batch(Int32Array.from({ length: B }, (_, i) => i));
      for (let i = 0; i < 2; i++) {
        await trainStepAsync(net, opt, task, batch, { microBatchSize: micro, learningRate: 1e-3 });
      }
    }
    await evaluateAsync(net, task, val, 1024);
    net.dispose();
    opt.dispose();
  }
  const warmUpSeconds = (performance.now() - w0) / 1000;
  results.notebook4 = {
    dataset: "Fashion-MNIST",
    trainExamples: trainDs.n,
    valExamples: 2000,
    seconds: T,
    warmUpSeconds,
    runs: [],
  };
  const record = async (
    label: string,
    B: number,
    lr: number,
    net: tfl.LayersModel,
    row: RunLogRow,
  ) => {
    const run = {
      label,
      batchSize: B,
      learningRate: lr,
      seconds: row.wallClock,
      updates: row.step,
      epochs: row.epoch,
      trainAccuracy: (await evaluateAsync(net, task, trainProbe, 1024)).accuracy,
      valAccuracy: (await evaluateAsync(net, task, val, 1024)).accuracy,
    };
    results.notebook4?.runs.push(run);
    log(
      `notebook4 ${label}: ${run.updates} updates, ${run.epochs.toFixed(2)} epochs in ${run.seconds.toFixed(1)} s; training accuracy ${run.trainAccuracy.toFixed(4)}, validation ${run.valAccuracy.toFixed(4)}`,
    );
    save();
  };
  for (const [B, lr, factor] of [
    [64, 1e-3, 3],
    [1024, 7e-3, 1],
  ] as const) {
    const net = efficientNetB0(netOpts);
    // at T the weights are copied (evaluation waits until the run ends: reads are asynchronous)
    let atT: { weights: tf.Tensor[]; row: RunLogRow } | null = null;
    const r = await trainForWallClock({
      model: net,
      optimizer: makeLamb(lr),
      task,
      train,
      test: val,
      schedule: constantSchedule({ batchSize: B }),
      config: {
        runName: `B=${B}, lr ${lr}`,
        examplesBudget: 1e12,
        learningRate: lr,
        microBatchSize: micro,
        evalEvery: 1e12,
        evalBatchSize: 1024,
      },
      seconds: factor * T,
      milestones: factor > 1 ? [T] : [],
      onMilestone: (_t, row) => {
        atT = { weights: net.getWeights().map((w) => w.clone()), row };
      },
    });
    const last = r.rows[r.rows.length - 1];
    const snapshot = atT as { weights: tf.Tensor[]; row: RunLogRow } | null;
    if (snapshot != null) {
      const final = net.getWeights().map((w) => w.clone());
      net.setWeights(snapshot.weights);
      await record(`B=${B}, time T`, B, lr, net, snapshot.row);
      net.setWeights(final);
      tf.dispose([...snapshot.weights, ...final]);
    }
    await record(factor > 1 ? `B=${B}, time ${factor}T` : `B=${B}, time T`, B, lr, net, last);
    net.dispose();
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
  const limits = gpuDevice()?.limits;
  results.backend = {
    name: info.name,
    tfName: info.tfName,
    description: describeBackend(info),
    webgpuUnavailable,
    ...(limits != null
      ? {
          limits: Object.fromEntries(
            ["maxBufferSize", "maxStorageBufferBindingSize"].map((k) => [k, Number(limits[k])]),
          ),
        }
      : {}),
  };
  log(describeBackend(info));
  save();
  if (!cpuMode && webgpuUnavailable != null) {
    // timing the CPU here would only spend the GPU machine's minutes
    results.errors.push(`no WebGPU adapter: ${webgpuUnavailable}`);
    results.finished = new Date().toISOString();
    save();
    log("checks stopped: no WebGPU adapter (GPU mode); --cpu-mode runs the CPU-side checks");
    process.exit(3);
  }
  const dataDir = arg("--data") ?? path.join(__dirname, "data", "fashion-mnist");
  const all: [string, () => Promise<void>][] = [
    ["kernels", () => checkKernels(info.tfName)],
    ["bench", bench],
    ["filterGrads", filterGrads],
    ["batchSweep", batchSweep],
    ["efficientNetLamb", efficientNetThroughput],
    ["mainJobQuick", () => mainJobQuick(dataDir)],
    ["notebook4", () => notebook4(dataDir)],
  ];
  const chosen =
    arg("--steps")?.split(",") ?? (cpuMode ? ["kernels", "bench"] : all.map((s) => s[0]));
  const unknown = chosen.filter((c) => !all.some((s) => s[0] === c));
  if (unknown.length > 0) throw new Error(`--steps: unknown step(s) ${unknown.join(", ")}`);
  const steps = all.filter((s) => chosen.includes(s[0]));
  for (const [name, step] of steps) {
    if (secondsLeft() < 20) {
      results.skipped.push(`${name}: ${secondsLeft().toFixed(0)} s of --limit left`);
      log(`${name}: skipped, ${secondsLeft().toFixed(0)} s of --limit left`);
      continue;
    }
    log(
      `step ${name} (${Number.isFinite(secondsLeft()) ? `${secondsLeft().toFixed(0)} s left` : "no limit"})`,
    );
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
