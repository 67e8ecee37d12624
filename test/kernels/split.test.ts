/**
 * The wasm kernel pack's SplitV (lib/backend/kernels/split.ts) against the cpu backend.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { splitSizes } from "../../lib/backend/kernels/split";
import { randn, useWasmWithPack } from "../helpers/backends";

test("splitSizes: even splits, lists with one −1, and sizes that do not add up", () => {
  assert.deepEqual(splitSizes(6, 3), [2, 2, 2]);
  assert.deepEqual(splitSizes(10, [3, -1, 2]), [3, 5, 2]);
  assert.throws(() => splitSizes(7, 2), /7 is not divisible by 2/);
  assert.throws(() => splitSizes(7, [3, 3]), /do not add up to 7/);
});

test("SplitV on wasm equals cpu along every axis, for float32 and int32", async () => {
  await useWasmWithPack();
  const cases: { shape: number[]; splits: number | number[]; axis: number }[] = [
    { shape: [4020], splits: [1000, 20, -1, 1], axis: 0 },
    { shape: [3, 10, 4], splits: [2, 5, 3], axis: 1 },
    { shape: [3, 10, 4], splits: 2, axis: -1 },
    { shape: [6, 5], splits: 3, axis: 0 },
  ];
  for (const c of cases) {
    // (bool is left out: stock tfjs-backend-wasm 4.22 casts 0.5 to false and 2 to 2, unlike
    // the cpu backend, before SplitV is reached; the pack sends bool to the stock SplitV.)
    for (const dtype of ["float32", "int32"] as const) {
      const n = c.shape.reduce((p, q) => p * q, 1);
      const values = randn(n, n + c.axis);
      const run = async (backend: string) => {
        await tf.setBackend(backend);
        const before = tf.memory().numTensors;
        const x = tf.tidy(() => tf.cast(tf.tensor(values, c.shape), dtype));
        // tf.split writes the resolved size over a −1 in the list: pass a copy
        const parts = tf.split(x, Array.isArray(c.splits) ? [...c.splits] : c.splits, c.axis);
        const out = parts.map((p) => ({ shape: p.shape, values: Array.from(p.dataSync()) }));
        tf.dispose([x, ...parts]);
        assert.equal(tf.memory().numTensors, before, `${backend}: tensors leaked`);
        return out;
      };
      assert.deepEqual(await run("wasm"), await run("cpu"), `${JSON.stringify(c)} ${dtype}`);
    }
  }
});
