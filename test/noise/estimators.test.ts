import { test } from "node:test";
import assert from "node:assert/strict";
import { emaInit, emaRead, emaUpdate } from "../../lib/noise/ema";
import { finitePopulationCorrection } from "../../lib/noise/finite-population";
import { gradNormLineFit } from "../../lib/noise/grad-norm-line-fit";
import { microBatchEstimate } from "../../lib/noise/micro-batch-estimate";
import { noiseScaleEstimator } from "../../lib/noise/noise-scale-estimator";
import { twoBatchEstimate } from "../../lib/noise/two-batch";
import { type MicroBatchNorms } from "../../lib/grad/types";
import { fitLine } from "../../lib/noise/linfit";
import { gaussian, relErr, uniform } from "./helpers";

test("two-batch estimators return |G|² and tr Σ exactly from exact expectations", () => {
  // |G|² = 2, tr Σ = 30: E|G_B|² = 2 + 30/B → B=3: 12, B=10: 5, B=30: 3.
  const a = twoBatchEstimate({ batchSize: 3, sqNorm: 12 }, { batchSize: 10, sqNorm: 5 });
  assert.ok(Math.abs(a.gradSqNorm - 2) < 1e-12 && Math.abs(a.traceSigma - 30) < 1e-12);
  const b = twoBatchEstimate({ batchSize: 10, sqNorm: 5 }, { batchSize: 30, sqNorm: 3 });
  assert.ok(Math.abs(b.gradSqNorm - 2) < 1e-12 && Math.abs(b.traceSigma - 30) < 1e-12);
  // Non-integer B_small (a mean micro-batch size) is allowed: B = 2.5 → 2 + 12 = 14.
  const c = twoBatchEstimate({ batchSize: 2.5, sqNorm: 14 }, { batchSize: 30, sqNorm: 3 });
  assert.ok(Math.abs(c.traceSigma - 30) < 1e-12);
  assert.throws(
    () => twoBatchEstimate({ batchSize: 8, sqNorm: 1 }, { batchSize: 8, sqNorm: 1 }),
    /small.batchSize must be < big.batchSize, got 8 and 8/,
  );
  assert.throws(
    () => twoBatchEstimate({ batchSize: 0, sqNorm: 1 }, { batchSize: 8, sqNorm: 1 }),
    /small.batchSize must be a finite number > 0, got 0/,
  );
});

test("micro-batch estimate equals the paper's two-batch pair for equal sizes; k = 1 gives null", () => {
  const rec = { microBatchSizes: [4, 4, 4], microBatchSqNorms: [7, 5, 6], gradSqNorm: 3 };
  const mb = microBatchEstimate(rec);
  // B_small = 4 with mean |g_i|² = 6; B_big = 12 with |G_B|² = 3.
  const tb = twoBatchEstimate({ batchSize: 4, sqNorm: 6 }, { batchSize: 12, sqNorm: 3 });
  assert.ok(mb != null);
  assert.ok(
    Math.abs(mb.gradSqNorm - tb.gradSqNorm) < 1e-12,
    `${mb.gradSqNorm} vs ${tb.gradSqNorm}`,
  );
  assert.ok(Math.abs(mb.traceSigma - tb.traceSigma) < 1e-12);
  // By hand: |G|² = (3·3 − 6)/2 = 1.5, tr Σ = 4·3·(6 − 3)/2 = 18.
  assert.ok(Math.abs(mb.gradSqNorm - 1.5) < 1e-12 && Math.abs(mb.traceSigma - 18) < 1e-12);
  assert.equal(
    microBatchEstimate({ microBatchSizes: [8], microBatchSqNorms: [2], gradSqNorm: 2 }),
    null,
  );
  assert.throws(
    () => microBatchEstimate({ microBatchSizes: [2, 2], microBatchSqNorms: [1], gradSqNorm: 1 }),
    /microBatchSqNorms has 1 values but microBatchSizes has 2/,
  );
  assert.throws(
    () => microBatchEstimate({ ...rec, batchSize: 13 }),
    /batchSize 13 differs from the sum of microBatchSizes 12/,
  );
});

/** k micro-batches of iid vectors g ~ N(G, diag(s²)) in Float64: their norms as trainStep reports. */
function simulate(
  rng: () => number,
  G: number[],
  s: number[],
  sizes: number[],
  pool?: Float64Array[],
): MicroBatchNorms {
  const d = pool ? pool[0].length : G.length;
  const B = sizes.reduce((p, q) => p + q, 0);
  const total = new Float64Array(d);
  const sq: number[] = [];
  let drawn = 0;
  for (const b of sizes) {
    const sum = new Float64Array(d);
    for (let j = 0; j < b; j++) {
      const g = pool ? pool[drawn++] : G.map((m, k) => m + s[k] * rng());
      for (let k = 0; k < d; k++) sum[k] += g[k];
    }
    let n2 = 0;
    for (let k = 0; k < d; k++) {
      n2 += (sum[k] / b) ** 2;
      total[k] += sum[k];
    }
    sq.push(n2);
  }
  const big = total.reduce((p, t) => p + (t / B) ** 2, 0);
  return { microBatchSizes: sizes, microBatchSqNorms: sq, gradSqNorm: big, batchSize: B };
}

test("micro-batch estimate is unbiased for unequal sizes (Monte Carlo); the naive pair is not", () => {
  const rng = gaussian(11);
  const G = [1, 0.5, -0.5];
  const s = [2, 1, 3];
  const gTrue = 1.5; // 1 + 0.25 + 0.25
  const tTrue = 14; // 4 + 1 + 9
  const sizes = [1, 3, 4, 8]; // B = 16, k = 4
  const reps = 40000;
  let g = 0;
  let t = 0;
  let naiveT = 0;
  for (let r = 0; r < reps; r++) {
    const rec = simulate(rng, G, s, sizes);
    const e = microBatchEstimate(rec) as { gradSqNorm: number; traceSigma: number };
    g += e.gradSqNorm / reps;
    t += e.traceSigma / reps;
    // Naive: plain mean of |g_i|² with B_small = mean micro size B/k = 4.
    const meanSmall = rec.microBatchSqNorms.reduce((p, q) => p + q, 0) / 4;
    naiveT +=
      twoBatchEstimate(
        { batchSize: 4, sqNorm: meanSmall },
        { batchSize: 16, sqNorm: rec.gradSqNorm },
      ).traceSigma / reps;
  }
  assert.ok(relErr(g, gTrue) < 0.03, `|G|² ${g} vs ${gTrue}`);
  assert.ok(relErr(t, tTrue) < 0.03, `tr Σ ${t} vs ${tTrue}`);
  // E[naive] = (|G|² + tr Σ·mean(1/b_i) − |G|² − tr Σ/16)/(1/4 − 1/16) = tr Σ·(0.4271 − 0.0625)/0.1875
  assert.ok(relErr(naiveT, tTrue) > 0.5, `naive tr Σ ${naiveT} should be biased`);
});

test("finite-population correction: unbiased without replacement, exact on the whole population", () => {
  const rng = gaussian(5);
  const n = 40;
  const d = 3;
  // A fixed population of n vectors; population mean G and covariance Σ_pop = (1/n)Σ(g−G)(g−G)ᵀ.
  const pop = Array.from({ length: n }, () =>
    Float64Array.from({ length: d }, (_, k) => 0.4 * (k + 1) + (k + 1) * rng()),
  );
  const G = new Float64Array(d);
  for (const g of pop) for (let k = 0; k < d; k++) G[k] += g[k] / n;
  const gTrue = G.reduce((p, q) => p + q * q, 0);
  let tTrue = 0;
  for (const g of pop) for (let k = 0; k < d; k++) tTrue += (g[k] - G[k]) ** 2 / n;

  // (a) B = n, per-example sizes, i.e. the whole population: corrected values are exact.
  const whole = simulate(rng, [], [], new Array(n).fill(1), pop);
  const exact = microBatchEstimate(whole, { datasetSize: n }) as {
    gradSqNorm: number;
    traceSigma: number;
  };
  assert.ok(relErr(exact.gradSqNorm, gTrue) < 1e-9, `${exact.gradSqNorm} vs ${gTrue}`);
  assert.ok(relErr(exact.traceSigma, tTrue) < 1e-9, `${exact.traceSigma} vs ${tTrue}`);

  // (b) Random batches of 16 without replacement, split 4+4+4+4: corrected mean → truth;
  // uncorrected |G|² is low by tr(S)/n = tr Σ_pop/(n−1), uncorrected tr Σ high by n/(n−1).
  const reps = 30000;
  let gc = 0;
  let tc = 0;
  let gu = 0;
  let tu = 0;
  const idx = Array.from({ length: n }, (_, i) => i);
  const u = uniform(6);
  for (let r = 0; r < reps; r++) {
    for (let i = 0; i < 16; i++) {
      const j = i + Math.floor(u() * (n - i)); // partial Fisher–Yates: 16 draws w/o replacement
      [idx[i], idx[j]] = [idx[j], idx[i]];
    }
    const rec = simulate(
      rng,
      [],
      [],
      [4, 4, 4, 4],
      idx.slice(0, 16).map((i) => pop[i]),
    );
    const c = microBatchEstimate(rec, { datasetSize: n }) as {
      gradSqNorm: number;
      traceSigma: number;
    };
    const w = microBatchEstimate(rec) as { gradSqNorm: number; traceSigma: number };
    gc += c.gradSqNorm / reps;
    tc += c.traceSigma / reps;
    gu += w.gradSqNorm / reps;
    tu += w.traceSigma / reps;
  }
  assert.ok(relErr(gc, gTrue) < 0.03, `corrected |G|² ${gc} vs ${gTrue}`);
  assert.ok(relErr(tc, tTrue) < 0.03, `corrected tr Σ ${tc} vs ${tTrue}`);
  assert.ok(relErr(gu, gTrue - tTrue / (n - 1)) < 0.03, `uncorrected |G|² ${gu}`);
  assert.ok(relErr(tu, (tTrue * n) / (n - 1)) < 0.03, `uncorrected tr Σ ${tu}`);
  // The correction itself, by hand.
  const f = finitePopulationCorrection({ gradSqNorm: 0.9, traceSigma: 10 }, 100);
  assert.ok(Math.abs(f.gradSqNorm - 1) < 1e-12 && Math.abs(f.traceSigma - 9.9) < 1e-12);
  assert.throws(
    () => finitePopulationCorrection(f, 1.5),
    /datasetSize must be an integer >= 2, got 1.5/,
  );
  assert.throws(
    () => microBatchEstimate(whole, { datasetSize: 10 }),
    /datasetSize 10 is smaller than the batch size 40/,
  );
});

test("bias-corrected EMA matches its closed form", () => {
  // β = 0.5, x = 4, 2, 8: m1 = 2, m2 = 1 + 1 = 2, m3 = 1 + 4 = 5;
  // m̂3 = 5/(1 − 0.125) = 40/7 = (4·0.25 + 2·0.5 + 8·1)/(0.25 + 0.5 + 1).
  let s = emaInit(0.5);
  assert.equal(emaRead(s), null);
  for (const x of [4, 2, 8]) s = emaUpdate(s, x);
  assert.deepEqual(s, { beta: 0.5, value: 5, count: 3 });
  assert.ok(Math.abs((emaRead(s) as number) - 40 / 7) < 1e-12);
  // A constant input is returned exactly from the first step (the point of the correction).
  let c = emaInit(0.99);
  for (let t = 1; t <= 50; t++) {
    c = emaUpdate(c, 3.25);
    assert.ok(Math.abs((emaRead(c) as number) - 3.25) < 1e-12);
  }
  // General closed form: m̂_t = Σ β^{t−s} x_s / Σ β^{t−s}.
  const xs = [1, -2, 5, 0.5, 3, 7, -1];
  let e = emaInit(0.8);
  xs.forEach((x) => (e = emaUpdate(e, x)));
  let num = 0;
  let den = 0;
  xs.forEach((x, i) => {
    num += 0.8 ** (xs.length - 1 - i) * x;
    den += 0.8 ** (xs.length - 1 - i);
  });
  assert.ok(Math.abs((emaRead(e) as number) - num / den) < 1e-12);
  assert.throws(() => emaInit(1), /beta must be a number in \[0, 1\), got 1/);
  assert.throws(() => emaUpdate(e, NaN), /EMA input must be finite, got NaN/);
});

test("noise-scale estimator: ratio of EMAs, guards, JSON round trip, incremental == restored", () => {
  const est = noiseScaleEstimator({ beta: 0.9 });
  const rng = gaussian(3);
  const recs = Array.from({ length: 30 }, () => simulate(rng, [1, 0], [2, 2], [8, 8, 8, 8]));
  let s = est.init();
  assert.equal(est.read(s), null);
  // A single-micro-batch step is skipped (no estimate), not absorbed.
  s = est.update(s, { microBatchSizes: [32], microBatchSqNorms: [1], gradSqNorm: 1 });
  assert.equal(s.skipped, 1);
  assert.equal(s.gradSqNorm.count, 0);
  let g = emaInit(0.9);
  let t = emaInit(0.9);
  for (const [i, r] of recs.entries()) {
    s = est.update(s, r);
    const e = microBatchEstimate(r) as { gradSqNorm: number; traceSigma: number };
    g = emaUpdate(g, e.gradSqNorm);
    t = emaUpdate(t, e.traceSigma);
    if (i === 14) {
      // Checkpoint through JSON, continue from the copy: same result as continuing in memory.
      const copy = JSON.parse(JSON.stringify(s));
      assert.deepEqual(copy, s);
      let a = copy;
      let b = s;
      for (const q of recs.slice(15)) {
        a = est.update(a, q);
        b = est.update(b, q);
      }
      assert.deepEqual(a, b);
    }
  }
  const obs = est.read(s);
  assert.ok(obs != null);
  assert.ok(Math.abs(obs.gradSqNorm - (emaRead(g) as number)) < 1e-12);
  assert.ok(Math.abs(obs.traceSigma - (emaRead(t) as number)) < 1e-12);
  assert.ok(Math.abs((obs.bSimple as number) - obs.traceSigma / obs.gradSqNorm) < 1e-12);
  assert.equal(s.updates, 31);
  // Negative per-step estimates stay in the EMA; B_simple is null when EMA|G|² ≤ 0 and
  // clipped to 0 when EMA tr Σ < 0.
  let n = est.init();
  // b = [1, 1], |g_i|² = 1, |G_B|² = 0 (g_1 = −g_2): |G|² = (0 − 2)/2 = −1, tr Σ = (2 + 2)/2 = 2.
  n = est.update(n, { microBatchSizes: [1, 1], microBatchSqNorms: [1, 1], gradSqNorm: 0 });
  assert.deepEqual(est.read(n), { gradSqNorm: -1, traceSigma: 2, bSimple: null });
  let p = est.init();
  // |g_i|² = 1, |G_B|² = 1.5 (impossible by convexity, but noise can do it in float):
  // |G|² = (6 − 2)/2 = 2, tr Σ = (2 − 4)/2 = −1.
  p = est.update(p, { microBatchSizes: [1, 1], microBatchSqNorms: [1, 1], gradSqNorm: 1.5 });
  assert.deepEqual(est.read(p), { gradSqNorm: 2, traceSigma: -1, bSimple: 0 });
  // Options are validated.
  assert.throws(
    () => noiseScaleEstimator({ beta: -0.1 }),
    /beta must be a number in \[0, 1\), got -0.1/,
  );
  assert.throws(
    () => noiseScaleEstimator({ datasetSize: 0 }),
    /datasetSize must be an integer >= 2, got 0/,
  );
  assert.throws(
    () => noiseScaleEstimator({ bogus: 1 } as unknown as { beta: number }),
    /unknown option 'bogus'/,
  );
});

test("line fit: exact line, residuals and R²; gradNormLineFit reads intercept and slope", () => {
  const f = fitLine([1, 2, 3, 4], [3, 5, 7, 9]);
  assert.ok(Math.abs(f.intercept - 1) < 1e-12 && Math.abs(f.slope - 2) < 1e-12);
  assert.ok(f.residuals.every((r) => Math.abs(r) < 1e-12) && f.r2 === 1);
  // Residuals by hand: y = [0, 1, 0] on x = [0, 1, 2] → slope 0, intercept 1/3, residuals
  // [−1/3, 2/3, −1/3], SS_res = 2/3, SS_tot = 2/3 → R² = 0.
  const g = fitLine([0, 1, 2], [0, 1, 0]);
  assert.ok(Math.abs(g.slope) < 1e-12 && Math.abs(g.intercept - 1 / 3) < 1e-12);
  assert.ok(Math.abs(g.residuals[1] - 2 / 3) < 1e-12 && Math.abs(g.r2) < 1e-12);
  const h = gradNormLineFit([
    { batchSize: 4, gradSqNorm: 5 },
    { batchSize: 16, gradSqNorm: 2 },
  ]);
  assert.ok(Math.abs(h.gradSqNorm - 1) < 1e-12 && Math.abs(h.traceSigma - 16) < 1e-12);
  assert.ok(Math.abs((h.bSimple as number) - 16) < 1e-12);
  assert.throws(() => fitLine([1, 1], [2, 3]), /need at least 2 distinct x values, got 1/);
});
