/**
 * Timing of batchwise's SIMD kernels (lib/backend/kernels/simd-kernels.ts) against the stock
 * tfjs wasm kernel (where one exists) and the `cpu` backend, on the sizes training hits:
 * MBConv-like depthwise convolutions, the CNN's 2×2 pool, an embedding of 65 × 64.
 *
 * Run: `npx tsx bench/simd-kernels.ts` (after `npm run build:wasm`). Prints ms per call.
 */
import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "../lib/backend";
import { simdKernelConfigs } from "../lib/backend/kernels/simd-kernels";

type Inputs = Record<string, { shape: number[]; dtype?: "float32" | "int32"; max?: number }>;
interface Case {
  kernel: string;
  label: string;
  inputs: Inputs;
  attrs: tf.NamedAttrMap;
  /** Tensors derived from the inputs (e.g. MaxPoolGrad's `output`). */
  derive?: (t: Record<string, tf.Tensor>) => Record<string, tf.Tensor>;
}

const dw = (k: number, s: number): Case => ({
  kernel: "DepthwiseConv2dNativeBackpropFilter",
  label: `x [64,16,16,96] ${k}×${k} s${s} same`,
  inputs: { x: { shape: [64, 16, 16, 96] }, dy: { shape: [64, 16 / s, 16 / s, 96] } },
  attrs: { strides: s, dilations: 1, pad: "same", filterShape: [k, k, 96, 1] },
});

const CASES: Case[] = [
  dw(3, 1),
  dw(3, 2),
  dw(5, 1),
  dw(5, 2),
  {
    kernel: "MaxPoolGrad",
    label: "x [64,26,26,32] 2×2 s2 valid",
    inputs: { input: { shape: [64, 26, 26, 32] }, dy: { shape: [64, 13, 13, 32] } },
    attrs: { filterSize: 2, strides: 2, pad: "valid" },
    derive: (t) => ({ output: tf.maxPool(t.input as tf.Tensor4D, 2, 2, "valid") }),
  },
  {
    kernel: "MaxPoolGrad",
    label: "x [64,16,16,96] 3×3 s2 same",
    inputs: { input: { shape: [64, 16, 16, 96] }, dy: { shape: [64, 8, 8, 96] } },
    attrs: { filterSize: 3, strides: 2, pad: "same" },
    derive: (t) => ({ output: tf.maxPool(t.input as tf.Tensor4D, 3, 2, "same") }),
  },
  {
    kernel: "AvgPoolGrad",
    label: "x [64,26,26,32] 2×2 s2 valid",
    inputs: { input: { shape: [64, 26, 26, 32] }, dy: { shape: [64, 13, 13, 32] } },
    attrs: { filterSize: 2, strides: 2, pad: "valid" },
  },
  {
    kernel: "UnsortedSegmentSum",
    label: "x [8192,64] → 65 segments",
    inputs: { x: { shape: [8192, 64] }, segmentIds: { shape: [8192], dtype: "int32", max: 65 } },
    attrs: { numSegments: 65 },
  },
  {
    kernel: "GatherV2",
    label: "params [65,64], 8192 indices",
    inputs: { x: { shape: [65, 64] }, indices: { shape: [8192], dtype: "int32", max: 65 } },
    attrs: { axis: 0, batchDims: 0 },
  },
  {
    kernel: "GatherV2",
    label: "params [1000,64], 8192 indices",
    inputs: { x: { shape: [1000, 64] }, indices: { shape: [8192], dtype: "int32", max: 1000 } },
    attrs: { axis: 0, batchDims: 0 },
  },
];

function makeInputs(c: Case): Record<string, tf.Tensor> {
  const t: Record<string, tf.Tensor> = {};
  for (const [name, spec] of Object.entries(c.inputs)) {
    t[name] =
      spec.dtype === "int32"
        ? tf.randomUniform(spec.shape, 0, spec.max ?? 1, "int32", 1)
        : tf.randomNormal(spec.shape, 0, 1, "float32", 2);
  }
  return { ...t, ...(c.derive?.(t) ?? {}) };
}

/** Mean ms per call of f (its result is disposed), after one warm-up call, for ≥ minMs. */
function timeIt(f: () => tf.Tensor | tf.TensorInfo, minMs: number, maxReps = 200): number {
  const run = () => {
    const out = f();
    // A kernelFunc called directly returns a bare TensorInfo; wrap it to dispose it.
    (out instanceof tf.Tensor ? out : tf.engine().makeTensorFromTensorInfo(out)).dispose();
  };
  run();
  let reps = 0;
  const t0 = performance.now();
  while (reps < maxReps && (reps < 3 || performance.now() - t0 < minMs)) {
    run();
    reps++;
  }
  return (performance.now() - t0) / reps;
}

async function main(): Promise<void> {
  await initBackend("wasm", { kernelPack: false });
  await tf.setBackend("wasm");
  const stock = new Map<string, tf.KernelConfig>();
  for (const cfg of simdKernelConfigs()) {
    const existing = tf.getKernel(cfg.kernelName, "wasm");
    if (existing != null) {
      stock.set(cfg.kernelName, existing);
      tf.unregisterKernel(cfg.kernelName, "wasm");
    }
    tf.registerKernel({ ...cfg, setupFunc: cfg.setupFunc ?? existing?.setupFunc });
  }

  const rows: string[][] = [["kernel", "case", "SIMD ms", "stock wasm ms", "cpu ms", "speed-up"]];
  for (const c of CASES) {
    await tf.setBackend("wasm");
    const ins = makeInputs(c);
    const backend = tf.backend();
    const simd = timeIt(() => tf.engine().runKernel(c.kernel, ins, c.attrs) as tf.TensorInfo, 1000);
    const st = stock.get(c.kernel);
    const stockMs =
      st == null
        ? NaN
        : timeIt(
            () => st.kernelFunc({ inputs: ins, backend, attrs: c.attrs }) as tf.TensorInfo,
            1000,
          );
    tf.dispose(Object.values(ins));

    await tf.setBackend("cpu");
    const cins = makeInputs(c);
    const cpu = timeIt(() => tf.engine().runKernel(c.kernel, cins, c.attrs) as tf.Tensor, 2000, 3);
    tf.dispose(Object.values(cins));
    const base = Number.isNaN(stockMs) ? cpu : stockMs;
    rows.push([
      c.kernel,
      c.label,
      simd.toFixed(2),
      Number.isNaN(stockMs) ? "(missing)" : stockMs.toFixed(2),
      cpu.toFixed(1),
      `${(base / simd).toFixed(1)}× vs ${Number.isNaN(stockMs) ? "cpu" : "stock"}`,
    ]);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  for (const [k, r] of rows.entries()) {
    console.log(r.map((v, i) => (i < 2 ? v.padEnd(widths[i]) : v.padStart(widths[i]))).join("  "));
    if (k === 0) console.log(widths.map((w) => "-".repeat(w)).join("  "));
  }
  console.log(`tensors alive at exit: ${tf.memory().numTensors} (expected 0)`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
