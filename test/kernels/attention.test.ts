/**
 * Kernels added for attention and transformer training: batched BatchMatMul (SIMD), the
 * last-two-axes Transpose (SIMD), the 1×1 Conv2DBackpropInput matmul path, and the pack's
 * Tile gradient — each against the cpu backend (or tfjs-core's own gradient) on random
 * inputs; `runOn` also checks that no tensor leaks.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { tileGradConfig as stockTileGrad } from "@tensorflow/tfjs-core/dist/gradients/Tile_grad";
import { assertClose, randn, runOn, useWasmWithPack } from "../helpers/backends";
import { batchPlan } from "../../lib/backend/kernels/matmul";
import { coalescePermutation } from "../../lib/backend/kernels/transpose";
import { tileGrad } from "../../lib/backend/kernels/gradients";
import { CausalSelfAttention, causalMask } from "../../lib/models/layers";

/**
 * Sets `layer`'s weights to `w`, then returns d(Σ layer(x)·dy)/d(x, weights), flattened and
 * concatenated (so one comparison covers every gradient).
 */
function gradsOf(layer: tfl.layers.Layer, x: tf.Tensor, w: tf.Tensor[], dy: tf.Tensor): tf.Tensor {
  layer.setWeights(w);
  const loss = (xv: tf.Tensor) => tf.sum(tf.mul(layer.apply(xv) as tf.Tensor, dy)) as tf.Scalar;
  const dx = tf.grad(loss)(x);
  const vars = layer.trainableWeights.map((v) => v.read() as tf.Variable);
  const { grads } = tf.variableGrads(() => loss(x), vars);
  return tf.concat([dx, ...vars.map((v) => grads[v.name])].map((z) => tf.reshape(z, [-1])));
}

// Matmul outputs are sums of up to 130 products of N(0,1) values (|result| ≲ 40); float32
// summation-order differences are ~1e-6 relative, an indexing error is O(1): 1e-4 relative
// to the reference's scale separates them.
const TOL = 1e-4;

const size = (s: number[]) => s.reduce((p, q) => p * q, 1);
let seed = 900;
const input = (shape: number[]) => ({ values: randn(size(shape), seed++), shape });

test("batched BatchMatMul (SIMD 4×8 tiles) matches the cpu backend: tails, transposes, broadcasts", async () => {
  await useWasmWithPack();
  const cases: [number[], number[], boolean, boolean][] = [
    [[3, 8, 5], [3, 5, 16], false, false], // exact 4×8 tiles
    [[3, 7, 5], [3, 5, 13], false, false], // row tail 3, column tails 4 + 1
    [[2, 1, 9], [2, 9, 3], false, false], // m = 1, n < 4: scalar tiles only
    [[4, 33, 17], [4, 17, 30], false, false],
    [[5, 12, 6], [5, 12, 10], true, false], // transposeA
    [[5, 12, 6], [5, 10, 6], false, true], // transposeB (Q·Kᵀ)
    [[5, 6, 12], [5, 10, 6], true, true],
    [[2, 3, 7, 5], [2, 3, 5, 9], false, false], // two batch axes
    [[1, 7, 5], [6, 5, 9], false, false], // unbatched A times batched B (stride 0)
    [[7, 5], [6, 5, 9], false, false], // rank-2 A broadcast over B's batch
    [[6, 7, 5], [1, 9, 5], false, true], // batched A, B with batch 1 and transposeB
    [[16, 128, 32], [16, 128, 32], false, true], // one head-batch of attention
    [[3, 4, 0], [3, 0, 5], false, false], // k = 0: zeros
  ];
  for (const [sa, sb, ta, tb] of cases) {
    const a = input(sa);
    const b = input(sb);
    const f = (x: tf.Tensor, y: tf.Tensor) => tf.matMul(x, y, ta, tb);
    assertClose(
      await runOn("wasm", [a, b], f),
      await runOn("cpu", [a, b], f),
      TOL,
      `matMul ${sa} ${sb} ${ta} ${tb}`,
    );
  }
});

test("batchPlan handles equal or unit batch shapes and declines other broadcasts", () => {
  assert.deepEqual(batchPlan([2, 3], [2, 3]), {
    outBatchShape: [2, 3],
    batch: 6,
    aBroadcast: false,
    bBroadcast: false,
  });
  assert.equal(batchPlan([1], [4])?.aBroadcast, true);
  assert.equal(batchPlan([], [4])?.batch, 4);
  assert.equal(batchPlan([2, 1], [1, 3]), null); // a true broadcast: stock kernel
  assert.equal(batchPlan([2], [3]), null); // incompatible: stock kernel raises tfjs's error
});

test("BatchMatMul with incompatible batched shapes still raises tfjs's error", async () => {
  await useWasmWithPack();
  await tf.setBackend("wasm");
  assert.throws(() => tf.tidy(() => tf.matMul(tf.ones([2, 3, 4]), tf.ones([2, 5, 6]))), /inner/);
});

test("Transpose (SIMD last-two-axes swap) matches the cpu backend exactly, float32 and int32", async () => {
  await useWasmWithPack();
  const cases: [number[], number[]][] = [
    [
      [37, 29],
      [1, 0],
    ],
    [
      [5, 37, 29],
      [0, 2, 1],
    ],
    [
      [2, 3, 8, 12],
      [0, 1, 3, 2],
    ], // leading axes merge into one batch axis
    [
      [64, 1, 20],
      [2, 1, 0],
    ], // size-1 axis dropped → a 2-D swap
    [
      [3, 4, 5],
      [1, 0, 2],
    ], // not a last-two swap: stock kernel
    [
      [2, 3, 4, 5],
      [0, 2, 1, 3],
    ], // attention's head split: stock kernel
    [
      [4, 4],
      [0, 1],
    ], // identity
    [
      [0, 3],
      [1, 0],
    ], // empty
  ];
  for (const [shape, perm] of cases) {
    const x = input(shape);
    const f = (t: tf.Tensor) => tf.transpose(t, perm);
    assertClose(
      await runOn("wasm", [x], f),
      await runOn("cpu", [x], f),
      0,
      `transpose ${shape} ${perm}`,
    );
    const g = (t: tf.Tensor) =>
      tf.cast(tf.transpose(tf.cast(tf.mul(t, 100), "int32"), perm), "float32");
    assertClose(
      await runOn("wasm", [x], g),
      await runOn("cpu", [x], g),
      0,
      `transpose int32 ${shape} ${perm}`,
    );
  }
});

test("coalescePermutation drops unit axes and merges adjacent runs", () => {
  assert.deepEqual(coalescePermutation([2, 3, 4, 5], [0, 1, 3, 2]), {
    shape: [6, 4, 5],
    perm: [0, 2, 1],
  });
  assert.deepEqual(coalescePermutation([64, 1, 20], [2, 1, 0]), { shape: [64, 20], perm: [1, 0] });
  assert.deepEqual(coalescePermutation([2, 3, 4], [1, 2, 0]), { shape: [2, 12], perm: [1, 0] });
  assert.deepEqual(coalescePermutation([2, 3, 4, 5], [0, 2, 1, 3]), {
    shape: [2, 3, 4, 5],
    perm: [0, 2, 1, 3],
  });
});

test("Conv2DBackpropInput of a 1×1 stride-1 filter (matmul and 1×1-conv paths) matches the cpu backend", async () => {
  await useWasmWithPack();
  for (const [n, h, w, ci, co] of [
    [3, 5, 4, 7, 9], // matmul path (H·W < 256)
    [2, 1, 1, 48, 1152],
    [2, 16, 16, 5, 7], // 1×1 forward-conv path (H·W ≥ 256)
  ]) {
    const x = input([n, h, w, ci]);
    const wt = input([1, 1, ci, co]);
    const dy = input([n, h, w, co]);
    const f = (xx: tf.Tensor, ww: tf.Tensor, d: tf.Tensor) =>
      tf.grad((xv: tf.Tensor) => tf.conv2d(xv as tf.Tensor4D, ww as tf.Tensor4D, 1, "same"))(xx, d);
    assertClose(
      await runOn("wasm", [x, wt, dy], f),
      await runOn("cpu", [x, wt, dy], f),
      TOL,
      `1×1 dx ${[n, h, w, ci, co]}`,
    );
  }
});

test("the pack's Tile gradient equals tfjs-core's slice-and-add gradient", async () => {
  await useWasmWithPack();
  const cases: [number[], number[]][] = [
    [[5], [3]],
    [
      [2, 3],
      [2, 2],
    ],
    [
      [1, 1, 8],
      [4, 6, 1],
    ], // LayerNormalization's γ: [1,1,d] → [B,T,d]
    [
      [4, 6, 1],
      [1, 1, 8],
    ], // its moments: [B,T,1] → [B,T,d]
    [
      [2, 1, 3, 1],
      [1, 2, 2, 3],
    ],
    [
      [3, 2],
      [1, 1],
    ],
    [
      [2, 2],
      [0, 3],
    ], // empty tiling: zero gradient
  ];
  for (const [shape, reps] of cases) {
    const tiled = shape.map((s, i) => s * reps[i]);
    const dy = input(tiled);
    const x = input(shape);
    const ours = (xx: tf.Tensor, d: tf.Tensor) =>
      tf.grad((v: tf.Tensor) => tf.tile(v, reps))(xx, d);
    const reference = (xx: tf.Tensor, d: tf.Tensor) =>
      (
        stockTileGrad.gradFunc(d, [xx], { reps } as unknown as tf.NamedAttrMap) as {
          x: () => tf.Tensor;
        }
      ).x();
    assertClose(
      await runOn("wasm", [x, dy], ours),
      await runOn("cpu", [x, dy], reference),
      1e-5,
      `tile grad ${shape} ${reps}`,
    );
  }
  assert.throws(() => tileGrad(tf.zeros([3, 3]), [2, 2], [2, 2]), /expected \[4,4\]/);
});

test("causal self-attention: forward and all gradients match the cpu backend, rows are causal", async () => {
  await useWasmWithPack();
  const [b, t, d, heads] = [2, 9, 12, 3];
  const layer = new CausalSelfAttention({ heads });
  layer.build([null, t, d]);
  const weights = layer
    .getWeights()
    .map((w) => ({ values: w.dataSync() as Float32Array, shape: w.shape }));
  const x = input([b, t, d]);
  const dy = input([b, t, d]);
  // Gradients of Σ out·dy with respect to x and the four weights (set from the inputs).
  const grads = (xx: tf.Tensor, ...rest: tf.Tensor[]) =>
    gradsOf(layer, xx, rest.slice(0, 4), rest[4]);
  const ins = [x, ...weights, dy];
  assertClose(
    await runOn("wasm", ins, grads),
    await runOn("cpu", ins, grads),
    TOL,
    "attention grads",
  );
  const fwd = (xx: tf.Tensor) => layer.apply(xx) as tf.Tensor;
  assertClose(
    await runOn("wasm", [x], fwd),
    await runOn("cpu", [x], fwd),
    TOL,
    "attention forward",
  );
  // Causality: changing token 5 leaves outputs 0..4 unchanged.
  await tf.setBackend("wasm");
  const x2 = Float32Array.from(x.values);
  for (let k = 0; k < d; k++) x2[5 * d + k] += 1;
  const y1 = tf.tidy(() =>
    (layer.apply(tf.tensor(x.values, [b, t, d])) as tf.Tensor).arraySync(),
  ) as number[][][];
  const y2 = tf.tidy(() =>
    (layer.apply(tf.tensor(x2, [b, t, d])) as tf.Tensor).arraySync(),
  ) as number[][][];
  for (let i = 0; i < 5; i++) assert.deepEqual(y2[0][i], y1[0][i], `position ${i} saw the future`);
  assert.notDeepEqual(y2[0][5], y1[0][5]);
  layer.weights.forEach((w) => w.dispose()); // never applied symbolically, so no dispose()
  const m = causalMask(3);
  assert.deepEqual(
    m.arraySync(),
    [
      [0, -1e9, -1e9],
      [0, 0, -1e9],
      [0, 0, 0],
    ].map((r) => r.map((v) => Math.fround(v))),
  );
  m.dispose();
});

test("tfjs-layers LayerNormalization gradients (Tile-heavy) match the cpu backend", async () => {
  await useWasmWithPack();
  const ln = tfl.layers.layerNormalization({ axis: -1 });
  ln.build([null, 6, 10]);
  const x = input([3, 6, 10]);
  const dy = input([3, 6, 10]);
  const weights = ln
    .getWeights()
    .map((w) => ({ values: w.dataSync() as Float32Array, shape: w.shape }));
  const f = (xx: tf.Tensor, g: tf.Tensor, bt: tf.Tensor, d: tf.Tensor) =>
    gradsOf(ln, xx, [g, bt], d);
  const ins = [x, ...weights, dy];
  assertClose(await runOn("wasm", ins, f), await runOn("cpu", ins, f), TOL, "layer norm grads");
  ln.weights.forEach((w) => w.dispose());
});
