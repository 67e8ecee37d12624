/**
 * The replacements for tfjs-backend-webgpu (lib/backend/kernels/webgpu.ts), checked on the cpu
 * backend, where they compute the same values: the filter gradients against tfjs-core's own
 * Conv2DBackpropFilter / DepthwiseConv2dNativeBackpropFilter (stride 1 and 2, "same" with
 * asymmetric padding, "valid", 1×1, C_in = 1), and the chunked AddN against one AddN.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { assertClose, randn, runOn } from "../helpers/backends";
import {
  chunkedAddN,
  conv2dFilterGrad,
  depthwiseFilterGrad,
} from "../../lib/backend/kernels/webgpu";

const size = (s: number[]) => s.reduce((p, q) => p * q, 1);
let seed = 4100;
const input = (shape: number[]) => ({ values: randn(size(shape), seed++), shape });

// Sums of up to 2·9·9·5 products of N(0,1) values; an indexing error is O(1).
const TOL = 1e-4;

const CONV_CASES: {
  name: string;
  x: number[];
  filter: [number, number, number, number];
  strides: number | [number, number];
  pad: "same" | "valid";
}[] = [
  { name: "3x3 stride 1 same", x: [2, 9, 9, 3], filter: [3, 3, 3, 4], strides: 1, pad: "same" },
  {
    name: "3x3 stride 2 same (asymmetric)",
    x: [2, 8, 8, 3],
    filter: [3, 3, 3, 5],
    strides: 2,
    pad: "same",
  },
  { name: "3x3 stride 2 valid", x: [2, 9, 9, 2], filter: [3, 3, 2, 3], strides: 2, pad: "valid" },
  {
    name: "5x5 stride [1, 2] valid",
    x: [1, 10, 11, 2],
    filter: [5, 5, 2, 3],
    strides: [1, 2],
    pad: "valid",
  },
  { name: "1x1 stride 1", x: [3, 5, 5, 6], filter: [1, 1, 6, 7], strides: 1, pad: "valid" },
  {
    name: "3x3 C_in = 1 (the first conv)",
    x: [4, 28, 28, 1],
    filter: [3, 3, 1, 32],
    strides: 1,
    pad: "valid",
  },
];

for (const c of CONV_CASES) {
  test(`conv2dFilterGrad equals tfjs-core's Conv2DBackpropFilter: ${c.name}`, async () => {
    const out = tf.backend_util.computeConv2DInfo(
      c.x as [number, number, number, number],
      c.filter,
      c.strides,
      1,
      c.pad,
    ).outShape;
    const inputs = [input(c.x), input(out)];
    const ours = await runOn("cpu", inputs, (x, dy) =>
      conv2dFilterGrad(x as tf.Tensor4D, dy as tf.Tensor4D, c.filter, c.strides, c.pad),
    );
    // tfjs-core's gradient of conv2d with respect to the filter (Conv2DBackpropFilter)
    const theirs = await runOn("cpu", [...inputs, input(c.filter)], (x, dy, w) =>
      tf.grad((f: tf.Tensor) =>
        tf.sum(tf.mul(tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, c.strides, c.pad), dy)),
      )(w),
    );
    assert.deepEqual(ours.shape, c.filter);
    assertClose(ours, theirs, TOL, c.name);
  });
}

const DEPTHWISE_CASES = [
  { name: "3x3 stride 1 same", x: [2, 8, 8, 6], k: 3, strides: 1, pad: "same" as const },
  {
    name: "5x5 stride 2 same (asymmetric)",
    x: [2, 9, 9, 4],
    k: 5,
    strides: 2,
    pad: "same" as const,
  },
  { name: "3x3 stride 2 valid", x: [3, 7, 7, 5], k: 3, strides: 2, pad: "valid" as const },
];

for (const c of DEPTHWISE_CASES) {
  test(`depthwiseFilterGrad equals tfjs-core's DepthwiseConv2dNativeBackpropFilter: ${c.name}`, async () => {
    const filter: [number, number, number, number] = [c.k, c.k, c.x[3], 1];
    const out = tf.backend_util.computeConv2DInfo(
      c.x as [number, number, number, number],
      filter,
      c.strides,
      1,
      c.pad,
      undefined,
      true,
    ).outShape;
    const inputs = [input(c.x), input(out)];
    const ours = await runOn("cpu", inputs, (x, dy) =>
      depthwiseFilterGrad(x as tf.Tensor4D, dy as tf.Tensor4D, filter, c.strides, c.pad),
    );
    // tfjs-core's gradient of depthwiseConv2d with respect to the filter
    const theirs = await runOn("cpu", [...inputs, input(filter)], (x, dy, w) =>
      tf.grad((f: tf.Tensor) =>
        tf.sum(
          tf.mul(tf.depthwiseConv2d(x as tf.Tensor4D, f as tf.Tensor4D, c.strides, c.pad), dy),
        ),
      )(w),
    );
    assert.deepEqual(ours.shape, filter);
    assertClose(ours, theirs, TOL, c.name);
  });
}

test("the filter gradients refuse a dy of the wrong shape and a channel multiplier ≠ 1", async () => {
  await tf.setBackend("cpu");
  const x = tf.zeros([1, 5, 5, 2]) as tf.Tensor4D;
  assert.throws(
    () => conv2dFilterGrad(x, tf.zeros([1, 4, 4, 3]) as tf.Tensor4D, [3, 3, 2, 3], 1, "valid"),
    /dy has shape \[1,4,4,3\], expected \[1,3,3,3\]/,
  );
  assert.throws(
    () => depthwiseFilterGrad(x, tf.zeros([1, 5, 5, 4]) as tf.Tensor4D, [3, 3, 2, 2], 1, "same"),
    /channel multiplier must be 1, got 2/,
  );
  tf.disposeVariables();
});

test("chunkedAddN sums 1 to 20 inputs in calls of at most 3 (or 7) inputs like one AddN, and frees its partial sums", async () => {
  await tf.setBackend("cpu");
  const kernel = tf.getKernel("AddN", "cpu");
  assert.ok(kernel != null);
  const backend = tf.backend();
  for (const max of [3, 7]) {
    for (const n of [1, 2, 3, 4, 7, 8, 20]) {
      const xs = Array.from({ length: n }, (_, i) => tf.tensor(randn(6, 50 + i), [2, 3]));
      const calls: number[] = [];
      const chunked = chunkedAddN(
        (args) => (calls.push(Object.keys(args.inputs).length), kernel.kernelFunc(args)),
        () => max,
      );
      const before = backend.numDataIds();
      const out = chunked({ inputs: xs as unknown as tf.NamedTensorInfoMap, backend, attrs: {} });
      assert.equal(backend.numDataIds(), before + 1, `n=${n}: only the result stays`);
      const got = tf.engine().makeTensorFromTensorInfo(out as tf.TensorInfo);
      const want = tf.addN(xs);
      assertClose(
        { values: Float32Array.from(got.dataSync()), shape: got.shape },
        { values: Float32Array.from(want.dataSync()), shape: want.shape },
        1e-6,
        `AddN of ${n} in calls of ≤ ${max}`,
      );
      assert.ok(Math.max(...calls) <= max, `n=${n}: a call got ${Math.max(...calls)} > ${max}`);
      tf.dispose([got, want, ...xs]);
      assert.equal(backend.numDataIds(), before - n, `n=${n}: nothing leaked`);
    }
  }
});
