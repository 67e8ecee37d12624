/**
 * The SIMD kernels (lib/backend/kernels/simd-kernels.ts) against the `cpu` backend on seeded
 * random inputs, through the public ops and their gradients and through direct
 * `runKernel` calls, with leak checks.
 *
 * Tolerance: max|wasm − cpu| ≤ 1e-4·(1 + max|cpu|). Outputs are float32 sums of at most a few
 * thousand products of N(0,1) values; summation-order differences are ~1e-6 relative, while
 * an indexing or padding error gives O(1) errors. Pool and gather results are exact.
 */
import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "../../lib/backend";
import { simdKernelConfigs } from "../../lib/backend/kernels/simd-kernels";

const TOL = 1e-4;

type Data = { values: Float32Array | Int32Array; shape: number[]; dtype?: "float32" | "int32" };
type Result = { values: Float32Array; shape: number[] };

let registered: tf.KernelConfig[] = [];

/** Registers the SIMD configs on wasm as lib/backend/kernels/index.ts does. */
function registerSimdKernels(): void {
  registered = simdKernelConfigs();
  for (const cfg of registered) {
    const existing = tf.getKernel(cfg.kernelName, "wasm");
    if (existing != null) tf.unregisterKernel(cfg.kernelName, "wasm");
    tf.registerKernel({ ...cfg, setupFunc: cfg.setupFunc ?? existing?.setupFunc });
  }
}

before(async () => {
  await initBackend("wasm", { kernelPack: false });
  registerSimdKernels();
});

function wasmDataIds(): number {
  return (tf.findBackend("wasm") as tf.KernelBackend).numDataIds();
}

/** Runs f on `backend` with fresh input tensors; checks nothing leaks (tensors, wasm data). */
async function runOn(
  backend: "cpu" | "wasm",
  inputs: Data[],
  f: (...xs: tf.Tensor[]) => tf.Tensor,
) {
  await tf.setBackend(backend);
  const tensors = tf.memory().numTensors;
  const ids = wasmDataIds();
  const xs = inputs.map((i) => tf.tensor(i.values, i.shape, i.dtype ?? "float32"));
  const out = tf.tidy(() => f(...xs));
  const result: Result = { values: Float32Array.from(out.dataSync()), shape: out.shape };
  out.dispose();
  xs.forEach((x) => x.dispose());
  assert.equal(tf.memory().numTensors, tensors, `${backend}: tensors leaked`);
  assert.equal(wasmDataIds(), ids, `${backend}: wasm heap buffers leaked`);
  return result;
}

function assertClose(a: Result, b: Result, what: string, tol = TOL): void {
  assert.deepEqual(a.shape, b.shape, `${what}: shape`);
  let maxRef = 0;
  let maxErr = 0;
  for (let i = 0; i < b.values.length; i++) {
    maxRef = Math.max(maxRef, Math.abs(b.values[i]));
    const e = Math.abs(a.values[i] - b.values[i]);
    maxErr = Number.isNaN(e) ? Infinity : Math.max(maxErr, e);
  }
  assert.ok(
    maxErr <= tol * (1 + maxRef),
    `${what}: max abs error ${maxErr.toExponential(2)} > ${tol}·(1 + ${maxRef.toFixed(3)})`,
  );
}

/** wasm (SIMD kernels) vs cpu on the same inputs. */
async function compare(inputs: Data[], f: (...xs: tf.Tensor[]) => tf.Tensor, what: string) {
  const w = await runOn("wasm", inputs, f);
  const c = await runOn("cpu", inputs, f);
  assertClose(w, c, what);
  return w;
}

let seed = 12345;
/** Seeded N(0,1)-ish values (Box–Muller on an LCG). */
function randn(n: number, quantize = false): Float32Array {
  let s = seed++ >>> 0;
  const u = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s + 0.5) / 4294967296;
  };
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const v = Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
    out[i] = quantize ? Math.round(v) : v; // quantized values make ties in max pooling
  }
  return out;
}

function randInts(n: number, lo: number, hi: number): Int32Array {
  const r = randn(n);
  return Int32Array.from(r, (v) => lo + (Math.floor(Math.abs(v) * 7919) % (hi - lo)));
}

const size = (s: number[]) => s.reduce((p, q) => p * q, 1);

/** Output shape of f on zero inputs (on the current backend). */
function shapeOf(f: () => tf.Tensor): number[] {
  return tf.tidy(() => f().shape);
}

test("the SIMD kernels are the registered wasm kernels", () => {
  assert.deepEqual(
    registered.map((c) => c.kernelName),
    [
      "DepthwiseConv2dNativeBackpropFilter",
      "MaxPoolGrad",
      "AvgPoolGrad",
      "UnsortedSegmentSum",
      "GatherV2",
    ],
  );
  for (const cfg of registered) {
    assert.equal(tf.getKernel(cfg.kernelName, "wasm")?.kernelFunc, cfg.kernelFunc, cfg.kernelName);
  }
});

// ----------------------------------------------------------------------------------------

type ConvCase = { n: number; h: number; w: number; c: number; m: number; k: number; s: number };
const PADS = ["same", "valid"] as const;

function convCases(): ConvCase[] {
  const cases: ConvCase[] = [];
  for (const k of [1, 3, 5]) {
    for (const s of [1, 2]) cases.push({ n: 2, h: 9, w: 11, c: 19, m: 1, k, s });
  }
  cases.push({ n: 3, h: 8, w: 8, c: 32, m: 1, k: 3, s: 2 }); // even size, C % 16 = 0
  cases.push({ n: 1, h: 7, w: 6, c: 4, m: 1, k: 5, s: 1 }); // C = 4, filter ~ image
  cases.push({ n: 2, h: 6, w: 7, c: 3, m: 1, k: 3, s: 1 }); // scalar channels only
  cases.push({ n: 2, h: 7, w: 5, c: 3, m: 2, k: 3, s: 2 }); // channel multiplier 2
  cases.push({ n: 1, h: 5, w: 5, c: 5, m: 3, k: 1, s: 1 }); // multiplier 3, 1×1
  return cases;
}

describe("DepthwiseConv2dNativeBackpropFilter", () => {
  test("matches cpu through tf.grad and runKernel (k 1/3/5, stride 1/2, same/valid)", async () => {
    for (const cc of convCases()) {
      for (const pad of PADS) {
        const xShape = [cc.n, cc.h, cc.w, cc.c];
        const fShape = [cc.k, cc.k, cc.c, cc.m];
        const conv = (x: tf.Tensor, f: tf.Tensor) =>
          tf.depthwiseConv2d(x as tf.Tensor4D, f as tf.Tensor4D, cc.s, pad);
        const yShape = shapeOf(() => conv(tf.zeros(xShape), tf.zeros(fShape)));
        const inputs: Data[] = [
          { values: randn(size(xShape)), shape: xShape },
          { values: randn(size(fShape)), shape: fShape },
          { values: randn(size(yShape)), shape: yShape },
        ];
        const what = `${JSON.stringify(cc)} ${pad}`;
        await compare(
          inputs,
          (x, f, dy) => tf.grad((fv: tf.Tensor) => conv(x, fv))(f, dy),
          `grad ${what}`,
        );
        await compare(
          inputs,
          (x, _f, dy) =>
            tf
              .engine()
              .runKernel(
                "DepthwiseConv2dNativeBackpropFilter",
                { x, dy },
                { strides: cc.s, dilations: 1, pad, filterShape: fShape },
              ) as tf.Tensor,
          `runKernel ${what}`,
        );
      }
    }
  });

  test("explicit padding and dimRoundingMode match cpu", async () => {
    const xShape: [number, number, number, number] = [2, 10, 9, 6];
    const fShape: [number, number, number, number] = [3, 3, 6, 1];
    const cases: {
      pad: number | tf.backend_util.ExplicitPadding;
      s: number;
      dimRoundingMode?: "ceil" | "floor";
    }[] = [
      {
        pad: [
          [0, 0],
          [2, 1],
          [0, 2],
          [0, 0],
        ] as tf.backend_util.ExplicitPadding,
        s: 2,
      },
      { pad: 1, s: 2, dimRoundingMode: "ceil" },
      { pad: 0, s: 3, dimRoundingMode: "floor" },
    ];
    for (const cs of cases) {
      const attrs = {
        strides: cs.s,
        dilations: 1,
        pad: cs.pad,
        dimRoundingMode: cs.dimRoundingMode,
        filterShape: fShape,
      };
      const yShape = shapeOf(() =>
        tf.depthwiseConv2d(
          tf.zeros(xShape) as tf.Tensor4D,
          tf.zeros(fShape) as tf.Tensor4D,
          cs.s,
          cs.pad,
          "NHWC",
          1,
          cs.dimRoundingMode,
        ),
      );
      const inputs: Data[] = [
        { values: randn(size(xShape)), shape: xShape },
        { values: randn(size(yShape)), shape: yShape },
      ];
      await compare(
        inputs,
        (x, dy) =>
          tf
            .engine()
            .runKernel(
              "DepthwiseConv2dNativeBackpropFilter",
              { x, dy },
              attrs as unknown as tf.NamedAttrMap,
            ) as tf.Tensor,
        `explicit ${JSON.stringify(cs)}`,
      );
    }
  });

  test("dilation 2 matches a naive reference (tfjs's cpu kernel ignores dilations)", async () => {
    const [n, h, w, c, k, d] = [2, 9, 8, 6, 3, 2];
    const x = randn(n * h * w * c);
    // 'same' with dilation 2, stride 1: effective filter 5, pad 2 on each side.
    const [ho, wo, pad] = [h, w, 2];
    const dy = randn(n * ho * wo * c);
    const ref = new Float32Array(k * k * c);
    for (let i = 0; i < k; i++)
      for (let j = 0; j < k; j++)
        for (let ch = 0; ch < c; ch++) {
          let s = 0;
          for (let b = 0; b < n; b++)
            for (let oh = 0; oh < ho; oh++)
              for (let ow = 0; ow < wo; ow++) {
                const ih = oh - pad + i * d;
                const iw = ow - pad + j * d;
                if (ih < 0 || ih >= h || iw < 0 || iw >= w) continue;
                s += x[((b * h + ih) * w + iw) * c + ch] * dy[((b * ho + oh) * wo + ow) * c + ch];
              }
          ref[(i * k + j) * c + ch] = s;
        }
    const got = await runOn(
      "wasm",
      [
        { values: x, shape: [n, h, w, c] },
        { values: dy, shape: [n, ho, wo, c] },
      ],
      (xt, dyt) =>
        tf
          .engine()
          .runKernel(
            "DepthwiseConv2dNativeBackpropFilter",
            { x: xt, dy: dyt },
            { strides: 1, dilations: d, pad: "same", filterShape: [k, k, c, 1] },
          ) as tf.Tensor,
    );
    assertClose(got, { values: ref, shape: [k, k, c, 1] }, "dilation 2");
  });

  test("rejects a dy whose shape does not match the geometry", async () => {
    await tf.setBackend("wasm");
    const before = tf.memory().numTensors;
    const ids = wasmDataIds();
    tf.tidy(() => {
      const x = tf.zeros([1, 8, 8, 4]);
      const dy = tf.zeros([1, 8, 8, 4]);
      assert.throws(
        () =>
          tf
            .engine()
            .runKernel(
              "DepthwiseConv2dNativeBackpropFilter",
              { x, dy },
              { strides: 2, dilations: 1, pad: "same", filterShape: [3, 3, 4, 1] },
            ),
        /dy has shape \[1,8,8,4\], expected \[1,4,4,4\]/,
      );
    });
    assert.equal(tf.memory().numTensors, before);
    assert.equal(wasmDataIds(), ids);
  });
});

// ----------------------------------------------------------------------------------------

type PoolCase = { n: number; h: number; w: number; c: number; k: number; s: number };

function poolCases(): PoolCase[] {
  const cases: PoolCase[] = [];
  for (const k of [1, 3, 5]) {
    for (const s of [1, 2]) cases.push({ n: 2, h: 9, w: 11, c: 6, k, s });
  }
  cases.push({ n: 3, h: 26, w: 26, c: 8, k: 2, s: 2 }); // the CNN's pool
  cases.push({ n: 2, h: 7, w: 8, c: 17, k: 2, s: 1 }); // overlapping windows, C % 4 = 1
  cases.push({ n: 1, h: 5, w: 5, c: 1, k: 3, s: 2 }); // one channel
  return cases;
}

for (const kind of ["max", "avg"] as const) {
  const kernel = kind === "max" ? "MaxPoolGrad" : "AvgPoolGrad";
  describe(kernel, () => {
    test("matches cpu through tf.grad and runKernel (k 1/3/5, stride 1/2, same/valid)", async () => {
      for (const pc of poolCases()) {
        for (const pad of PADS) {
          const xShape = [pc.n, pc.h, pc.w, pc.c];
          const pool = (x: tf.Tensor) =>
            kind === "max"
              ? tf.maxPool(x as tf.Tensor4D, pc.k, pc.s, pad)
              : tf.avgPool(x as tf.Tensor4D, pc.k, pc.s, pad);
          const yShape = shapeOf(() => pool(tf.zeros(xShape)));
          // Quantized x makes ties, testing that the first maximum wins.
          for (const quantize of kind === "max" ? [false, true] : [false]) {
            const inputs: Data[] = [
              { values: randn(size(xShape), quantize), shape: xShape },
              { values: randn(size(yShape)), shape: yShape },
            ];
            const what = `${JSON.stringify(pc)} ${pad}${quantize ? " ties" : ""}`;
            await compare(inputs, (x, dy) => tf.grad(pool)(x, dy), `grad ${what}`);
            const attrs = { filterSize: pc.k, strides: pc.s, pad };
            await compare(
              inputs,
              (x, dy) =>
                tf
                  .engine()
                  .runKernel(
                    kernel,
                    kind === "max" ? { dy, input: x, output: pool(x) } : { dy, input: x },
                    attrs,
                  ) as tf.Tensor,
              `runKernel ${what}`,
            );
          }
        }
      }
    });
  });
}

test("MaxPoolGrad: a window of only -Infinity passes no gradient (as on cpu)", async () => {
  const inf = -Infinity;
  // x rows: [-inf, -inf, -inf, 3], [-inf, -inf, -inf, 4]; 2×2 windows, stride 2.
  // Window 1 = {-inf ×4}: no maximum, no gradient. Window 2 = {-inf, 3, -inf, 4}: max 4.
  const inputs: Data[] = [
    { values: new Float32Array([inf, inf, inf, 3, inf, inf, inf, 4]), shape: [1, 2, 4, 1] },
    { values: new Float32Array([5, 7]), shape: [1, 1, 2, 1] },
  ];
  const got = await compare(
    inputs,
    (xt, dy) =>
      tf
        .engine()
        .runKernel(
          "MaxPoolGrad",
          { dy, input: xt, output: tf.maxPool(xt as tf.Tensor4D, 2, 2, "valid") },
          { filterSize: 2, strides: 2, pad: "valid" },
        ) as tf.Tensor,
    "-inf window",
  );
  assert.deepEqual(Array.from(got.values), [0, 0, 0, 0, 0, 0, 0, 7]);
});

// ----------------------------------------------------------------------------------------

describe("UnsortedSegmentSum", () => {
  test("matches cpu for float32 and int32 rows, including dropped out-of-range ids", async () => {
    const cases = [
      { rest: [64], n: 200, segs: 65 }, // embedding gradient, row of 16 vectors
      { rest: [3, 7], n: 50, segs: 9 }, // rows of 21 (vector + scalar tail)
      { rest: [2], n: 10, segs: 4 }, // rows shorter than a vector
      { rest: [5], n: 0, segs: 3 }, // no rows: zeros
    ];
    for (const cs of cases) {
      for (const dtype of ["float32", "int32"] as const) {
        const xShape = [cs.n, ...cs.rest];
        const xs = randn(size(xShape));
        const inputs: Data[] = [
          {
            values: dtype === "int32" ? Int32Array.from(xs, (v) => Math.round(v * 100)) : xs,
            shape: xShape,
            dtype,
          },
          { values: randInts(cs.n, -1, cs.segs + 1), shape: [cs.n], dtype: "int32" },
        ];
        const what = `${JSON.stringify(cs)} ${dtype}`;
        await compare(
          inputs,
          (x, ids) => tf.unsortedSegmentSum(x, ids as tf.Tensor1D, cs.segs),
          what,
        );
      }
    }
  });

  test("gradient of gather (embedding lookup) matches cpu", async () => {
    for (const rows of [65, 300]) {
      const inputs: Data[] = [
        { values: randn(rows * 64), shape: [rows, 64] },
        { values: randInts(16 * 32, 0, rows), shape: [16, 32], dtype: "int32" },
        { values: randn(16 * 32 * 64), shape: [16, 32, 64] },
      ];
      await compare(
        inputs,
        (p, idx, dy) => tf.grad((pv: tf.Tensor) => tf.gather(pv, idx))(p, dy),
        `gather grad rows=${rows}`,
      );
    }
  });

  test("rejects bad arguments with clear messages", async () => {
    await tf.setBackend("wasm");
    tf.tidy(() => {
      const x = tf.zeros([4, 3]);
      assert.throws(
        () =>
          tf
            .engine()
            .runKernel(
              "UnsortedSegmentSum",
              { x, segmentIds: tf.zeros([3], "int32") },
              { numSegments: 2 },
            ),
        /segmentIds must have shape \[4\]/,
      );
      assert.throws(
        () =>
          tf
            .engine()
            .runKernel(
              "UnsortedSegmentSum",
              { x: tf.zeros([4, 3], "bool"), segmentIds: tf.zeros([4], "int32") },
              { numSegments: 2 },
            ),
        /x must be float32 or int32, got bool/,
      );
    });
  });
});

// ----------------------------------------------------------------------------------------

describe("GatherV2", () => {
  test("matches cpu for each axis, dtype and indices shape", async () => {
    const cases = [
      { x: [65, 64], idx: [64, 128], axis: 0 }, // embedding lookup
      { x: [10, 3], idx: [7], axis: 0 }, // 12-byte rows (memory.copy path)
      { x: [5, 300], idx: [9], axis: 0 }, // 1200-byte rows (memory.copy path)
      { x: [4, 6, 8], idx: [2, 5], axis: 1 }, // middle axis
      { x: [3, 4, 5], idx: [6], axis: -1 }, // last axis, negative
      { x: [6], idx: [3, 3], axis: 0 }, // rank-1 params
      { x: [4, 0], idx: [2], axis: 0 }, // empty rows
    ];
    for (const cs of cases) {
      for (const dtype of ["float32", "int32"] as const) {
        const ax = cs.axis < 0 ? cs.x.length + cs.axis : cs.axis;
        const xs = randn(size(cs.x));
        const inputs: Data[] = [
          {
            values: dtype === "int32" ? Int32Array.from(xs, (v) => Math.round(v * 100)) : xs,
            shape: cs.x,
            dtype,
          },
          { values: randInts(size(cs.idx), 0, cs.x[ax]), shape: cs.idx, dtype: "int32" },
        ];
        await compare(inputs, (x, i) => tf.gather(x, i, cs.axis), `${JSON.stringify(cs)} ${dtype}`);
      }
    }
  });

  test("bool params, and batchDims 1 falls back to the stock kernel", async () => {
    const inputs: Data[] = [
      { values: Int32Array.from([1, 0, 0, 1, 1, 1]), shape: [2, 3], dtype: "int32" },
      { values: Int32Array.from([2, 2, 0, 1]), shape: [2, 2], dtype: "int32" },
    ];
    await compare(
      inputs,
      (x, i) =>
        tf.cast(
          tf.gather(tf.cast(x, "bool"), tf.reshape(tf.slice(i, [0, 0], [1, 2]), [2]), 1),
          "int32",
        ),
      "bool",
    );
    await compare(inputs, (x, i) => tf.gather(tf.cast(x, "float32"), i, 1, 1), "batchDims 1");
  });

  test("an out-of-range index throws the stock message and leaks nothing", async () => {
    await tf.setBackend("wasm");
    const before = tf.memory().numTensors;
    const ids = wasmDataIds();
    tf.tidy(() => {
      const x = tf.zeros([5, 4]);
      assert.throws(
        () => tf.gather(x, tf.tensor1d([0, 4, 5, 1], "int32")),
        /GatherV2: the index value 5 is not in \[0, 4\]/,
      );
      assert.throws(
        () => tf.gather(x, tf.tensor1d([-1], "int32")),
        /GatherV2: the index value -1 is not in \[0, 4\]/,
      );
    });
    assert.equal(tf.memory().numTensors, before);
    assert.equal(wasmDataIds(), ids);
  });

  test("configs created again after registration still reach the stock kernel", async () => {
    registerSimdKernels(); // captures the stock GatherV2 through the registered override
    const inputs: Data[] = [
      { values: randn(24), shape: [2, 3, 4] },
      { values: Int32Array.from([2, 0, 1, 1]), shape: [2, 2], dtype: "int32" },
    ];
    await compare(inputs, (x, i) => tf.gather(x, i, 1, 1), "batchDims 1 after re-registration");
  });
});
