/**
 * batchwise's BatchNormalization (closed-form training backward) against tfjs-layers' layer:
 * the same outputs, moving statistics and gradients, on the training backend.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import {
  BatchNormalization,
  batchNormalization,
  batchNormTraining,
  LayerNormalization,
  layerNormalization,
} from "../../lib/models/normalization";
import { assertClose, randn, useTrainingBackend, valuesOf } from "../helpers/backends";

test("batchNormTraining: y, moments and the gradients equal tfjs-core's op-by-op autodiff", async () => {
  await useTrainingBackend();
  const before = tf.memory().numTensors;
  const shape = [4, 3, 5, 6];
  const x = tf.tensor4d(randn(4 * 3 * 5 * 6, 1), shape as [number, number, number, number]);
  const w = tf.tensor4d(randn(4 * 3 * 5 * 6, 2), shape as [number, number, number, number]);
  const g = tf.tensor1d(randn(6, 3));
  const b = tf.tensor1d(randn(6, 4));
  const reference = (xi: tf.Tensor, gi: tf.Tensor, bi: tf.Tensor) => {
    const { mean, variance } = tf.moments(xi, [0, 1, 2]);
    return tf.batchNorm(xi, mean, variance, bi, gi, 1e-3);
  };
  // L = Σ w·BN(x): compare y and ∂L/∂(x, γ, β)
  const lossOf = (fn: (a: tf.Tensor, c: tf.Tensor, d: tf.Tensor) => tf.Tensor) =>
    tf.grads((a: tf.Tensor, c: tf.Tensor, d: tf.Tensor) => tf.sum(tf.mul(w, fn(a, c, d))));
  const ours = (a: tf.Tensor, c: tf.Tensor, d: tf.Tensor) => {
    const r = batchNormTraining(a, c, d, -1, 1e-3);
    tf.dispose([r.mean, r.variance]);
    return r.y;
  };
  const [gx, gg, gb] = tf.tidy(() => lossOf(ours)([x, g, b]));
  const [rx, rg, rb] = tf.tidy(() => lossOf(reference)([x, g, b]));
  assertClose(valuesOf(gx), valuesOf(rx), 1e-4, "dx");
  assertClose(valuesOf(gg), valuesOf(rg), 1e-4, "dgamma");
  assertClose(valuesOf(gb), valuesOf(rb), 1e-4, "dbeta");
  const r = batchNormTraining(x, g, b, 3, 1e-3);
  const m = tf.moments(x, [0, 1, 2]);
  const ref = tf.tidy(() => reference(x, g, b));
  assertClose(valuesOf(r.y), valuesOf(ref), 1e-5, "y");
  assertClose(valuesOf(r.mean), valuesOf(m.mean), 1e-6, "mean");
  assertClose(valuesOf(r.variance), valuesOf(m.variance), 1e-6, "variance");
  tf.dispose([
    x,
    w,
    g,
    b,
    gx,
    gg,
    gb,
    rx,
    rg,
    rb,
    r.y,
    r.mean,
    r.variance,
    m.mean,
    m.variance,
    ref,
  ]);
  assert.equal(tf.memory().numTensors, before, "tensors leaked");
  assert.throws(
    () => batchNormTraining(tf.zeros([2, 3]), tf.ones([2]), tf.zeros([3]), -1, 1e-3),
    /gamma and beta must have 3 values/,
  );
});

test("BatchNormalization layer: same training output and moving statistics as tfjs-layers', same config", async () => {
  await useTrainingBackend();
  const ours = batchNormalization({ momentum: 0.9, epsilon: 1e-3 });
  const theirs = tfl.layers.batchNormalization({ momentum: 0.9, epsilon: 1e-3 });
  const x = tf.tensor4d(randn(2 * 4 * 4 * 3, 7), [2, 4, 4, 3]);
  ours.build(x.shape);
  theirs.build(x.shape);
  ours.setWeights(theirs.getWeights().map((t) => tf.add(t, 0.5)));
  theirs.setWeights(ours.getWeights());
  const yo = ours.apply(x, { training: true }) as tf.Tensor;
  const yt = theirs.apply(x, { training: true }) as tf.Tensor;
  assertClose(valuesOf(yo), valuesOf(yt), 1e-5, "training output");
  ours
    .getWeights()
    .forEach((wo, i) =>
      assertClose(valuesOf(wo), valuesOf(theirs.getWeights()[i]), 1e-6, `weight ${i}`),
    );
  const io = ours.apply(x, { training: false }) as tf.Tensor;
  const it = theirs.apply(x, { training: false }) as tf.Tensor;
  assertClose(valuesOf(io), valuesOf(it), 1e-6, "inference output");
  const { name: _a, ...oc } = ours.getConfig();
  const { name: _b, ...tc } = theirs.getConfig();
  assert.deepEqual(oc, tc);
  assert.equal(BatchNormalization.className, "BatchNormalization");
  tf.dispose([x, yo, yt, io, it]);
});

test("LayerNormalization layer: same output, gradients and config as tfjs-layers'", async () => {
  await useTrainingBackend();
  const ours = layerNormalization({ axis: -1, epsilon: 1e-5 });
  const theirs = tfl.layers.layerNormalization({ axis: -1, epsilon: 1e-5 });
  const x = tf.tensor3d(randn(3 * 4 * 8, 9), [3, 4, 8]);
  const w = tf.tensor3d(randn(3 * 4 * 8, 10), [3, 4, 8]);
  ours.build(x.shape);
  theirs.build(x.shape);
  ours.setWeights([tf.tensor1d(randn(8, 11)), tf.tensor1d(randn(8, 12))]);
  theirs.setWeights(ours.getWeights());
  const before = tf.memory().numTensors;
  // L = Σ w·LN(x): ∂L/∂x, ∂L/∂γ, ∂L/∂β from both layers
  const gradsOf = (layer: tfl.layers.Layer): tf.Tensor[] =>
    tf.tidy(() => {
      const vars = layer.trainableWeights.map((v) => v.read() as tf.Variable);
      const gx = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(w, layer.apply(a) as tf.Tensor)))(x);
      const { grads } = tf.variableGrads(
        () => tf.sum(tf.mul(w, layer.apply(x) as tf.Tensor)) as tf.Scalar,
        vars,
      );
      return [layer.apply(x) as tf.Tensor, gx, ...vars.map((v) => grads[v.name])];
    });
  const a = gradsOf(ours);
  const b = gradsOf(theirs);
  ["y", "dx", "dgamma", "dbeta"].forEach((what, i) =>
    assertClose(valuesOf(a[i]), valuesOf(b[i]), 1e-4, what),
  );
  tf.dispose([...a, ...b]);
  assert.equal(tf.memory().numTensors, before, "tensors leaked");
  const { name: _a, ...oc } = ours.getConfig();
  const { name: _b, ...tc } = theirs.getConfig();
  assert.deepEqual(oc, tc);
  assert.equal(LayerNormalization.className, "LayerNormalization");
  tf.dispose([x, w]);
});
