import { test } from "node:test";
import * as tf from "@tensorflow/tfjs-core";
import { assertClose, randn, runOn, useWasmWithPack } from "../helpers/backends";

// Tolerance: outputs are sums of up to N·Ho·Wo ≈ 2,000 float32 products of N(0,1) values;
// different summation orders differ by ~1e-6 relative; 1e-4 leaves margin and still catches
// any indexing or padding error (those give O(1) errors).
const TOL = 1e-4;

const cases: {
  n: number;
  h: number;
  w: number;
  ci: number;
  co: number;
  k: number;
  s: number;
  pad: "same" | "valid";
}[] = [];
for (const k of [1, 3, 5]) {
  for (const s of [1, 2]) {
    for (const pad of ["same", "valid"] as const) {
      cases.push({ n: 3, h: 11, w: 9, ci: 5, co: 6, k, s, pad });
    }
  }
}
cases.push({ n: 2, h: 8, w: 8, ci: 4, co: 8, k: 3, s: 2, pad: "same" }); // even size, stride 2
cases.push({ n: 2, h: 6, w: 5, ci: 13, co: 9, k: 1, s: 1, pad: "same" }); // 1×1 SIMD path, many channels
cases.push({ n: 2, h: 7, w: 6, ci: 9, co: 6, k: 1, s: 2, pad: "valid" }); // 1×1 stride 2
cases.push({ n: 4, h: 7, w: 7, ci: 1, co: 3, k: 1, s: 1, pad: "valid" }); // 1×1 matmul path
for (const k of [1, 3, 5])
  for (const s of [1, 2])
    for (const pad of ["same", "valid"] as const)
      cases.push({ n: 3, h: 10, w: 9, ci: 2, co: 7, k, s, pad }); // im2col path (Ci ≤ 4)

test("Conv2DBackpropFilter and Conv2DBackpropInput match the cpu backend", async () => {
  await useWasmWithPack();
  let seed = 1;
  for (const c of cases) {
    const x = { values: randn(c.n * c.h * c.w * c.ci, seed++), shape: [c.n, c.h, c.w, c.ci] };
    const w = { values: randn(c.k * c.k * c.ci * c.co, seed++), shape: [c.k, c.k, c.ci, c.co] };
    const f = (xx: tf.Tensor, ww: tf.Tensor) =>
      tf.conv2d(xx as tf.Tensor4D, ww as tf.Tensor4D, c.s, c.pad);
    const outShape = tf.tidy(() => f(tf.zeros(x.shape), tf.zeros(w.shape)).shape);
    const dy = {
      values: randn(
        outShape.reduce((p, q) => p * q, 1),
        seed++,
      ),
      shape: outShape,
    };
    const what = JSON.stringify(c);
    const dW = (xx: tf.Tensor, ww: tf.Tensor, d: tf.Tensor) =>
      tf.grad((wv: tf.Tensor) => f(xx, wv))(ww, d);
    const dX = (xx: tf.Tensor, ww: tf.Tensor, d: tf.Tensor) =>
      tf.grad((xv: tf.Tensor) => f(xv, ww))(xx, d);
    assertClose(
      await runOn("wasm", [x, w, dy], dW),
      await runOn("cpu", [x, w, dy], dW),
      TOL,
      `dW ${what}`,
    );
    assertClose(
      await runOn("wasm", [x, w, dy], dX),
      await runOn("cpu", [x, w, dy], dX),
      TOL,
      `dX ${what}`,
    );
    // Direct kernel calls, as a library user would make them.
    const direct = (xx: tf.Tensor, _ww: tf.Tensor, d: tf.Tensor) =>
      tf.engine().runKernel(
        "Conv2DBackpropFilter",
        { x: xx, dy: d },
        {
          strides: [c.s, c.s],
          pad: c.pad,
          dataFormat: "NHWC",
          filterShape: w.shape,
        },
      ) as tf.Tensor;
    assertClose(
      await runOn("wasm", [x, w, dy], direct),
      await runOn("cpu", [x, w, dy], direct),
      TOL,
      `direct dW ${what}`,
    );
  }
});

test("DepthwiseConv2dNativeBackpropInput matches the cpu backend (multipliers 1 and 2)", async () => {
  await useWasmWithPack();
  let seed = 100;
  for (const k of [1, 3, 5]) {
    for (const s of [1, 2]) {
      for (const pad of ["same", "valid"] as const) {
        for (const m of [1, 2]) {
          const [n, h, w, c] = [2, 10, 9, 6];
          const x = { values: randn(n * h * w * c, seed++), shape: [n, h, w, c] };
          const fw = { values: randn(k * k * c * m, seed++), shape: [k, k, c, m] };
          const f = (xx: tf.Tensor, ww: tf.Tensor) =>
            tf.depthwiseConv2d(xx as tf.Tensor4D, ww as tf.Tensor4D, s, pad);
          const outShape = tf.tidy(() => f(tf.zeros(x.shape), tf.zeros(fw.shape)).shape);
          const dy = {
            values: randn(
              outShape.reduce((p, q) => p * q, 1),
              seed++,
            ),
            shape: outShape,
          };
          const dX = (xx: tf.Tensor, ww: tf.Tensor, d: tf.Tensor) =>
            tf.grad((xv: tf.Tensor) => f(xv, ww))(xx, d);
          const what = JSON.stringify({ k, s, pad, m });
          assertClose(
            await runOn("wasm", [x, fw, dy], dX),
            await runOn("cpu", [x, fw, dy], dX),
            TOL,
            `depthwise dX ${what}`,
          );
        }
      }
    }
  }
});
