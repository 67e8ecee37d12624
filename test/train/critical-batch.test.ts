import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { useTrainingBackend, randn } from "../helpers/backends";
import { ConfigError } from "../../lib/core/errors";
import { sampleBatch, samplerInit } from "../../lib/data/sampler";
import type { DataSource } from "../../lib/data/source";
import { classificationTask } from "../../lib/grad/task";
import { mlp } from "../../lib/models/small";
import { AdaScale, Adam } from "../../lib/optim";
import {
  batchGradient,
  fullGradient,
  loss,
  makeLeastSquares,
  type LeastSquaresProblem,
} from "../../lib/theory/least-squares";
import {
  branchLearningRate,
  chooseCriticalBatch,
  doublingBatchSizes,
  measureCriticalBatch,
  modelBranchRunner,
  type BranchRunner,
} from "../../lib/train/critical-batch";
import { trainStep } from "../../lib/train/step";

/**
 * The full noise scale at x in closed form (McCandlish et al. 2018, arXiv:1812.06162, §2.2):
 * `B_noise = tr(HΣ)/(GᵀHG)`, with per-example gradients g_i = a_i(a_iᵀx − b_i), G their mean,
 * Σ = mean(g_i g_iᵀ) − GGᵀ, so tr(HΣ) = mean(g_iᵀHg_i) − GᵀHG. Also ε_max = |G|²/(GᵀHG).
 */
function noiseAt(p: LeastSquaresProblem, x: Float64Array) {
  const { n, d, A, b, H } = p;
  const quad = (v: Float64Array) => {
    let q = 0;
    for (let j = 0; j < d; j++) for (let k = 0; k < d; k++) q += v[j] * H[j * d + k] * v[k];
    return q;
  };
  let meanQ = 0;
  const g = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    let r = -b[i];
    for (let j = 0; j < d; j++) r += A[i * d + j] * x[j];
    for (let j = 0; j < d; j++) g[j] = r * A[i * d + j];
    meanQ += quad(g) / n;
  }
  const G = fullGradient(p, x);
  const gHg = quad(G);
  const g2 = G.reduce((s, v) => s + v * v, 0);
  return { bNoise: (meanQ - gHg) / gHg, epsMax: g2 / gHg };
}

/** Plain SGD on the least-squares problem as a branch runner (state: the model x). */
function leastSquaresRunner(p: LeastSquaresProblem, x: Float64Array): BranchRunner<Float64Array> {
  return {
    save: () => x.slice(),
    restore: (s) => x.set(s),
    runBranch({ batchSize, learningRate, steps, seed }) {
      let state = samplerInit({ n: p.n, seed });
      for (let k = 0; k < steps; k++) {
        const s = sampleBatch(state, batchSize);
        state = s.state;
        const { grad } = batchGradient(p, x, s.indices);
        for (let j = 0; j < p.d; j++) x[j] -= learningRate * grad[j];
      }
      return loss(p, x);
    },
  };
}

test("chooseCriticalBatch, branchLearningRate, doublingBatchSizes: closed forms", () => {
  // threshold = 1 + 1.05·(1.0 − 0) = 1.05: 16 passes (1.03), 32 fails (1.2), 64 passes but
  // comes after a failure, so the CBS is 16.
  const c = chooseCriticalBatch([8, 16, 32, 64], [1.0, 1.03, 1.2, 1.01], 0.05);
  assert.equal(c.criticalBatchSize, 16);
  assert.ok(Math.abs(c.threshold - 1.05) < 1e-12);
  assert.deepEqual(c.within, [true, true, false, true]);
  // with F* = 0.9: excess 0.1 → threshold 0.9 + 1.05·0.1 = 1.005, so 16 (1.03) fails
  assert.equal(chooseCriticalBatch([8, 16], [1.0, 1.03], 0.05, 0.9).criticalBatchSize, 8);
  assert.equal(chooseCriticalBatch([8, 16], [1.0, NaN], 0.05).criticalBatchSize, 8);
  assert.deepEqual(doublingBatchSizes(8, 4), [8, 16, 32, 64]);
  assert.equal(branchLearningRate(0.1, 64, 16, "linear"), 0.4);
  assert.ok(Math.abs(branchLearningRate(0.1, 64, 16, "sqrt") - 0.2) < 1e-15);
  assert.equal(branchLearningRate(0.1, 64, 16, "none"), 0.1);
});

test("branched CBS on noisy least squares lands within a factor 2 of B_noise", async () => {
  // Isotropic design (κ = 1: H ≈ I, so ε_max = |G|²/GᵀHG ≈ 1/λ and B_noise ≈ B_simple), label
  // noise σ = 8, x = 0. Branches start from lr₀ = ε_opt(B₀) = ε_max/(1 + B_noise/B₀), the
  // optimal step at the smallest batch (McCandlish et al. 2018, eq. 2.6), linear rule: the
  // step reaches ε_max near B = B_noise and 2ε_max (no progress, then divergence) near
  // 2 B_noise, so the CBS is of the order of B_noise. Measured for problem seeds 1–5:
  // B_noise = 19.7–22.5 and CBS = 16 for each (the loss ratio to B₀ passes 1.2 only at B = 32+).
  const p = makeLeastSquares({ n: 8192, d: 8, conditionNumber: 1, noise: 8, signal: 3, seed: 3 });
  const x = new Float64Array(p.d);
  const { bNoise, epsMax } = noiseAt(p, x);
  const b0 = 4;
  const r = await measureCriticalBatch(leastSquaresRunner(p, x), {
    batchSizes: doublingBatchSizes(b0, 9),
    learningRate: epsMax / (1 + bNoise / b0),
    lrRule: "linear",
    examplesPerBranch: 1024,
    tolerance: 0.2,
    seeds: [0, 1, 2, 3, 4, 5, 6, 7],
  });
  const cbs = r.criticalBatchSize;
  assert.ok(
    cbs >= bNoise / 2 && cbs <= 2 * bNoise,
    `CBS ${cbs} vs B_noise ${bNoise.toFixed(1)}: ${r.branches.map((b) => `${b.batchSize}:${b.meanLoss.toFixed(3)}`).join(" ")}`,
  );
  // The state is back at x = 0, and the branches used ⌊E/B⌋ updates.
  assert.ok(x.every((v) => v === 0));
  assert.deepEqual(
    r.branches.map((b) => b.steps),
    [256, 128, 64, 32, 16, 8, 4, 2, 1],
  );
});

test("a measurement leaves the model's weights and the optimizer's state bit-identical", async () => {
  await useTrainingBackend();
  const task = classificationTask([6], 3);
  const n = 96;
  const xs = randn(n * 6, 11);
  const ys = new Int32Array(n).map((_, i) => (i * 7) % 3);
  const train: DataSource = {
    n,
    batch(idx) {
      const x = new Float32Array(idx.length * 6);
      idx.forEach((k, i) => x.set(xs.subarray(k * 6, k * 6 + 6), i * 6));
      return { x, y: Int32Array.from(idx, (k) => ys[k]), size: idx.length };
    },
  };
  for (const makeOpt of [
    () => new Adam({ learningRate: 0.01 }),
    () => tf.train.momentum(0.05, 0.9),
    () => {
      const a = new AdaScale(new Adam({ learningRate: 0.01 }), { scale: 2, baseBatchSize: 4 });
      a.setStatistics(3, 1);
      return a;
    },
  ]) {
    const model = mlp({ inputShape: [6], numClasses: 3, hidden: [8], seed: 4 });
    const optimizer = makeOpt();
    // Some state first: three updates.
    for (let k = 0; k < 3; k++) {
      trainStep(
        model,
        optimizer,
        task,
        train.batch(Int32Array.from({ length: 8 }, (_, i) => i + 8 * k)),
        {
          microBatchSize: 8,
          learningRate: 0.01,
        },
      );
    }
    const before = model.getWeights().map((w) => Array.from(w.dataSync()));
    const optBefore = (await optimizer.getWeights()).map((w) => [
      w.name,
      Array.from(w.tensor.dataSync()),
    ]);
    const tensors = tf.memory().numTensors;
    const adaBefore = AdaScale.is(optimizer) ? optimizer.getState() : null;
    const r = await measureCriticalBatch(
      modelBranchRunner({ model, optimizer, task, train, microBatchSize: 16 }),
      {
        batchSizes: [4, 8, 16],
        learningRate: 0.01,
        examplesPerBranch: 32,
        seeds: [0, 1],
      },
    );
    assert.equal(r.branches.length, 3);
    assert.ok(r.branches.every((b) => b.losses.length === 2 && Number.isFinite(b.meanLoss)));
    assert.deepEqual(
      model.getWeights().map((w) => Array.from(w.dataSync())),
      before,
    );
    const optAfter = (await optimizer.getWeights()).map((w) => [
      w.name,
      Array.from(w.tensor.dataSync()),
    ]);
    assert.deepEqual(optAfter, optBefore);
    // AdaScale: the branches step its wrapped optimizer; τ, S and the statistics stay exact.
    if (AdaScale.is(optimizer)) assert.deepEqual(optimizer.getState(), adaBefore);
    // tfjs's own momentum/Adam setWeights do not free the state they replace (a tfjs leak);
    // batchwise's optimizers do, so with them a measurement leaks nothing.
    if (optimizer instanceof Adam && optimizer.getClassName() === "BatchwiseAdam") {
      assert.ok(
        tf.memory().numTensors <= tensors + 1,
        `tensors ${tensors} → ${tf.memory().numTensors}`,
      );
    }
    model.dispose();
    optimizer.dispose();
  }
});

test("bad options throw ConfigError naming the parameter and value", async () => {
  const p = makeLeastSquares({ n: 64, d: 2, seed: 1 });
  const runner = leastSquaresRunner(p, new Float64Array(2));
  const base = { batchSizes: [4, 8], learningRate: 0.1, examplesPerBranch: 16 };
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ batchSizes: [8, 4] }, /batchSizes must be strictly increasing, got 8 then 4/],
    [{ batchSizes: [0, 4] }, /batchSizes\[0\] must be an integer >= 1, got 0/],
    [{ batchSizes: [] }, /batchSizes must be a non-empty array/],
    [{ learningRate: 0 }, /learningRate must be a finite number > 0, got 0/],
    [{ lrRule: "cubic" }, /lrRule must be one of linear, sqrt, none, got cubic/],
    [{ examplesPerBranch: 4 }, /examplesPerBranch must be an integer >= 8, got 4/],
    [{ tolerance: -0.1 }, /tolerance must be a finite number >= 0, got -0.1/],
    [{ seeds: [] }, /seeds must be a non-empty array/],
    [{ seeds: [1.5] }, /seeds\[0\] must be an integer >= 0, got 1.5/],
    [{ optimalLoss: NaN }, /optimalLoss must be a finite number, got NaN/],
  ];
  for (const [bad, re] of cases) {
    await assert.rejects(
      measureCriticalBatch(runner, { ...base, ...bad } as never),
      (e: unknown) => e instanceof ConfigError && re.test(e.message),
      JSON.stringify(bad),
    );
  }
});
