import { test } from "node:test";
import assert from "node:assert/strict";
import { adaDampBatchSize, adaDampSchedule } from "../../lib/schedules/adadamp";
import { MAX_BATCH } from "../../lib/schedules/cap";
import { drive, obs } from "./obs";

test("adaDampBatchSize: B_k = ⌈B_0 (F(x_0) − F*)/(F(x_k) − F*)⌉", () => {
  assert.equal(adaDampBatchSize(16, 2.0, 0.5), 64); // 16·2/0.5 = 64 exactly
  assert.equal(adaDampBatchSize(16, 2.0, 0.5, 0.25), 112); // 16·1.75/0.25 = 112
  assert.equal(adaDampBatchSize(10, 2.0, 0.3), 67); // 66.67 → 67
  assert.equal(adaDampBatchSize(10, 2.0, 2.0), 10); // k = 0: B_0
  // 10·0.3/0.1 = 30.000000000000004 in floating point: still 30, not 31
  assert.equal(adaDampBatchSize(10, 0.3, 0.1), 30);
});

test("adaDampBatchSize at or below F*: a finite positive batch, never a division by zero", () => {
  for (const [f0, fk, fStar] of [
    [2, 0, 0], // F(x_k) = F*
    [2, -1, 0], // below F*
    [2, 0.5, 0.5], // F(x_k) = F* ≠ 0
    [0, 0, 0], // F(x_0) = F(x_k) = F*
  ]) {
    const b = adaDampBatchSize(8, f0, fk, fStar);
    assert.ok(Number.isFinite(b) && b >= 1, `${f0}, ${fk}, ${fStar} → ${b}`);
    assert.equal(b, MAX_BATCH);
  }
  // F* above F(x_0) (misconfigured): c ≤ 0 gives the smallest batch, 1, not a negative one.
  assert.equal(adaDampBatchSize(8, 1, 2, 1.5), 1);
  assert.throws(() => adaDampBatchSize(8, NaN, 1), /initialLoss must be a finite number, got NaN/);
});

test("AdaDamp trajectory (dwell 1, threshold 0) and the B_max cap's lrFactor", () => {
  const s = adaDampSchedule({ initialBatchSize: 10, maxBatchSize: 1000, changeThreshold: 0 });
  const losses = [2.0, 1.0, 0.3, 0.01, 0, -0.5];
  const { decisions } = drive(
    s,
    losses.length,
    () => ({}),
    (k) => losses[k],
  );
  // k=0: F(x_0) = 2 → B_0 = 10; k=1: ⌈10·2/1⌉ = 20; k=2: ⌈66.7⌉ = 67;
  // k=3: ⌈10·2/0.01⌉ = 2000 > 1000 → B = 1000, lrFactor = 1000/2000 = 0.5;
  // k=4, 5: at/below F* = 0 → B_k = 2⁵³−1 → B = 1000, lrFactor = 1000/(2⁵³−1).
  assert.deepEqual(
    decisions.map((d) => d.batchSize),
    [10, 20, 67, 1000, 1000, 1000],
  );
  assert.deepEqual(
    decisions.slice(0, 4).map((d) => d.lrFactor),
    [1, 1, 1, 0.5],
  );
  for (const d of decisions.slice(4)) {
    assert.equal(d.lrFactor, 1000 / MAX_BATCH);
    assert.ok(d.lrFactor > 0 && Number.isFinite(d.lrFactor));
  }
  assert.equal(decisions[0].state.initialLoss, 2);
  assert.equal(decisions[3].state.batchSize, 2000); // the uncapped B_k is kept
});

test("AdaDamp: F* shifts both gaps; default B_max is the training-set size", () => {
  const s = adaDampSchedule({ initialBatchSize: 8, optimalLoss: 0.5, changeThreshold: 0 });
  const { decisions } = drive(
    s,
    3,
    () => ({ datasetSize: 100 }),
    (k) => [2.5, 1.0, 0.51][k],
  );
  // ⌈8·2/0.5⌉ = 32; ⌈8·2/0.01⌉ = 1600 > n = 100 → B = 100, lrFactor = 100/1600
  assert.deepEqual(
    decisions.map((d) => [d.batchSize, d.lrFactor]),
    [
      [8, 1],
      [32, 1],
      [100, 100 / 1600],
    ],
  );
});

test("AdaDamp asks for F(x_k) at step 0 and at k ≥ wait with k mod dwell = 0 (the package)", () => {
  const s = adaDampSchedule({ initialBatchSize: 4, dwell: 3, wait: 2, changeThreshold: 0 });
  const st = s.init();
  assert.deepEqual(
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((k) => s.wantsTrainLoss!({ ...st, initialLoss: 4 }, k)),
    [true, false, false, true, false, false, true, false, false, true],
  );
  // Before F(x_0) is known it asks every step.
  assert.equal(s.wantsTrainLoss!(st, 1), true);
  // F(x_k) = 4/(k+1): k=0 → 4; k=3: ⌈4·4/1⌉ = 16; held at k=4,5; k=6: ⌈4·4/(4/7)⌉ = 28;
  // k=9: ⌈4·4/(4/10)⌉ = 40.
  const { decisions } = drive(
    s,
    10,
    () => ({}),
    (k) => 4 / (k + 1),
  );
  assert.deepEqual(
    decisions.map((d) => d.batchSize),
    [4, 4, 4, 16, 16, 16, 28, 28, 28, 40],
  );
  assert.equal(decisions[9].state.lastRecomputeStep, 9);
  assert.equal(s.trainLossFraction, 1);
});

test("AdaDamp ignores a loss it did not ask for, and a non-finite one", () => {
  const s = adaDampSchedule({ initialBatchSize: 10, dwell: 2, changeThreshold: 0 });
  const d0 = s.update(s.init(), obs({ step: 0, trainLoss: 1 }));
  const d1 = s.update(d0.state, obs({ step: 1, trainLoss: 0.1 })); // not asked at step 1
  assert.equal(d1.batchSize, 10);
  assert.deepEqual(d1.state, d0.state);
  const d2 = s.update(d1.state, obs({ step: 2, trainLoss: NaN }));
  assert.deepEqual(d2.state, d0.state);
  const d3 = s.update(d2.state, obs({ step: 2, trainLoss: 0.5 }));
  assert.equal(d3.batchSize, 20); // ⌈10·1/0.5⌉
});

test("AdaDamp anti-flapping: the batch moves only on a change of more than 5 %", () => {
  const s = adaDampSchedule({ initialBatchSize: 100 });
  const losses = [1, 0.97, 0.94, 0.95, 1.2];
  const { decisions } = drive(
    s,
    losses.length,
    () => ({}),
    (k) => losses[k],
  );
  // proposals: 100; ⌈103.09⌉ = 104 (4 % → keep 100); ⌈106.38⌉ = 107 (7 % → 107);
  // ⌈105.26⌉ = 106 (1 % of 107 → keep 107); ⌈83.3⌉ = 84 (21 % → 84)
  assert.deepEqual(
    decisions.map((d) => d.batchSize),
    [100, 100, 107, 107, 84],
  );
});

test("AdaDamp minBatchSize floors the batch when the loss rises above F(x_0)", () => {
  const s = adaDampSchedule({ initialBatchSize: 10, minBatchSize: 10, changeThreshold: 0 });
  const { decisions } = drive(
    s,
    3,
    () => ({}),
    (k) => [1, 2, 0.5][k],
  );
  // ⌈10·1/2⌉ = 5 → floored to 10; then ⌈10·1/0.5⌉ = 20
  assert.deepEqual(
    decisions.map((d) => d.batchSize),
    [10, 10, 20],
  );
  const free = adaDampSchedule({ initialBatchSize: 10, changeThreshold: 0 });
  assert.equal(
    drive(
      free,
      2,
      () => ({}),
      (k) => [1, 2][k],
    ).decisions[1].batchSize,
    5,
  );
});

test("AdaDamp validates its parameters, naming them and the value", () => {
  const cases: [Parameters<typeof adaDampSchedule>[0], RegExp][] = [
    [{ initialBatchSize: 0 }, /initialBatchSize must be an integer >= 1, got 0/],
    [{ initialBatchSize: 2.5 }, /initialBatchSize must be an integer >= 1, got 2.5/],
    [{ initialBatchSize: 64, maxBatchSize: 32 }, /maxBatchSize must be an integer >= 64, got 32/],
    [{ initialBatchSize: 8, minBatchSize: 9 }, /minBatchSize must be an integer <= .*got 9/],
    [{ initialBatchSize: 8, minBatchSize: 0 }, /minBatchSize must be an integer >= 1, got 0/],
    [{ initialBatchSize: 8, dwell: 0 }, /dwell must be an integer >= 1, got 0/],
    [{ initialBatchSize: 8, wait: -1 }, /wait must be an integer >= 0, got -1/],
    [
      { initialBatchSize: 8, optimalLoss: Infinity },
      /optimalLoss must be a finite number, got Infinity/,
    ],
    [
      { initialBatchSize: 8, trainLossFraction: 0 },
      /trainLossFraction must be a finite number in \(0, 1\], got 0/,
    ],
    [
      { initialBatchSize: 8, trainLossFraction: 1.5 },
      /trainLossFraction must be a finite number in \(0, 1\], got 1.5/,
    ],
    [
      { initialBatchSize: 8, changeThreshold: -0.1 },
      /changeThreshold must be a finite number >= 0, got -0.1/,
    ],
  ];
  for (const [opts, re] of cases) assert.throws(() => adaDampSchedule(opts), re);
  assert.equal(
    adaDampSchedule({ initialBatchSize: 8, trainLossFraction: 0.1 }).trainLossFraction,
    0.1,
  );
});
