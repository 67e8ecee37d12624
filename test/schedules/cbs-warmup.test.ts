import { test } from "node:test";
import assert from "node:assert/strict";
import { cbsAt, cbsWarmupSchedule, warmupBatchSize } from "../../lib/schedules/cbs-warmup";
import { decideNext } from "../../lib/schedules/drive";
import { createSchedule } from "../../lib/schedules/registry";
import { ScheduleConfigError } from "../../lib/schedules/types";

test("warmupBatchSize doubles while 2B fits under min(CBS, B_max), never shrinks", () => {
  assert.equal(warmupBatchSize(32, 200, 2, 4096), 128); // 256 > 200
  assert.equal(warmupBatchSize(32, 256, 2, 4096), 256); // exactly the CBS
  assert.equal(warmupBatchSize(32, 10000, 2, 512), 512); // B_max
  assert.equal(warmupBatchSize(128, 40, 2, 4096), 128); // the CBS fell: hold, do not shrink
  assert.equal(warmupBatchSize(32, null, 2, 4096), 32);
  assert.equal(warmupBatchSize(10, 40, 1.5, 4096), 33); // 10 → 15 → 22 → 33 (49 > 40)
  assert.equal(warmupBatchSize(32, 10000, 2, 4096, 1), 64); // one growth per reading
  assert.equal(warmupBatchSize(32, 200, 2, 4096, 3), 128); // three allowed, two fit
  const curve = [
    { examples: 0, criticalBatchSize: 16 },
    { examples: 1000, criticalBatchSize: 64 },
  ];
  assert.deepEqual([cbsAt(curve, 0), cbsAt(curve, 999), cbsAt(curve, 1000)], [16, 16, 64]);
  assert.equal(cbsAt([{ examples: 10, criticalBatchSize: 4 }], 5), null);
});

/** Drives a schedule like the loop: measuring through `measure` when it asks. */
function run(
  s: ReturnType<typeof cbsWarmupSchedule>,
  batches: number,
  measure: (examples: number) => number,
) {
  let state = s.init();
  let examples = 0;
  const out: { step: number; examples: number; B: number; lr: number; measured: boolean }[] = [];
  for (let step = 0; step < batches; step++) {
    const progress = { step, examples };
    const wants = s.wantsCriticalBatch!(state, progress);
    const { decision } = decideNext(
      s,
      state,
      { ...progress, datasetSize: 1e6, lastLoss: null, lastGradSqNorm: null },
      { trainLoss: () => 1, noise: null, criticalBatchSize: wants ? measure(examples) : null },
    );
    out.push({ step, examples, B: decision.batchSize, lr: decision.lrFactor, measured: wants });
    state = decision.state;
    examples += decision.batchSize;
  }
  return { out, state };
}

test("with a fake measurement callback: measured every N examples, B doubles as CBS allows", () => {
  // A fake CBS(t) that grows with the examples processed: CBS = 8 + examples/10.
  const calls: number[] = [];
  const fake = (examples: number) => (calls.push(examples), 8 + examples / 10);
  const s = cbsWarmupSchedule(
    {
      initialBatchSize: 8,
      measureEvery: 400,
      lrRule: "linear",
      maxBatchSize: 64,
      growthsPerReading: 8,
    },
    { datasetSize: 1e6 },
  );
  const { out } = run(s, 80, fake);
  // Update 0: CBS 8 → B 8 (2·8 > 8); measured again at update 50, the first with ≥ 400
  // examples (8·50 = 400): CBS 48 → B 32.
  assert.equal(calls[0], 0);
  for (let i = 1; i < calls.length; i++) assert.ok(calls[i] - calls[i - 1] >= 400);
  // Between measurements B holds; at each measurement B = largest 8·2^j ≤ min(CBS, 64).
  for (const r of out) {
    if (!r.measured) continue;
    const cbs = 8 + r.examples / 10;
    let expect = 8;
    while (expect * 2 <= Math.min(cbs, 64)) expect *= 2;
    assert.ok(r.B >= expect || r.B === 64, `B ${r.B} at ${r.examples} (CBS ${cbs})`);
  }
  // The first measurement after 400 examples: examples = 400, CBS = 48 → B = 32, lr 4.
  const second = out.find((r) => r.measured && r.examples >= 400)!;
  assert.deepEqual([second.examples, second.B, second.lr], [400, 32, 4]);
  // B is non-decreasing and reaches B_max = 64 when CBS ≥ 64 (examples ≥ 560).
  out.slice(1).forEach((r, i) => assert.ok(r.B >= out[i].B));
  assert.equal(out[out.length - 1].B, 64);
  assert.equal(out[out.length - 1].lr, 8);
});

test("a CBS(t) curve given as data: no measurement, sqrt rule by default", () => {
  const s = createSchedule(
    "cbs-warmup",
    {
      initialBatchSize: "16",
      growthsPerReading: "2",
      curve: [
        { examples: 0, criticalBatchSize: 20 },
        { examples: 160, criticalBatchSize: 70 },
      ],
    },
    { datasetSize: 10000 },
  ) as ReturnType<typeof cbsWarmupSchedule>;
  const { out } = run(s, 14, () => {
    throw new Error("the curve mode must not measure");
  });
  // 16 until 160 examples (10 updates of 16), then 64 (70 allows 16 → 32 → 64), lr √4 = 2.
  assert.deepEqual(
    out.map((r) => r.B),
    [16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 64, 64, 64, 64],
  );
  assert.equal(out[10].lr, 2);
  assert.equal(out[0].lr, 1);
});

test("by default one doubling per reading (the paper's rule), B holding between readings", () => {
  const s = cbsWarmupSchedule(
    {
      initialBatchSize: 16,
      curve: [
        { examples: 0, criticalBatchSize: 20 },
        { examples: 160, criticalBatchSize: 70 },
        { examples: 320, criticalBatchSize: 200 },
      ],
    },
    { datasetSize: 10000 },
  );
  const { out } = run(s, 16, () => {
    throw new Error("the curve mode must not measure");
  });
  // 16 × 10 updates to 160 examples; the reading 70 allows 64 but B doubles once, to 32; at
  // 320 the reading 200 allows 128, again one doubling, to 64, where B stays (no more points).
  assert.deepEqual(
    out.map((r) => r.B),
    [16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 32, 32, 32, 32, 32, 64],
  );
  assert.equal(out[15].lr, 2);
  const live = cbsWarmupSchedule({ initialBatchSize: 8, measureEvery: 100 }, { datasetSize: 1e6 });
  const measured = run(live, 40, () => 1000).out.filter((r) => r.measured);
  // Measured at 0 and then after every ≥ 100 examples: each reading doubles B once.
  assert.deepEqual(
    measured.slice(0, 4).map((r) => r.B),
    [16, 32, 64, 128],
  );
});

test("bad options throw ScheduleConfigError naming the parameter and value", () => {
  const ctx = { datasetSize: 100 };
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ initialBatchSize: 0, measureEvery: 10 }, /initialBatchSize must be an integer >= 1, got 0/],
    [{ initialBatchSize: 8 }, /exactly one of measureEvery and curve/],
    [{ initialBatchSize: 8, measureEvery: 0 }, /measureEvery must be an integer >= 1, got 0/],
    [
      { initialBatchSize: 8, measureEvery: 10, growthFactor: 1 },
      /growthFactor must be a finite number > 1, got 1/,
    ],
    [
      { initialBatchSize: 8, measureEvery: 10, lrRule: "cubic" },
      /lrRule must be one of linear, sqrt, none, got cubic/,
    ],
    [
      { initialBatchSize: 8, measureEvery: 10, growthsPerReading: 0 },
      /growthsPerReading must be an integer >= 1, got 0/,
    ],
    [
      { initialBatchSize: 8, measureEvery: 10, maxBatchSize: 4 },
      /maxBatchSize must be an integer >= 8, got 4/,
    ],
    [
      {
        initialBatchSize: 8,
        curve: [
          { examples: 5, criticalBatchSize: 8 },
          { examples: 5, criticalBatchSize: 9 },
        ],
      },
      /curve must be strictly increasing in examples, got 5 then 5 at curve\[1\]/,
    ],
    [
      { initialBatchSize: 8, curve: [{ examples: 0, criticalBatchSize: 0 }] },
      /curve\[0\].criticalBatchSize must be a finite number > 0, got 0/,
    ],
  ];
  for (const [opts, re] of cases) {
    assert.throws(
      () => cbsWarmupSchedule(opts as never, ctx),
      (e: unknown) => e instanceof ScheduleConfigError && re.test(e.message),
      JSON.stringify(opts),
    );
  }
});
