import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { useTrainingBackend, randn } from "../helpers/backends";
import { mlp } from "../../lib/models/small";
import { classificationTask } from "../../lib/grad/task";
import { trainableVariables } from "../../lib/grad/batch";
import {
  bSimpleFromDiversity,
  gradientDiversity,
  measureGradientDiversity,
} from "../../lib/noise/diversity";
import { microBatchEstimate } from "../../lib/noise/micro-batch-estimate";
import { batchTensors } from "../../lib/grad/batch";
import { relErr } from "./helpers";

test("gradient diversity by hand", () => {
  // Identical gradients: Δ = n|g|²/(n²|g|²) = 1/n.
  assert.ok(Math.abs(gradientDiversity([2, 2, 2, 2], 2) - 0.25) < 1e-12);
  // g = (1, 0) and (0, 1): Σ|g_i|² = 2, |Σ g_i|² = 2 → Δ = 1; mean G = (½, ½), |G|² = ½.
  assert.ok(Math.abs(gradientDiversity([1, 1], 0.5) - 1) < 1e-12);
  // n·Δ = 1 + B_simple: tr Σ_pop = mean|g|² − |G|² = 1 − ½ = ½ → B_simple = 1 = 2·1 − 1.
  assert.equal(bSimpleFromDiversity(2, 1), 1);
  assert.throws(
    () => gradientDiversity([1], 0),
    /meanGradSqNorm must be a finite number > 0, got 0/,
  );
  assert.throws(() => gradientDiversity([], 1), /perExampleSqNorms must not be empty/);
});

test("n·Δ = 1 + B_simple on exact per-example gradients of an MLP", async () => {
  await useTrainingBackend();
  const n = 24;
  const task = classificationTask([12], 4);
  const model = mlp({ inputShape: [12], numClasses: 4, hidden: [16], seed: 7 });
  const batch = {
    x: randn(n * 12, 3),
    y: Int32Array.from({ length: n }, (_, i) => (i * 7) % 4),
    size: n,
  };
  const before = tf.memory().numTensors;
  // Exact per-example gradient vectors, one at a time, flattened to Float64.
  const vars = trainableVariables(model);
  const gs: Float64Array[] = [];
  for (let i = 0; i < n; i++) {
    const flat = tf.tidy(() => {
      const { x, y } = batchTensors(task, batch, i, 1);
      const { grads } = tf.variableGrads(() => task.lossSum(model, x, y, true), vars);
      return tf.concat(Object.values(grads).map((g) => tf.reshape(g, [-1])));
    });
    gs.push(Float64Array.from(flat.dataSync()));
    flat.dispose();
  }
  const P = gs[0].length;
  const G = new Float64Array(P);
  for (const g of gs) for (let k = 0; k < P; k++) G[k] += g[k] / n;
  const g2 = G.reduce((p, q) => p + q * q, 0);
  // Population covariance trace from the vectors themselves: (1/n)Σ|g_i − G|².
  let trSigma = 0;
  for (const g of gs) for (let k = 0; k < P; k++) trSigma += (g[k] - G[k]) ** 2 / n;
  const bSimple = trSigma / g2;
  const delta = gs.reduce((p, g) => p + g.reduce((a, b) => a + b * b, 0), 0) / (n * n * g2);
  assert.ok(
    relErr(n * delta, 1 + bSimple) < 1e-9,
    `nΔ ${n * delta} vs 1 + B_simple ${1 + bSimple}`,
  );

  // The library's path: per-example norms (both methods) and the batch mean gradient.
  for (const method of ["loop", "dense"] as const) {
    const m = measureGradientDiversity(model, task, batch, { method });
    assert.ok(relErr(m.diversity, delta) < 1e-4, `${method}: Δ ${m.diversity} vs ${delta}`);
    assert.ok(relErr(m.bSimple, bSimple) < 1e-3, `${method}: B_simple ${m.bSimple} vs ${bSimple}`);
    // The B_small = 1 estimator with the finite-population correction, fed the whole
    // population (B = n), returns the population |G|² and tr Σ exactly.
    const e = microBatchEstimate(
      {
        microBatchSizes: new Array(n).fill(1),
        microBatchSqNorms: m.perExampleSqNorms,
        gradSqNorm: m.meanGradSqNorm,
      },
      { datasetSize: n },
    ) as { gradSqNorm: number; traceSigma: number };
    assert.ok(relErr(e.gradSqNorm, g2) < 1e-3, `${method}: |G|² ${e.gradSqNorm} vs ${g2}`);
    assert.ok(
      relErr(e.traceSigma, trSigma) < 1e-3,
      `${method}: tr Σ ${e.traceSigma} vs ${trSigma}`,
    );
    assert.ok(relErr(n * m.diversity, 1 + e.traceSigma / e.gradSqNorm) < 1e-3);
  }
  assert.equal(tf.memory().numTensors, before, "tensors leaked");
  model.dispose();
});
