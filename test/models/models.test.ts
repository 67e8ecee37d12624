/**
 * Model builders: each builds, has the expected output shape and the parameter count of its
 * architecture's formula, and trains on the training backend (wasm + kernel pack, or tensorflow; see test/helpers/backends.ts) (a few steps on a
 * tiny batch lower the loss; the tensor count is constant after the first step).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { randn, useTrainingBackend } from "../helpers/backends";
import { countParams, mlp, smallCnn } from "../../lib/models/small";
import {
  efficientNet,
  efficientNetB0,
  efficientNetParamCount,
  roundFilters,
  roundRepeats,
} from "../../lib/models/efficientnet";
import { resnetCifar, resnetParamCount } from "../../lib/models/resnet";
import { gptLm, gptParamCount } from "../../lib/models/gpt";
import { Normalization } from "../../lib/models/layers";
import { classificationTask, languageModelTask, type Task } from "../../lib/grad/task";
import { trainStep } from "../../lib/train/step";
import { type StepBatch } from "../../lib/data/source";
import { AdamW } from "../../lib/optim";

function trainable(model: tfl.LayersModel): number {
  return model.trainableWeights.reduce(
    (n, w) => n + w.shape.reduce((p: number, q) => p * (q ?? 1), 1),
    0,
  );
}

function imageBatch(b: number, shape: number[], classes: number, seed: number): StepBatch {
  const n = b * shape.reduce((p, q) => p * q, 1);
  return {
    x: randn(n, seed),
    y: new Int32Array(b).map((_, i) => (i * 7 + seed) % classes),
    size: b,
  };
}

/** Training-mode loss of `batch` without an update (BN uses batch statistics). */
function lossOf(model: tfl.LayersModel, task: Task, batch: StepBatch): number {
  const x = tf.tensor(batch.x, [batch.size, ...task.xShape], task.xDtype);
  const y =
    task.yPerExample === 1
      ? tf.tensor1d(batch.y, "int32")
      : tf.tensor2d(batch.y, [batch.size, task.yPerExample], "int32");
  const l = tf.tidy(() => tf.div(task.lossSum(model, x, y, true), batch.size));
  const v = l.dataSync()[0];
  tf.dispose([x, y, l]);
  return v;
}

/**
 * Takes `steps` AdamW steps on one batch; asserts the loss went down and that the tensor
 * count did not change after the first step (optimizer state is created then).
 */
function trainsWithoutLeaks(
  model: tfl.LayersModel,
  task: Task,
  batch: StepBatch,
  steps: number,
  lr: number,
): { before: number; after: number } {
  const opt = new AdamW({ learningRate: lr, weightDecay: 0 });
  const before = lossOf(model, task, batch);
  const step = () =>
    trainStep(model, opt, task, batch, { microBatchSize: batch.size, learningRate: lr });
  step();
  const n = tf.memory().numTensors;
  for (let i = 1; i < steps; i++) step();
  assert.equal(tf.memory().numTensors, n, `${model.name}: tensors leaked`);
  const after = lossOf(model, task, batch);
  assert.ok(after < before, `${model.name}: loss ${before} → ${after} did not decrease`);
  opt.dispose();
  return { before, after };
}

test("MLP and small CNN: shapes, parameter formulas, training on the training backend", async () => {
  await useTrainingBackend();
  const m = mlp({ inputShape: [784], numClasses: 10, hidden: [32, 16], seed: 1 });
  // Σ (in·out + out) over 784→32→16→10
  assert.equal(countParams(m), 784 * 32 + 32 + 32 * 16 + 16 + 16 * 10 + 10);
  trainsWithoutLeaks(m, classificationTask([784], 10), imageBatch(16, [784], 10, 1), 3, 1e-2);
  m.dispose();
  const c = smallCnn({ inputShape: [28, 28, 1], numClasses: 10, seed: 2 });
  // conv 9·1·32+32, conv 9·32·64+64, dense (5·5·64)·128+128, dense 128·10+10
  assert.equal(countParams(c), 320 + 18496 + 1600 * 128 + 128 + 1290);
  assert.equal(countParams(c), 225034);
  trainsWithoutLeaks(
    c,
    classificationTask([28, 28, 1], 10),
    imageBatch(8, [28, 28, 1], 10, 2),
    3,
    1e-3,
  );
  c.dispose();
});

test("ResNet-18/34 (CIFAR form): formula = built count = pytorch-cifar's counts", async () => {
  await useTrainingBackend();
  for (const [depth, expected] of [
    [18, 11_173_962],
    [34, 21_282_122],
  ] as const) {
    const opts = { depth, inputShape: [32, 32, 3], numClasses: 10 };
    const formula = resnetParamCount(opts);
    assert.equal(formula.trainable, expected, `ResNet-${depth} trainable (PyTorch's count)`);
    // Built at 8×8: the count does not depend on height and width (global pooling).
    const m = resnetCifar({ ...opts, inputShape: [8, 8, 3] });
    assert.equal(trainable(m), formula.trainable);
    assert.equal(countParams(m), formula.total);
    assert.deepEqual(m.outputs[0].shape, [null, 10]);
    m.dispose();
  }
  assert.throws(
    () => resnetCifar({ depth: 50 as 18, inputShape: [32, 32, 3], numClasses: 10 }),
    /depth must be 18 or 34, got 50/,
  );
});

test("ResNet-18 trains at 16×16 without leaking", async () => {
  await useTrainingBackend();
  const m = resnetCifar({ depth: 18, inputShape: [16, 16, 3], numClasses: 10, seed: 3 });
  const r = trainsWithoutLeaks(
    m,
    classificationTask([16, 16, 3], 10),
    imageBatch(8, [16, 16, 3], 10, 3),
    3,
    1e-3,
  );
  assert.ok(Number.isFinite(r.after));
  const y = m.predict(tf.zeros([2, 16, 16, 3])) as tf.Tensor;
  assert.deepEqual(y.shape, [2, 10]);
  y.dispose();
  m.dispose();
});

test("EfficientNet-B0: Keras's 5,330,571 parameters (224×224×3, 1000 classes, preprocessing)", async () => {
  await useTrainingBackend();
  const m = efficientNetB0({ inputShape: [224, 224, 3], numClasses: 1000, preprocessing: true });
  // Keras: Total params 5,330,571; trainable 5,288,548; non-trainable 42,023 = BN moving
  // means/variances (42,016) + Normalization's mean (3), variance (3) and count (1).
  assert.equal(countParams(m), 5_330_571);
  assert.equal(trainable(m), 5_288_548);
  assert.deepEqual(efficientNetParamCount({ inputShape: [224, 224, 3], preprocessing: true }), {
    total: 5_330_571,
    trainable: 5_288_548,
    nonTrainable: 42_023,
  });
  // Without Keras's preprocessing stem the 7 Normalization weights are absent.
  assert.equal(efficientNetParamCount({ inputShape: [224, 224, 3] }).total, 5_330_564);
  assert.deepEqual(m.outputs[0].shape, [null, 1000]);
  m.dispose();
  // Other members by their multipliers: Keras's counts for B1 (1.0, 1.1) and B2 (1.1, 1.2).
  const b1 = {
    inputShape: [240, 240, 3],
    preprocessing: true,
    widthCoefficient: 1,
    depthCoefficient: 1.1,
  };
  assert.equal(efficientNetParamCount(b1).total, 7_856_239);
  assert.equal(
    efficientNetParamCount({ ...b1, widthCoefficient: 1.1, depthCoefficient: 1.2 }).total,
    9_177_569,
  );
});

test("EfficientNet scaling rules and a scaled build agree with the formula", async () => {
  await useTrainingBackend();
  assert.equal(roundFilters(32, 1), 32);
  assert.equal(roundFilters(1280, 1.1), 1408); // 1408 = ⌊(1408 + 4)/8⌋·8
  assert.equal(roundFilters(16, 1.1), 16); // 17.6 → ⌊21.6/8⌋·8 = 16 ≥ 0.9·17.6
  assert.equal(roundFilters(24, 1.4), 32); // 33.6 → 32 ≥ 30.24
  assert.equal(roundRepeats(3, 1.2), 4);
  assert.equal(roundRepeats(1, 1.1), 2);
  const opts = {
    inputShape: [32, 32, 3],
    numClasses: 10,
    widthCoefficient: 1.1,
    depthCoefficient: 1.2,
  };
  const m = efficientNet(opts);
  assert.equal(countParams(m), efficientNetParamCount(opts).total);
  m.dispose();
  assert.throws(
    () => efficientNet({ inputShape: [32, 32], numClasses: 10 }),
    /inputShape must be 3 positive integers/,
  );
  assert.throws(
    () => efficientNet({ inputShape: [32, 32, 3], dropConnectRate: 1 }),
    /dropConnectRate must be in \[0, 1\), got 1/,
  );
});

test("EfficientNet-B0 at 28×28×1 and 32×32×3: shapes, and it trains without leaking", async () => {
  await useTrainingBackend();
  for (const shape of [
    [28, 28, 1],
    [32, 32, 3],
  ]) {
    const opts = { inputShape: shape, numClasses: 10, dropoutRate: 0, dropConnectRate: 0, seed: 5 };
    const m = efficientNetB0(opts);
    assert.equal(countParams(m), efficientNetParamCount(opts).total);
    if (shape[2] === 1) {
      trainsWithoutLeaks(m, classificationTask(shape, 10), imageBatch(8, shape, 10, 4), 3, 1e-3);
    }
    const y = m.predict(tf.zeros([2, ...shape])) as tf.Tensor;
    assert.deepEqual(y.shape, [2, 10]);
    y.dispose();
    m.dispose();
  }
});

test("EfficientNet drop-connect: whole examples of a residual branch, only in training", async () => {
  await useTrainingBackend();
  const m = efficientNetB0({
    inputShape: [32, 32, 3],
    numClasses: 10,
    dropConnectRate: 0.5,
    dropoutRate: 0,
    batchNormMomentum: 0.9,
  });
  assert.equal((m.getLayer("top_bn").getConfig() as { momentum: number }).momentum, 0.9);
  const drops = m.layers.filter((l) => l.name.endsWith("_drop"));
  // Residual blocks: the 16 blocks less the 7 that open a stage (each changes the stride or
  // the width); all 9 have rate 0.5·b/16 > 0, so each gets a drop-connect layer.
  assert.equal(drops.length, 9);
  const x = tf.randomNormal([4, 32, 32, 3]);
  const p1 = m.predict(x) as tf.Tensor;
  const p2 = m.predict(x) as tf.Tensor;
  assert.deepEqual(p1.arraySync(), p2.arraySync(), "inference must be deterministic");
  const drop = drops[drops.length - 1]; // block7… has the largest rate
  const h = tf.ones([64, 2, 2, 3]);
  const out = drop.apply(h, { training: true }) as tf.Tensor;
  // Each example is all zeros or all 1/(1 − rate).
  const rate = (drop.getConfig() as { rate: number }).rate;
  for (const ex of out.arraySync() as number[][][][]) {
    const flat = ex.flat(2);
    const v = flat[0];
    assert.ok(v === 0 || Math.abs(v - 1 / (1 - rate)) < 1e-6, `value ${v}`);
    assert.ok(
      flat.every((u) => u === v),
      "drop-connect must drop whole examples",
    );
  }
  tf.dispose([x, p1, p2, h, out]);
  m.dispose();
});

test("GPT char LM: formula count, causal output shape, trains without leaking", async () => {
  await useTrainingBackend();
  const opts = { vocabSize: 65, context: 16, layers: 2, heads: 4, width: 32, seed: 7 };
  const m = gptLm(opts);
  // V·d + T·d + L(12d² + 13d) + 2d + d·V + V with V = 65, T = 16, L = 2, d = 32
  assert.equal(
    gptParamCount(opts),
    65 * 32 + 16 * 32 + 2 * (12 * 1024 + 13 * 32) + 64 + 32 * 65 + 65,
  );
  assert.equal(countParams(m), gptParamCount(opts));
  assert.equal(gptParamCount({ vocabSize: 65, context: 128 }), 826_433); // the benchmark's config
  const task = languageModelTask(16, 65);
  const x = new Int32Array(8 * 16).map((_, i) => (i * 7) % 65);
  const y = new Int32Array(8 * 16).map((_, i) => (i * 7 + 7) % 65);
  const r = trainsWithoutLeaks(m, task, { x, y, size: 8 }, 4, 3e-3);
  assert.ok(r.before > 3.5 && r.before < 4.8, `initial loss ${r.before} ≈ ln 65 = 4.17`);
  const out = m.predict(tf.zeros([3, 16], "int32")) as tf.Tensor;
  assert.deepEqual(out.shape, [3, 16, 65]);
  out.dispose();
  // The configuration round-trips through tfjs-layers' JSON (custom layers are registered).
  const json = m.toJSON(null, false) as unknown as tf.io.ModelJSON["modelTopology"];
  const m2 = await tfl.models.modelFromJSON({ modelTopology: json } as unknown as tf.io.ModelJSON);
  assert.equal(countParams(m2), countParams(m));
  m2.dispose();
  m.dispose();
  assert.throws(
    () => gptLm({ vocabSize: 65, context: 16, width: 30, heads: 4 }),
    /width 30 must be a multiple of heads 4/,
  );
});

test("Normalization layer: Keras's formula and weights; round-trips through JSON", async () => {
  await useTrainingBackend();
  const n = new Normalization({ mean: [1, 2], variance: [4, 0] });
  const x = tf.tensor([[[[3, 2]]]]);
  const y = n.apply(x) as tf.Tensor;
  // (3 − 1)/√4 = 1; (2 − 2)/max(√0, 1e-7) = 0
  assert.deepEqual(Array.from(y.dataSync()), [1, 0]);
  assert.equal(n.countParams(), 5); // mean 2 + variance 2 + count 1
  assert.equal(n.trainableWeights.length, 0);
  assert.deepEqual((n.getConfig() as { mean: number[] }).mean, [1, 2]);
  tf.dispose([x, y]);
  n.weights.forEach((w) => w.dispose());
  assert.throws(
    () => new Normalization({ mean: [1], variance: [1, 2] }),
    /mean has 1 entries, variance 2/,
  );
});
