/**
 * Seesaw (lib/schedules/seesaw.ts, Meterez et al. 2025): closed forms of the rule — each
 * decay by α becomes B·α and η/√α; the cap moves the rest of the decay to η; η/√B matches the
 * base schedule's η/√B₀ at every point (step and cosine bases); option errors name the option.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { lrDecayFactor } from "../../lib/schedules/lr-decay";
import { createSchedule } from "../../lib/schedules/registry";
import {
  seesawAt,
  seesawEquivalence,
  seesawSchedule,
  type SeesawOptions,
} from "../../lib/schedules/seesaw";
import { obs } from "./obs";

const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-12, `${a} ≉ ${b}`);

const steps = (maxBatchSize: number): SeesawOptions => ({
  initialBatchSize: 64,
  maxBatchSize,
  base: {
    steps: [
      { examples: 1000, factor: 2 },
      { examples: 2000, factor: 2 },
      { examples: 3000, factor: 10 },
    ],
  },
});

test("seesaw on a step decay: each ÷α becomes B·α and η/√α (the paper's rule)", () => {
  const o = steps(1 << 20);
  assert.deepEqual(seesawAt(0, o), { batchSize: 64, lrFactor: 1 });
  assert.equal(seesawAt(999, o).batchSize, 64);
  assert.equal(seesawAt(1000, o).batchSize, 128);
  close(seesawAt(1000, o).lrFactor, 1 / Math.SQRT2);
  assert.equal(seesawAt(2500, o).batchSize, 256);
  close(seesawAt(2500, o).lrFactor, 0.5);
  assert.equal(seesawAt(3000, o).batchSize, 2560);
  close(seesawAt(3000, o).lrFactor, 0.5 / Math.sqrt(10));
});

test("seesaw at the batch cap: B stays at B_max and the learning rate takes the rest of the decay", () => {
  const o = steps(128);
  assert.equal(seesawAt(2000, o).batchSize, 128);
  // base η = 1/4 at B₀ = 64: η/√B₀ = 1/32; at B = 128, η = √128/32 = 1/(2√2)
  close(seesawAt(2000, o).lrFactor, 1 / (2 * Math.SQRT2));
  close(seesawAt(3000, o).lrFactor, 1 / (20 * Math.SQRT2));
});

test("seesaw keeps η/√B equal to the base schedule's η/√B₀ at every point (steps and cosine)", () => {
  const grid = Array.from({ length: 401 }, (_, i) => i * 10);
  for (const cap of [128, 512, 1 << 20]) {
    assert.ok(seesawEquivalence(steps(cap), grid).equivalent);
    const cosine: SeesawOptions = {
      initialBatchSize: 32,
      maxBatchSize: cap,
      base: { totalExamples: 4000, finalFactor: 0.01 },
    };
    const r = seesawEquivalence(cosine, grid);
    assert.ok(r.equivalent, `cap ${cap}: max relative difference ${r.maxRelativeDifference}`);
  }
});

test("seesaw on a cosine: B doubles where the base factor crosses 1/2, 1/4, …; the rest stays on η", () => {
  const o: SeesawOptions = {
    initialBatchSize: 32,
    maxBatchSize: 1024,
    base: { totalExamples: 1000, finalFactor: 0 },
  };
  // f(500) = 1/2 exactly: the first crossing
  assert.equal(seesawAt(499, o).batchSize, 32);
  assert.equal(seesawAt(500, o).batchSize, 64);
  close(seesawAt(500, o).lrFactor, 0.5 * Math.SQRT2);
  // f(e) ∈ (1/8, 1/4]: B = 4·B₀, η = f·2
  const e = 700;
  const f = lrDecayFactor(e, { totalExamples: 1000, finalFactor: 0 });
  assert.ok(f > 1 / 8 && f <= 1 / 4, `f(700) = ${f}`);
  assert.equal(seesawAt(e, o).batchSize, 128);
  close(seesawAt(e, o).lrFactor, f * 2);
  // at the end f = 0: B at the cap, η factor 0
  assert.deepEqual(seesawAt(1000, o), { batchSize: 1024, lrFactor: 0 });
  // growth √2: B·√2 rounded, η keeps η/√B exact
  const g = seesawAt(500, { ...o, growth: Math.SQRT2 });
  assert.equal(g.batchSize, 64);
  close(g.lrFactor / Math.sqrt(g.batchSize), 0.5 / Math.sqrt(32));
});

test("seesaw behind the loop's schedule interface and the registry (decayEpochs of the dataset)", () => {
  const s = seesawSchedule(steps(4096));
  const d = s.update(s.init(), obs({ examples: 2000 }));
  assert.equal(d.batchSize, 256);
  close(d.lrFactor, 0.5);
  const r = createSchedule(
    "seesaw",
    { initialBatchSize: "32", maxBatchSize: "256", decayEpochs: "2", finalFactor: "0" },
    { datasetSize: 500 },
  );
  assert.equal(r.name, "seesaw");
  assert.equal(r.update(r.init(), obs({ examples: 500 })).batchSize, 64);
});

test("seesaw option errors name the option and the value", () => {
  assert.throws(() => seesawAt(0, { ...steps(32) }), /maxBatchSize .*got 32/);
  assert.throws(
    () => seesawAt(0, { ...steps(128), base: { totalExamples: 100 }, growth: 1 }),
    /growth .*got 1/,
  );
  assert.throws(
    () =>
      seesawAt(0, {
        ...steps(128),
        base: {
          steps: [
            { examples: 10, factor: 2 },
            { examples: 10, factor: 2 },
          ],
        },
      }),
    /base.steps must ascend in examples, got 10 then 10/,
  );
  assert.throws(
    () => seesawAt(0, { ...steps(128), base: { steps: [{ examples: 10, factor: 0.5 }] } }),
    /base.steps\[0\].factor .*got 0.5/,
  );
  assert.throws(
    () =>
      createSchedule(
        "seesaw",
        { initialBatchSize: 32, maxBatchSize: 64, decayEpochs: 0 },
        { datasetSize: 10 },
      ),
    /decayEpochs must be > 0, got 0/,
  );
});
