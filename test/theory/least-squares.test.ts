import { test } from "node:test";
import assert from "node:assert/strict";
import { adaDampSchedule } from "../../lib/schedules/adadamp";
import { constantSchedule } from "../../lib/schedules/constant";
import { gdSchedule } from "../../lib/schedules/gd";
import {
  batchGradient,
  expectedSmoothness,
  fullGradient,
  loss,
  lossGap,
  makeLeastSquares,
  noiseScaleAt,
} from "../../lib/theory/least-squares";
import { choleskySolve, symmetricEigenvalues } from "../../lib/theory/linalg";
import { runToTolerance } from "../../lib/theory/run-to-tolerance";

const p = makeLeastSquares({ n: 10_000, d: 50, seed: 3 });

function randomVector(d: number, seed: number, scale = 1): Float64Array {
  // a small LCG is enough for test points
  let s = seed >>> 0;
  return Float64Array.from({ length: d }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return scale * (s / 2 ** 32 - 0.5) * 2;
  });
}

test("small linear-algebra helpers: Cholesky solve and Jacobi eigenvalues", () => {
  // [[4, 2], [2, 3]] x = [2, 1] → x = [0.5, 0]
  const x = choleskySolve(new Float64Array([4, 2, 2, 3]), new Float64Array([2, 1]));
  assert.ok(Math.abs(x[0] - 0.5) < 1e-15 && Math.abs(x[1]) < 1e-15);
  const ev = symmetricEigenvalues(new Float64Array([2, 1, 1, 2]), 2); // [[2,1],[1,2]]: 1, 3
  assert.ok(Math.abs(ev[0] - 1) < 1e-14 && Math.abs(ev[1] - 3) < 1e-14, `${ev}`);
  assert.throws(
    () => choleskySolve(new Float64Array([1, 2, 2, 1]), new Float64Array(2)),
    /positive definite/,
  );
});

test("the problem: seeded, sizes, constants, F* = F(x̂) ≤ F(x)", () => {
  assert.equal(p.n, 10_000);
  assert.equal(p.d, 50);
  const q = makeLeastSquares({ n: 10_000, d: 50, seed: 3 });
  assert.deepEqual(q.b, p.b);
  assert.ok(p.mu > 0 && p.L > p.mu && p.lMax > p.L);
  assert.ok(p.L / p.mu > 6 && p.L / p.mu < 16, `κ = ${p.L / p.mu}`); // ≈ 10 by construction
  // F* ≈ σ²(n − d)/(2n) = 0.4975 for σ = 1
  assert.ok(Math.abs(p.fStar - 0.4975) < 0.02, `F* = ${p.fStar}`);
  for (let seed = 1; seed <= 5; seed++) {
    const x = randomVector(p.d, seed, 0.5);
    const f = loss(p, x);
    assert.ok(f >= p.fStar, `F(x) = ${f} < F* = ${p.fStar}`);
    // F(x) − F* = ½ (x − x̂)ᵀH(x − x̂)
    assert.ok(Math.abs(f - p.fStar - lossGap(p, x)) < 1e-10 * f);
  }
  assert.equal(lossGap(p, p.xOpt), 0);
  const g = fullGradient(p, p.xOpt);
  assert.ok(Math.hypot(...g) < 1e-12);
  assert.throws(() => makeLeastSquares({ n: 10, d: 50 }), /n must be an integer >= 50, got 10/);
});

test("the gradient matches central finite differences of F", () => {
  const x = randomVector(p.d, 11, 0.3);
  const g = fullGradient(p, x);
  const all = Int32Array.from({ length: p.n }, (_, i) => i);
  const gb = batchGradient(p, x, all);
  const h = 1e-5;
  for (const j of [0, 7, 25, 49]) {
    const xp = Float64Array.from(x);
    const xm = Float64Array.from(x);
    xp[j] += h;
    xm[j] -= h;
    const fd = (loss(p, xp) - loss(p, xm)) / (2 * h);
    assert.ok(Math.abs(fd - g[j]) < 1e-6 * Math.max(1, Math.abs(g[j])), `∂${j}: ${fd} vs ${g[j]}`);
    assert.ok(Math.abs(gb.grad[j] - g[j]) < 1e-12);
  }
  assert.ok(Math.abs(gb.loss - loss(p, x)) < 1e-12);
});

test("expected smoothness ℒ(1) = L_max, ℒ(n) = L; noise scale matches a direct sum", () => {
  assert.ok(Math.abs(expectedSmoothness(p, 1) - p.lMax) < 1e-12);
  assert.ok(Math.abs(expectedSmoothness(p, p.n) - p.L) < 1e-12);
  assert.ok(expectedSmoothness(p, 64) < expectedSmoothness(p, 16));
  // tr Σ = (1/n) Σ |∇f_i − ∇F|², computed the long way on a tiny problem
  const t = makeLeastSquares({ n: 20, d: 3, seed: 5 });
  const x = randomVector(3, 2);
  const G = fullGradient(t, x);
  let tr = 0;
  for (let i = 0; i < t.n; i++) {
    const gi = batchGradient(t, x, Int32Array.of(i)).grad;
    for (let j = 0; j < 3; j++) tr += (gi[j] - G[j]) ** 2 / t.n;
  }
  const ns = noiseScaleAt(t, x);
  assert.ok(Math.abs(ns.traceSigma - tr) < 1e-12 * tr);
  assert.ok(Math.abs(ns.gradSqNorm - (G[0] ** 2 + G[1] ** 2 + G[2] ** 2)) < 1e-14);
});

test("runToTolerance: GD converges linearly; ε above F(x_0) − F* is reached at update 0", () => {
  const gap0 = lossGap(p, new Float64Array(p.d));
  const gaps: number[] = [];
  const r = runToTolerance({
    problem: p,
    schedule: gdSchedule(),
    lr: 1 / p.L,
    epsilons: [2 * gap0, 1e-3],
    maxExamples: 1e9,
    onStep: (s) => gaps.push(s.gap),
  });
  assert.deepEqual(r.hits[0], { epsilon: 2 * gap0, updates: 0, examples: 0 });
  const k = r.hits[1].updates!;
  // GD with step 1/L: F − F* ≤ (1 − μ/L)^k (F(x_0) − F*)
  assert.ok(k <= Math.ceil(Math.log(1e-3 / gap0) / Math.log(1 - p.mu / p.L)), `k = ${k}`);
  assert.equal(r.hits[1].examples, k * p.n);
  for (let i = 1; i < gaps.length; i++) assert.ok(gaps[i] <= gaps[i - 1]);
});

test("AdaDamp reaches ε = 1e-2 in fewer model updates than constant-batch SGD", () => {
  const b0 = Math.ceil(noiseScaleAt(p, new Float64Array(p.d)).bSimple!);
  const gamma0 = 1 / expectedSmoothness(p, b0);
  const common = { problem: p, epsilons: [1e-2], maxExamples: 5e7, seed: 1 };
  const ada = runToTolerance({
    ...common,
    schedule: adaDampSchedule({ initialBatchSize: b0, optimalLoss: p.fStar }),
    lr: gamma0,
  });
  const sgd = runToTolerance({
    ...common,
    schedule: constantSchedule({ batchSize: b0 }),
    lr: (k) => gamma0 / (1 + (gamma0 * p.mu * k) / 2),
  });
  const a = ada.hits[0].updates;
  const s = sgd.hits[0].updates;
  assert.ok(a !== null && s !== null, `AdaDamp ${a}, SGD ${s}`);
  assert.ok(a < s, `AdaDamp ${a} updates, SGD ${s}`);
  assert.ok(ada.maxBatchSize > b0); // the batch grew
});
