/**
 * batchwise's multi-tensor Adam (lib/optim/adam.ts) against tfjs's `tf.train.adam`: the same
 * parameters after several steps, state that follows names, round trips, no leaks.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { Adam } from "../../lib/optim/adam";
import { OptimizerConfigError } from "../../lib/optim/base";
import { randn, useTrainingBackend } from "../helpers/backends";
import {
  adamPreconditioner,
  disposePreconditioner,
} from "../../lib/noise/preconditioned-noise-scale";
import { mlp } from "../../lib/models/small";
import { classificationTask } from "../../lib/grad/task";
import { trainStep } from "../../lib/train/step";
import { trainableVariables } from "../../lib/grad/batch";

/** Three variables of different shapes, and a loss whose gradient changes with them. */
function setup(seed: number, tag: string) {
  // variables made inside tidy: the initial tensors are freed, the variables stay
  const a = tf.tidy(() => tf.variable(tf.tensor2d(randn(12, seed), [3, 4]), true, `adam_a_${tag}`));
  const b = tf.tidy(() => tf.variable(tf.tensor1d(randn(5, seed + 1)), true, `adam_b_${tag}`));
  const c = tf.tidy(() =>
    tf.variable(tf.tensor3d(randn(8, seed + 2), [2, 2, 2]), true, `adam_c_${tag}`),
  );
  const vars = [a, b, c];
  const loss = () =>
    tf.add(
      tf.add(tf.sum(tf.square(tf.sub(a, 0.3))), tf.sum(tf.sin(b))),
      tf.sum(tf.pow(c, 4)),
    ) as tf.Scalar;
  return { vars, loss };
}

test("Adam: the same parameters as tf.train.adam after 5 steps (lr 0.05, β 0.8/0.95, ε 1e-6)", async () => {
  await useTrainingBackend();
  const ours = setup(1, "ours");
  const theirs = setup(1, "theirs");
  const opt = new Adam({ learningRate: 0.05, beta1: 0.8, beta2: 0.95, epsilon: 1e-6 });
  const ref = tf.train.adam(0.05, 0.8, 0.95, 1e-6);
  for (let k = 0; k < 5; k++) {
    tf.tidy(() => opt.applyGradients(tf.variableGrads(ours.loss, ours.vars).grads));
    const g = tf.tidy(() => tf.variableGrads(theirs.loss, theirs.vars).grads);
    // tfjs's Adam keys moments by position: give it the same order each time
    ref.applyGradients(theirs.vars.map((v) => ({ name: v.name, tensor: g[v.name] })));
    tf.dispose(Object.values(g));
  }
  ours.vars.forEach((v, i) => {
    const x = v.dataSync();
    const y = theirs.vars[i].dataSync();
    for (let j = 0; j < x.length; j++)
      assert.ok(Math.abs(x[j] - y[j]) < 1e-5, `${v.name}[${j}]: ${x[j]} vs ${y[j]}`);
  });
  assert.equal(opt.iterations, 5);
  // the state is two flat moments, whatever the number of variables
  const held = tf.memory().numTensors;
  opt.dispose();
  assert.equal(tf.memory().numTensors, held - 2, "two flat moment vectors");
  ref.dispose();
  tf.dispose([...ours.vars, ...theirs.vars]);
});

test("Adam: moments follow names across key orders and subsets; getWeights/setWeights round-trip", async () => {
  await useTrainingBackend();
  const start = tf.memory().numTensors;
  const s = setup(7, "names");
  const [a, b, c] = s.vars;
  const opt = new Adam({ learningRate: 0.01 });
  const g = tf.tidy(() => tf.variableGrads(s.loss, s.vars).grads);
  opt.applyGradients({ [a.name]: g[a.name], [b.name]: g[b.name], [c.name]: g[c.name] });
  const m1 = opt.moments(b.name);
  // β₁ = 0.9: after one step m = 0.1·g
  const gb = g[b.name].dataSync();
  m1.m.dataSync().forEach((x, j) => assert.ok(Math.abs(x - 0.1 * gb[j]) < 1e-6));
  // another order and a subset: b's moments carry over, c's too when it comes back
  opt.applyGradients({ [c.name]: g[c.name], [b.name]: g[b.name] });
  opt.applyGradients({ [b.name]: g[b.name], [a.name]: g[a.name], [c.name]: g[c.name] });
  const w = await opt.getWeights();
  assert.deepEqual(
    w.map((x) => x.name),
    [
      "iter",
      `${b.name}/m`,
      `${a.name}/m`,
      `${c.name}/m`,
      `${b.name}/v`,
      `${a.name}/v`,
      `${c.name}/v`,
    ],
  );
  const copy = new Adam({ learningRate: 0.01 });
  const given = w.map((x) => ({ name: x.name, tensor: tf.clone(x.tensor) }));
  await copy.setWeights(given);
  tf.dispose(given.map((x) => x.tensor)); // the optimizer keeps its own copy
  assert.equal(copy.iterations, opt.iterations);
  for (const v of s.vars) {
    const p = opt.moments(v.name);
    const q = copy.moments(v.name);
    assert.deepEqual(Array.from(p.v.dataSync()), Array.from(q.v.dataSync()), `${v.name}/v`);
    tf.dispose([p.m, p.v, q.m, q.v]);
  }
  assert.throws(() => opt.moments("nope"), /no state for variable 'nope'/);
  const bad = [
    { name: "iter", tensor: tf.scalar(1) },
    { name: "x", tensor: tf.scalar(0) },
  ];
  await assert.rejects(copy.setWeights(bad), /is not '<variable>\/m'/);
  assert.throws(() => new Adam({ beta1: 1 }), OptimizerConfigError);
  assert.throws(
    () => new Adam({ learningRate: -1 }),
    /Adam: learningRate must be a number in \[0, Infinity\], got -1/,
  );
  const restored = tf.serialization.SerializationMap.getMap().classNameMap["BatchwiseAdam"];
  assert.ok(restored != null, "registered for serialisation");
  assert.deepEqual(opt.getConfig(), {
    learningRate: 0.01,
    beta1: 0.9,
    beta2: 0.999,
    epsilon: 1e-7,
  });
  tf.dispose([m1.m, m1.v, ...Object.values(g), ...bad.map((x) => x.tensor)]);
  opt.dispose();
  copy.dispose();
  tf.dispose(s.vars);
  assert.equal(tf.memory().numTensors, start, "tensors leaked");
});

test("adamPreconditioner reads v̂ = v / (1 − β₂ᵗ) from batchwise's Adam", async () => {
  await useTrainingBackend();
  const model = mlp({ inputShape: [6], numClasses: 3, hidden: [5], seed: 2 });
  const opt = new Adam({ learningRate: 1e-2 });
  const task = classificationTask([6], 3);
  const batch = { x: randn(8 * 6, 3), y: new Int32Array(8).map((_, i) => i % 3), size: 8 };
  trainStep(model, opt, task, batch, { microBatchSize: 8, learningRate: 1e-2 });
  trainStep(model, opt, task, batch, { microBatchSize: 8, learningRate: 1e-2 });
  const pre = adamPreconditioner(opt, model);
  const c2 = 1 - Math.pow(0.999, 2);
  for (const v of trainableVariables(model)) {
    const { m, v: second } = opt.moments(v.name);
    const want = second.dataSync().map((x) => x / c2);
    const got = pre.vhat[v.name].dataSync();
    want.forEach((w, j) => assert.ok(Math.abs(got[j] - w) <= 1e-6 * (1 + Math.abs(w)), v.name));
    tf.dispose([m, second]);
  }
  assert.equal(pre.epsilon, 1e-7);
  disposePreconditioner(pre);
  model.dispose();
  opt.dispose();
});
