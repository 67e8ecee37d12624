import { test } from "node:test";
import assert from "node:assert/strict";
import { fitBCrit } from "../../lib/noise/bcrit";
import { relErr } from "./helpers";

test("B_crit fit recovers S_min, E_min and B_crit from exact data", () => {
  // S_min = 400 steps, E_min = 51,200 examples → B_crit = 128; S(B) = 400 + 51200/B.
  const points = [16, 32, 64, 128, 256, 1024].map((B) => ({
    batchSize: B,
    steps: 400 + 51200 / B,
  }));
  const f = fitBCrit(points);
  assert.ok(relErr(f.sMin, 400) < 1e-12 && relErr(f.eMin, 51200) < 1e-12, `${f.sMin} ${f.eMin}`);
  assert.ok(relErr(f.bCrit, 128) < 1e-12);
  assert.ok(f.steps.residuals.every((r) => Math.abs(r) < 1e-8));
  assert.ok(Math.abs(f.steps.r2 - 1) < 1e-12);
  // The examples fit (E = B·S = E_min + S_min·B) agrees on exact data.
  assert.ok(relErr(f.examples.sMin, 400) < 1e-9 && relErr(f.examples.eMin, 51200) < 1e-9);
  assert.ok(relErr(f.examples.bCrit as number, 128) < 1e-9);
  // The paper's trade-off (S/S_min − 1)(E/E_min − 1) = 1 holds at every point.
  for (const p of f.predicted) {
    assert.ok(Math.abs((p.steps / f.sMin - 1) * (p.examples / f.eMin - 1) - 1) < 1e-9);
  }
});

test("B_crit fit reports residuals by hand on noisy data", () => {
  // x = 1/B = [0.1, 0.05, 0.025], S = [1100, 650, 300]. OLS by hand: x̄ = 0.058333,
  // S̄ = 683.333; dx = [0.041667, −0.008333, −0.033333], dS = [416.667, −33.333, −383.333];
  // Sxx = 0.00291667, Sxy = 17.3611 + 0.2778 + 12.7778 = 30.4167 → E_min = slope = 10428.571,
  // S_min = 683.333 − 10428.571·0.058333 = 75; predictions [1117.857, 596.429, 335.714] →
  // residuals [−17.857, +53.571, −35.714].
  const f = fitBCrit([
    { batchSize: 10, steps: 1100 },
    { batchSize: 20, steps: 650 },
    { batchSize: 40, steps: 300 },
  ]);
  assert.ok(Math.abs(f.eMin - 10428.5714) < 1e-3, `${f.eMin}`);
  assert.ok(Math.abs(f.sMin - 75) < 1e-6, `${f.sMin}`);
  const expected = [-17.857143, 53.571429, -35.714286];
  f.steps.residuals.forEach((r, i) =>
    assert.ok(Math.abs(r - expected[i]) < 1e-4, `residual ${i}: ${r}`),
  );
  assert.ok(Math.abs(f.steps.residuals.reduce((p, q) => p + q, 0)) < 1e-9); // OLS: residuals sum to 0
  assert.ok(f.steps.r2 > 0.9 && f.steps.r2 < 1);
  assert.ok(Math.abs(f.bCrit - f.eMin / f.sMin) < 1e-9);
});

test("B_crit fit errors: < 2 distinct batch sizes, non-positive fits, bad inputs", () => {
  assert.throws(
    () =>
      fitBCrit([
        { batchSize: 32, steps: 100 },
        { batchSize: 32, steps: 110 },
      ]),
    /need runs at >= 2 distinct batch sizes, got 1/,
  );
  // Steps that grow with B: slope (E_min) < 0.
  assert.throws(
    () =>
      fitBCrit([
        { batchSize: 10, steps: 100 },
        { batchSize: 100, steps: 200 },
      ]),
    /S_min = .*E_min = -.*both must be > 0/,
  );
  // Steps ∝ 1/B exactly (perfect scaling, no floor): S_min = 0.
  assert.throws(
    () =>
      fitBCrit([
        { batchSize: 10, steps: 1000 },
        { batchSize: 100, steps: 100 },
      ]),
    /both must be > 0/,
  );
  assert.throws(
    () => fitBCrit([{ batchSize: -1, steps: 1 }]),
    /points\[0\].batchSize must be a finite number > 0, got -1/,
  );
});
