import { test } from "node:test";
import * as tf from "@tensorflow/tfjs-core";
import assert from "node:assert/strict";
import { assertClose, randn, runOn, useWasmWithPack } from "../helpers/backends";
import { leadingAxes, reductionView } from "../../lib/backend/kernels/simd-reduce";

const TOL = 1e-4; // see conv.test.ts: float32 sums of ≤ 300 terms, errors ~1e-6 relative

test("BatchMatMul with transposed operands and folded batches matches the cpu backend", async () => {
  await useWasmWithPack();
  let seed = 7;
  const shapes: [number[], number[], boolean, boolean][] = [
    [[37, 29], [29, 23], false, false],
    [[29, 37], [29, 23], true, false],
    [[37, 29], [23, 29], false, true],
    [[29, 37], [23, 29], true, true],
    [[4, 5, 29], [29, 7], false, false], // batched A, unbatched B: folded
    [[4, 5, 29], [7, 29], false, true],
    [[3, 5, 6], [3, 6, 4], false, false], // batched both: stock path
    [[3, 6, 5], [3, 4, 6], true, true],
  ];
  for (const [sa, sb, ta, tb] of shapes) {
    const a = {
      values: randn(
        sa.reduce((p, q) => p * q, 1),
        seed++,
      ),
      shape: sa,
    };
    const b = {
      values: randn(
        sb.reduce((p, q) => p * q, 1),
        seed++,
      ),
      shape: sb,
    };
    const f = (x: tf.Tensor, y: tf.Tensor) => tf.matMul(x, y, ta, tb);
    assertClose(
      await runOn("wasm", [a, b], f),
      await runOn("cpu", [a, b], f),
      TOL,
      `matMul ${sa} ${sb} ${ta} ${tb}`,
    );
  }
});

test("Sum and Mean over leading and middle axes match the cpu backend, with and without keepDims", async () => {
  await useWasmWithPack();
  let seed = 70;
  const cases: [number[], number | number[], boolean][] = [
    [[16, 26, 26, 8], [0, 1, 2], false],
    [[16, 26, 26, 8], [0, 1, 2], true],
    [[500, 3], 0, false], // cols < 4: scalar tail
    [[500, 19], [-2], true], // 19 = 16 + 3: vector and scalar parts
    [[7, 0], 0, false], // empty columns
    [[40, 30, 20], [1], false], // middle axis: per-outer SIMD sums
    [[8, 6, 5, 7], [1, 2], true], // global average pooling shape
    [[40, 30, 20], [2], false], // innermost: stock path
    [[40, 30, 20], [0, 2], false], // not contiguous: stock path
    [[40, 30, 20], [0, 1], false],
    [[40, 30, 20], [0, 1, 2], false], // full reduction: stock path
    [[40, 30, 20], null as unknown as number[], false], // null axis: all axes, stock path
  ];
  for (const [shape, axis, keepDims] of cases) {
    const x = {
      values: randn(
        shape.reduce((p, q) => p * q, 1),
        seed++,
      ),
      shape,
    };
    for (const op of [tf.sum, tf.mean]) {
      const f = (t: tf.Tensor) => op(t, axis, keepDims);
      assertClose(
        await runOn("wasm", [x], f),
        await runOn("cpu", [x], f),
        TOL,
        `${op.name} ${shape} ${axis} ${keepDims}`,
      );
    }
  }
});

test("leadingAxes recognises only 0..k-1 with k < rank", () => {
  assert.equal(leadingAxes([0, 1, 2], 4), 3);
  assert.equal(leadingAxes([2, 0, 1], 4), 3);
  assert.equal(leadingAxes(-4, 4), 1);
  assert.equal(leadingAxes([1, 2], 4), 0);
  assert.deepEqual(reductionView([1, 2], [8, 6, 5, 7]), {
    outer: 8,
    reduced: 30,
    inner: 7,
    first: 1,
    last: 2,
  });
  assert.equal(reductionView([2, 3], [8, 6, 5, 7]), null); // innermost
  assert.equal(reductionView([0, 2], [8, 6, 5, 7]), null); // not contiguous
  assert.equal(leadingAxes([0, 1, 2, 3], 4), 0); // full reduction: stock
  assert.equal(reductionView(null, [3, 4]), null); // null axis = all axes: stock
});

test("Tile matches the cpu backend for broadcasts, inner and outer repeats, int32 and bool", async () => {
  await useWasmWithPack();
  const cases: [number[], number[]][] = [
    [
      [1, 1, 1, 5],
      [4, 3, 2, 1],
    ],
    [
      [2, 3],
      [2, 2],
    ],
    [
      [3, 1],
      [1, 7],
    ],
    [[4], [3]],
    [
      [2, 1, 3],
      [1, 4, 1],
    ],
    [
      [2, 2],
      [0, 3],
    ],
  ];
  let seed = 500;
  for (const [shape, reps] of cases) {
    const x = {
      values: randn(
        shape.reduce((p, q) => p * q, 1),
        seed++,
      ),
      shape,
    };
    const f = (t: tf.Tensor) => tf.tile(t, reps);
    assertClose(
      await runOn("wasm", [x], f),
      await runOn("cpu", [x], f),
      0,
      `tile ${shape} ${reps}`,
    );
    const g = (t: tf.Tensor) => tf.cast(tf.tile(tf.cast(t, "int32"), reps), "float32");
    assertClose(
      await runOn("wasm", [x], g),
      await runOn("cpu", [x], g),
      0,
      `tile int32 ${shape} ${reps}`,
    );
    const h = (t: tf.Tensor) => tf.cast(tf.tile(tf.greater(t, 0), reps), "float32");
    assertClose(
      await runOn("wasm", [x], h),
      await runOn("cpu", [x], h),
      0,
      `tile bool ${shape} ${reps}`,
    );
  }
});
