import { test } from "node:test";
import * as tf from "@tensorflow/tfjs-core";
import { assertClose, randn, runOn, useWasmWithPack } from "../helpers/backends";

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
