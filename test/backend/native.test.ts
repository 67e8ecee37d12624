/**
 * The native kernel pack (lib/backend/native) and the backend-independent gradient
 * replacements (lib/backend/kernels/gradients.ts): same values as tfjs-core's formulas, on the
 * cpu backend and — where `npm run setup:native` has built it — on tensorflow (on tensorflow-gpu,
 * the CUDA build, when that is the training backend: `npm run test:unit:tensorflow -- --gpu`).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { initBackend, nativeBackendBuilt } from "../../lib/backend";
import { reduceGrad } from "../../lib/backend/kernels/gradients";
import { reluGrad, sigmoidGrad } from "../../lib/backend/native/activation-grads";
import { assertClose, randn, valuesOf } from "../helpers/backends";

/** The native build under test; both register tfjs's `tensorflow` backend. */
const nativeName =
  process.env.BATCHWISE_TEST_BACKEND === "tensorflow-gpu" ? "tensorflow-gpu" : "tensorflow";
const native = nativeBackendBuilt(nativeName);
const backends = native ? ["cpu", "tensorflow"] : ["cpu"];

async function on(name: string): Promise<void> {
  if (name === "tensorflow") await initBackend(nativeName);
  else await initBackend("cpu");
  await tf.setBackend(name);
}

test("reduceGrad: the gradient of a sum is dy broadcast; of a mean, dy / count (closed form)", async () => {
  await on("cpu");
  // x [2, 3], sum over axis 1: dx[i, j] = dy[i]
  const s = tf.tidy(() => reduceGrad(tf.tensor1d([1, 2]), [2, 3], [1], false).arraySync());
  assert.deepEqual(s, [
    [1, 1, 1],
    [2, 2, 2],
  ]);
  // mean over axes 0 and 1 of [2, 2] (all): dx = 3 / 4 everywhere
  const m = tf.tidy(() => reduceGrad(tf.scalar(3), [2, 2], undefined, true).arraySync());
  assert.deepEqual(m, [
    [0.75, 0.75],
    [0.75, 0.75],
  ]);
});

for (const name of backends) {
  test(`${name}: tf.grad of sum, mean, relu and sigmoid equals the closed forms`, async () => {
    await on(name);
    const before = tf.memory().numTensors;
    const xv = randn(2 * 5 * 4 * 3, 11);
    const wv = randn(2 * 5 * 4 * 3, 12);
    const x = tf.tensor4d(xv, [2, 5, 4, 3]);
    const w = tf.tensor4d(wv, [2, 5, 4, 3]);
    // L = Σ w·relu(x) → dx = w·[x > 0];  L = Σ w·sigmoid(x) → dx = w·s(1 − s)
    const dRelu = tf.tidy(() => tf.grad((a: tf.Tensor) => tf.sum(tf.mul(w, tf.relu(a))))(x));
    const dSig = tf.tidy(() => tf.grad((a: tf.Tensor) => tf.sum(tf.mul(w, tf.sigmoid(a))))(x));
    // L = Σ_c mean_{0,1,2}(x)·c → dx[..., c] = c / 40
    const dMean = tf.tidy(() =>
      tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.mean(a, [0, 1, 2]), tf.tensor1d([1, 2, 3]))))(x),
    );
    const expRelu = Float32Array.from(xv, (v, i) => (v > 0 ? wv[i] : 0));
    const expSig = Float32Array.from(xv, (v, i) => {
      const s = 1 / (1 + Math.exp(-v));
      return wv[i] * s * (1 - s);
    });
    const expMean = Float32Array.from(xv, (_, i) => ((i % 3) + 1) / 40);
    const shape = [2, 5, 4, 3];
    assertClose(valuesOf(dRelu), { values: expRelu, shape }, 1e-6, `${name} relu grad`);
    assertClose(valuesOf(dSig), { values: expSig, shape }, 1e-6, `${name} sigmoid grad`);
    assertClose(valuesOf(dMean), { values: expMean, shape }, 1e-6, `${name} mean grad`);
    // the helpers directly, too
    const direct = tf.tidy(() => [
      valuesOf(reluGrad(w, x)),
      valuesOf(sigmoidGrad(w, tf.sigmoid(x))),
    ]);
    assertClose(direct[0], { values: expRelu, shape }, 1e-6, `${name} reluGrad`);
    assertClose(direct[1], { values: expSig, shape }, 1e-6, `${name} sigmoidGrad`);
    tf.dispose([x, w, dRelu, dSig, dMean]);
    assert.equal(tf.memory().numTensors, before, "tensors leaked");
  });
}

test("tensorflow: Step keeps tfjs's values (NaN → NaN, 0 → α, > 0 → 1) for α = 0 and α ≠ 0", async (t) => {
  if (!native) {
    t.skip(`${nativeName} backend not built (npm run setup:native)`);
    return;
  }
  await on("tensorflow");
  const x = [NaN, -2, -0, 0, 1e-30, 3, Infinity, -Infinity];
  for (const alpha of [0, 0.25]) {
    const y = tf.tidy(() => Array.from(tf.step(tf.tensor1d(x), alpha).dataSync()));
    const expected = x.map((v) => (Number.isNaN(v) ? NaN : v > 0 ? 1 : alpha));
    assert.deepEqual(y, expected, `alpha ${alpha}`);
  }
});
