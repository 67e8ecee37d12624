import { test } from "node:test";
import * as tf from "@tensorflow/tfjs-core";
import assert from "node:assert/strict";
import { assertClose, randn, runOn, useWasmWithPack } from "../helpers/backends";
import { leadingAxes } from "../../lib/backend/kernels/simd-reduce";

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

test("Sum and Mean over leading axes match the cpu backend, with and without keepDims", async () => {
  await useWasmWithPack();
  let seed = 70;
  const cases: [number[], number | number[], boolean][] = [
    [[16, 26, 26, 8], [0, 1, 2], false],
    [[16, 26, 26, 8], [0, 1, 2], true],
    [[500, 3], 0, false], // cols < 4: scalar tail
    [[500, 19], [-2], true], // 19 = 16 + 3: vector and scalar parts
    [[7, 0], 0, false], // empty columns
    [[40, 30, 20], [1, 2], false], // not leading: stock path
    [[40, 30, 20], [0, 1], false],
    [[40, 30, 20], [0, 1, 2], false], // full reduction: stock path
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
  assert.equal(leadingAxes([0, 1, 2, 3], 4), 0); // full reduction: stock
});
