import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { useTrainingBackend } from "../helpers/backends";
import {
  AdamW,
  BIAS_AND_NORM_PATTERNS,
  Lamb,
  Lars,
  OptimizerConfigError,
  SlotOptimizer,
} from "../../lib/optim";
import { mlp } from "../../lib/models/small";
import { classificationTask } from "../../lib/grad/task";
import { trainStep } from "../../lib/train/step";
import { setLearningRate } from "../../lib/optim/learning-rate";

// float32 arithmetic on values of order 1: agreement to ~1e-6 relative; 1e-5 leaves margin
// and still catches any formula error (those change the 2nd or 3rd digit).
const TOL = 1e-5;

let unique = 0;
function variable(values: number[], base = "w"): tf.Variable {
  return tf.variable(tf.tensor1d(values), true, `opt_test_${unique++}/${base}`);
}

function assertValues(actual: tf.Tensor, expected: number[], what: string): void {
  const a = Array.from(actual.dataSync());
  assert.equal(a.length, expected.length, `${what}: length`);
  a.forEach((x, i) =>
    assert.ok(
      Math.abs(x - expected[i]) <= TOL * (1 + Math.abs(expected[i])),
      `${what}[${i}]: got ${x}, expected ${expected[i]}`,
    ),
  );
}

function step(opt: tf.Optimizer, v: tf.Variable, g: number[]): void {
  tf.tidy(() => opt.applyGradients({ [v.name]: tf.tensor1d(g) }));
}

// The two-step example shared by the Adam-family tests: θ₀ = (3, 4), g₁ = (0.5, −1),
// g₂ = (1, 0.5), β₁ = 0.9, β₂ = 0.999, ε = 0, η = 0.1, λ = 0.1.
//
// Moments (independent of θ):
//   t=1: m = 0.1·g₁ = (0.05, −0.1), v = 0.001·g₁² = (0.00025, 0.001)
//        m̂ = m/0.1 = (0.5, −1), v̂ = v/0.001 = (0.25, 1), u = m̂/√v̂ = (1, −1)
//   t=2: m = 0.9·(0.05, −0.1) + 0.1·(1, 0.5) = (0.145, −0.04)
//        v = 0.999·(0.00025, 0.001) + 0.001·(1, 0.25) = (0.00124975, 0.001249)
//        m̂ = m/(1 − 0.9²) = m/0.19 = (0.76315789, −0.21052632)
//        v̂ = v/(1 − 0.999²) = v/0.001999 = (0.62518759, 0.62481241)
//        u = m̂/√v̂ = (0.96518203, −0.26633704)
const G1 = [0.5, -1];
const G2 = [1, 0.5];

test("LAMB: two hand-computed steps with bias correction", async () => {
  await useTrainingBackend();
  const v = variable([3, 4]);
  const opt = new Lamb({ learningRate: 0.1, epsilon: 0, weightDecay: 0.1 });
  // t=1: r = u + λθ = (1 + 0.3, −1 + 0.4) = (1.3, −0.6); |r| = √2.05 = 1.43178211;
  //      |θ| = 5; φ = 5/1.43178211 = 3.49215148;
  //      θ₁ = θ − η φ r = (3 − 0.45397969, 4 + 0.20952909) = (2.54602031, 4.20952909)
  step(opt, v, G1);
  assertValues(v, [2.546020307749774, 4.209529088730873], "θ₁");
  // t=2: r = u + 0.1·θ₁ = (0.96518203 + 0.25460203, −0.26633704 + 0.42095291)
  //        = (1.21978406, 0.15461587); |r| = 1.22954431; |θ₁| = 4.91958886;
  //      φ = 4.00114808; θ₂ = θ₁ − 0.1·φ·r = (2.05796664, 4.14766499)
  step(opt, v, G2);
  assertValues(v, [2.0579666438604995, 4.147664989871264], "θ₂");
  const w = await opt.getWeights();
  assert.deepEqual(
    w.map((x) => x.name),
    ["iter", `${v.name}/m`, `${v.name}/v`],
  );
  assertValues(w[1].tensor, [0.145, -0.04], "m₂");
  assertValues(w[2].tensor, [0.00124975, 0.001249], "v₂");
  assert.equal(opt.iterations, 2);
  opt.dispose();
  v.dispose();
});

test("LAMB: two hand-computed steps without bias correction", async () => {
  await useTrainingBackend();
  const v = variable([3, 4]);
  const opt = new Lamb({ learningRate: 0.1, epsilon: 0, weightDecay: 0.1, biasCorrection: false });
  // t=1: u = m/√v = (0.05/0.01581139, −0.1/0.03162278) = (3.16227766, −3.16227766);
  //      r = u + 0.1·θ = (3.46227766, −2.76227766); |r| = 4.42916973; φ = 5/|r| = 1.12887975;
  //      θ₁ = θ − 0.1·φ·r = (2.60915049, 4.31182793)
  step(opt, v, G1);
  assertValues(v, [2.609150487133903, 4.311827930584056], "θ₁");
  // t=2: u = (0.145/0.03535181, −0.04/0.03534119) = (4.10162951, −1.13182367);
  //      r = u + 0.1·θ₁ = (4.36254456, −0.70064088); |θ₁| = 5.03979428; |r| = 4.41844913;
  //      φ = 1.14062517; θ₂ = θ₁ − 0.1·φ·r = (2.11154767, 4.39174479)
  step(opt, v, G2);
  assertValues(v, [2.111547674762529, 4.391744792352132], "θ₂");
  opt.dispose();
  v.dispose();
});

test("LAMB: excluded variables take a plain AdamW step; zero weights get trust ratio 1", async () => {
  await useTrainingBackend();
  const bias = variable([3, 4], "bias");
  const zero = variable([0, 0]);
  const opt = new Lamb({
    learningRate: 0.1,
    epsilon: 0,
    weightDecay: 0.1,
    excludeFromWeightDecay: [...BIAS_AND_NORM_PATTERNS],
  });
  assert.deepEqual(opt.excludeFromAdaptation, BIAS_AND_NORM_PATTERNS); // defaults to the decay list
  tf.tidy(() => opt.applyGradients({ [bias.name]: tf.tensor1d(G1), [zero.name]: tf.tensor1d(G1) }));
  // bias: no decay, no ratio: θ₁ = θ − η·u = (3 − 0.1, 4 + 0.1)
  assertValues(bias, [2.9, 4.1], "bias θ₁");
  // zero: r = u + λ·0 = (1, −1); |θ| = 0 → φ = 1: θ₁ = −0.1·(1, −1)
  assertValues(zero, [-0.1, 0.1], "zero θ₁");
  opt.dispose();
  bias.dispose();
  zero.dispose();
});

test("AdamW: two hand-computed steps; excluded variables are not decayed", async () => {
  await useTrainingBackend();
  const v = variable([3, 4]);
  const b = variable([3, 4], "bias");
  const opt = new AdamW({
    learningRate: 0.1,
    epsilon: 0,
    weightDecay: 0.1,
    excludeFromWeightDecay: ["bias$"],
  });
  // t=1: θ₁ = θ − η(u + λθ) = (3 − 0.1·1.3, 4 − 0.1·(−1 + 0.4)) = (2.87, 4.06)
  // t=2: θ₂ = θ₁ − 0.1·(u + 0.1·θ₁) = (2.87 − 0.1·(0.96518203 + 0.287),
  //      4.06 − 0.1·(−0.26633704 + 0.406)) = (2.74478180, 4.04603370)
  // bias: θ₁ = θ − 0.1·u = (2.9, 4.1); θ₂ = (2.9 − 0.09651820, 4.1 + 0.02663370)
  for (const g of [G1, G2]) {
    tf.tidy(() => opt.applyGradients({ [v.name]: tf.tensor1d(g), [b.name]: tf.tensor1d(g) }));
  }
  assertValues(v, [2.7447817974178235, 4.046033703966], "θ₂");
  assertValues(b, [2.9 - 0.0965182025821768, 4.1 + 0.0266337039660401], "bias θ₂");
  opt.dispose();
  v.dispose();
  b.dispose();
});

test("LARS: two hand-computed steps", async () => {
  await useTrainingBackend();
  const v = variable([3, 4]);
  const opt = new Lars({
    learningRate: 1,
    momentum: 0.9,
    weightDecay: 0.01,
    trustCoefficient: 1e-3,
  });
  // t=1: |w| = 5, |g| = |(0.6, 0.8)| = 1; λ = 0.001·5/(1 + 0.01·5) = 0.00476190;
  //      d = g + βw = (0.63, 0.84); v = γλd = (0.003, 0.004); w₁ = (2.997, 3.996)
  step(opt, v, [0.6, 0.8]);
  assertValues(v, [2.997, 3.996], "w₁");
  // t=2: w₁ = 0.999·w₀ so |w₁| = 4.995; |g| = |(0.8, −0.6)| = 1;
  //      λ = 0.004995/(1 + 0.04995) = 0.00475737; d = (0.82997, −0.56004);
  //      v = 0.9·(0.003, 0.004) + λd = (0.00664847, 0.00093568);
  //      w₂ = w₁ − v = (2.99035153, 3.99506432)
  step(opt, v, [0.8, -0.6]);
  assertValues(v, [2.9903515261202913, 3.99506431715796], "w₂");
  const w = await opt.getWeights();
  assert.deepEqual(
    w.map((x) => x.name),
    ["iter", `${v.name}/v`],
  );
  assertValues(w[1].tensor, [0.006648473879708558, 0.0009356828420400971], "velocity");
  opt.dispose();
  v.dispose();
});

test("state follows variable names: key order, subsets and NamedTensor lists agree", async () => {
  await useTrainingBackend();
  const make = () => [variable([1, -2, 3]), variable([0.5, 0.25])];
  const [a1, b1] = make();
  const [a2, b2] = make();
  const o1 = new Lamb({ learningRate: 0.05 });
  const o2 = new Lamb({ learningRate: 0.05 });
  const ga = [
    [0.1, 0.2, -0.3],
    [-0.2, 0.1, 0.4],
    [0.3, 0.3, 0.3],
  ];
  const gb = [
    [1, -1],
    [0.5, 0.5],
    [-1, 2],
  ];
  for (let i = 0; i < 3; i++) {
    tf.tidy(() => {
      // o1: a map in order (a, b), then (b, a), then a list.
      if (i === 0)
        o1.applyGradients({ [a1.name]: tf.tensor1d(ga[i]), [b1.name]: tf.tensor1d(gb[i]) });
      else if (i === 1)
        o1.applyGradients({ [b1.name]: tf.tensor1d(gb[i]), [a1.name]: tf.tensor1d(ga[i]) });
      else
        o1.applyGradients([
          { name: b1.name, tensor: tf.tensor1d(gb[i]) },
          { name: a1.name, tensor: tf.tensor1d(ga[i]) },
        ]);
      o2.applyGradients({ [a2.name]: tf.tensor1d(ga[i]), [b2.name]: tf.tensor1d(gb[i]) });
    });
  }
  assertValues(a1, Array.from(a2.dataSync()), "a");
  assertValues(b1, Array.from(b2.dataSync()), "b");
  // A variable absent from a step keeps its state and value.
  const before = Array.from(b1.dataSync());
  tf.tidy(() => o1.applyGradients({ [a1.name]: tf.tensor1d([1, 1, 1]) }));
  assertValues(b1, before, "b untouched");
  for (const t of [o1, o2, a1, b1, a2, b2]) t.dispose();
});

test("getWeights/setWeights round-trip: a restored optimizer continues identically", async () => {
  await useTrainingBackend();
  const grads = [
    [0.3, -0.1],
    [0.2, 0.5],
    [-0.4, 0.1],
    [0.05, 0.05],
  ];
  for (const make of [
    () => new Lamb({ learningRate: 0.01, weightDecay: 0.01 }),
    () => new Lars({ learningRate: 0.5 }),
    () => new AdamW({ learningRate: 0.01 }),
  ]) {
    const ref = variable([1, 2]);
    const opt = make();
    for (const g of grads) step(opt, ref, g);
    const v = variable([1, 2]);
    const first = make();
    for (const g of grads.slice(0, 2)) step(first, v, g);
    // Save, rename the state onto a clone of the variable, restore into a fresh optimizer.
    const saved = await first.getWeights();
    const copy = tf.variable(v.clone(), true, `${v.name}_copy`);
    const renamed = saved.map((w, i) =>
      i === 0 ? w : { name: w.name.replace(v.name, copy.name), tensor: w.tensor.clone() },
    );
    first.dispose();
    const second = make();
    await second.setWeights(renamed);
    renamed.slice(1).forEach((w) => w.tensor.dispose());
    assert.equal(second.iterations, 2);
    for (const g of grads.slice(2)) step(second, copy, g);
    assertValues(copy, Array.from(ref.dataSync()), `${second.getClassName()} resumed`);
    for (const t of [opt, second, ref, v, copy]) t.dispose();
  }
});

test("getConfig/fromConfig round-trip through tfjs serialisation", () => {
  const map = tf.serialization.SerializationMap.getMap().classNameMap;
  const cases: [SlotOptimizer, string][] = [
    [
      new Lamb({
        learningRate: 0.02,
        beta2: 0.99,
        biasCorrection: false,
        excludeFromWeightDecay: ["bias$"],
      }),
      "Lamb",
    ],
    [
      new Lars({ momentum: 0.8, trustCoefficient: 0.02, excludeFromAdaptation: ["gamma$"] }),
      "Lars",
    ],
    [new AdamW({ weightDecay: 0.1, epsilon: 1e-6 }), "AdamW"],
  ];
  for (const [opt, name] of cases) {
    assert.equal(opt.getClassName(), name);
    const [cls, fromConfig] = map[name];
    const json = JSON.parse(JSON.stringify(opt.getConfig()));
    const back = fromConfig(cls, json) as SlotOptimizer;
    assert.deepEqual(back.getConfig(), opt.getConfig());
    assert.equal(back.constructor, opt.constructor);
  }
});

test("options are validated, naming the option and the value", () => {
  assert.throws(() => new Lamb({ beta1: 1 }), /Lamb: beta1 must be a number in \[0, .*got 1/);
  assert.throws(() => new Lamb({ learningRate: -1 }), /Lamb: learningRate .* got -1/);
  assert.throws(() => new Lamb({ excludeFromWeightDecay: ["("] }), /invalid regular expression/);
  assert.throws(
    () => new Lamb({ excludeFromWeightDecay: "bias" as unknown as string[] }),
    /excludeFromWeightDecay must be an array of strings/,
  );
  assert.throws(() => new Lars({ trustCoefficient: 0 }), /Lars: trustCoefficient .* got 0/);
  assert.throws(() => new AdamW({ weightDecay: NaN }), /AdamW: weightDecay .* got NaN/);
  assert.throws(() => new AdamW({ lr: 1 } as never), /AdamW: unknown option 'lr'/);
  const o = new Lamb();
  assert.throws(() => (o.learningRate = Infinity), OptimizerConfigError);
  setLearningRate(o, 0.25); // trainStep's path: plain assignment to learningRate
  assert.equal(o.learningRate, 0.25);
});

test("no tensor leaks: numTensors is constant after the first step; dispose frees the state", async () => {
  await useTrainingBackend();
  const task = classificationTask([20], 4);
  const x = new Float32Array(16 * 20).map((_, i) => Math.sin(i));
  const y = new Int32Array(16).map((_, i) => i % 4);
  for (const make of [() => new Lamb(), () => new Lars(), () => new AdamW()]) {
    const model = mlp({ inputShape: [20], numClasses: 4, hidden: [8], seed: 1 });
    const base = tf.memory().numTensors;
    const opt = make();
    const run = () =>
      trainStep(model, opt, task, { x, y, size: 16 }, { microBatchSize: 16, learningRate: 0.01 });
    run();
    const after1 = tf.memory().numTensors;
    // 2 slots (m, v) or 1 (velocity) per trainable variable (4 variables). (By class name:
    // tf.Optimizer's Symbol.hasInstance is duck-typed, so `instanceof Lars` is true for all.)
    assert.equal(
      after1 - base,
      (opt.getClassName() === "Lars" ? 1 : 2) * 4,
      `${opt.getClassName()} state`,
    );
    for (let i = 0; i < 3; i++) run();
    assert.equal(tf.memory().numTensors, after1, `${opt.getClassName()} leaked`);
    opt.dispose();
    assert.equal(tf.memory().numTensors, base);
    model.dispose();
  }
});

test("usable by LayersModel.fit: LAMB lowers the training loss of a small classifier", async () => {
  await useTrainingBackend();
  const model = mlp({ inputShape: [8], numClasses: 3, hidden: [16], seed: 2 });
  const opt = new Lamb({ learningRate: 0.02, excludeFromWeightDecay: [...BIAS_AND_NORM_PATTERNS] });
  // batchwise's models output logits; Keras's sparse cross-entropy expects probabilities.
  const xs = tf.tensor2d(
    Array.from({ length: 64 * 8 }, (_, i) => Math.cos(i * 0.7)),
    [64, 8],
  );
  const ys = tf.tensor1d(
    Array.from({ length: 64 }, (_, i) => i % 3),
    "float32",
  );
  const probs = tfl.sequential({
    layers: [model, tfl.layers.activation({ activation: "softmax" })],
  });
  probs.compile({ optimizer: opt, loss: "sparseCategoricalCrossentropy" });
  const h = await probs.fit(xs, ys, { epochs: 8, batchSize: 16, verbose: 0, shuffle: false });
  const losses = h.history.loss as number[];
  assert.ok(losses[losses.length - 1] < losses[0] * 0.9, `loss ${losses[0]} → ${losses.at(-1)}`);
  assert.equal(opt.stateVariableNames().length, 4);
  xs.dispose();
  ys.dispose();
  probs.dispose();
  opt.dispose();
});
