/**
 * The surge law (Li et al. 2024; lib/schedules/lr-rules.ts): ε_opt(B)/ε_max =
 * 2/(√(B_noise/B) + √(B/B_noise)) — its limits (√B below B_noise, 1/√B above), its peak at
 * B_noise, its symmetry in log B, the rule's factor relative to B₀ and its √ fallback.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { surgeOptimalLr, surgeRule, surgeScaling } from "../../lib/schedules/lr-rules";
import { createLrRule } from "../../lib/schedules/registry";
import { obs } from "./obs";

const rel = (a: number, b: number, tol: number) =>
  assert.ok(Math.abs(a - b) <= tol * Math.abs(b), `${a} vs ${b} (rel tol ${tol})`);

test("surge: 1 at B = B_noise and below 1 elsewhere; symmetric in log B about B_noise", () => {
  assert.equal(surgeOptimalLr(256, 256), 1);
  for (const k of [2, 4, 16, 1000]) {
    assert.ok(surgeOptimalLr(256 * k, 256) < 1);
    rel(surgeOptimalLr(256 * k, 256), surgeOptimalLr(256 / k, 256), 1e-14);
  }
  // closed form at B = 4·B_noise: 2/(1/2 + 2) = 0.8
  rel(surgeOptimalLr(1024, 256), 0.8, 1e-14);
});

test("surge: square-root growth far below B_noise, 1/√B decay far above", () => {
  const bn = 1e6;
  // B ≪ B_noise: ε_opt ≈ 2·√(B/B_noise), so doubling B multiplies it by √2
  rel(surgeOptimalLr(200, bn) / surgeOptimalLr(100, bn), Math.SQRT2, 1e-3);
  rel(surgeOptimalLr(100, bn), 2 * Math.sqrt(100 / bn), 1e-3);
  // B ≫ B_noise: ε_opt ≈ 2·√(B_noise/B)
  rel(surgeOptimalLr(1e10, bn), 2 * Math.sqrt(bn / 1e10), 1e-3);
  rel(surgeOptimalLr(2e10, bn) / surgeOptimalLr(1e10, bn), Math.SQRT1_2, 1e-3);
});

test("surge rule: factor ε_opt(B)/ε_opt(B₀) from the estimate's B_simple; √(B/B₀) without one", () => {
  const noise = { gradSqNorm: 1, traceSigma: 300, bSimple: 300 };
  const r = surgeRule();
  assert.equal(r.name, "surge");
  rel(r.factor(300, 75, obs({ noise })), 1 / surgeOptimalLr(75, 300), 1e-14);
  // above B_noise the factor turns down: B = 4·B_noise gives less than B = B_noise
  assert.ok(r.factor(1200, 75, obs({ noise })) < r.factor(300, 75, obs({ noise })));
  assert.equal(r.factor(400, 100, obs({ noise: null })), 2);
  assert.equal(surgeScaling(400, 100, null), 2);
  assert.equal(createLrRule("surge", {}).name, "surge");
});

test("surge: B and B_noise must be finite and > 0 (the error names which)", () => {
  assert.throws(() => surgeOptimalLr(0, 10), /batchSize .*got 0/);
  assert.throws(() => surgeOptimalLr(10, -1), /bNoise .*got -1/);
});
