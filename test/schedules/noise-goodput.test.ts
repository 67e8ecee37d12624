import { test } from "node:test";
import assert from "node:assert/strict";
import { noiseScaleSchedule } from "../../lib/schedules/noise-scale";
import { goodput, goodputSchedule, interpolateThroughput } from "../../lib/schedules/goodput";
import { drive, obs } from "./obs";

const noise = (bSimple: number | null) => ({ gradSqNorm: 1, traceSigma: bSimple ?? -1, bSimple });

test("noise-scale: B = clip(round(c·B_simple), B_min, B_max), B_0 before an estimate, 5% hysteresis", () => {
  const s = noiseScaleSchedule(
    { initialBatchSize: 32, minBatchSize: 8, maxBatchSize: 1000 },
    { datasetSize: 60000 },
  );
  // B_simple per step: none, 100.4 → 100, 103 (3% from 100: kept), 120 → 120, 2 → clip 8, 5000 → clip 1000
  const seq = [null, 100.4, 103, 120, 2, 5000];
  const r = drive(s, seq.length, (k) => ({ noise: seq[k] == null ? null : noise(seq[k]) }));
  assert.deepEqual(
    r.decisions.map((d) => d.batchSize),
    [32, 100, 100, 120, 8, 1000],
  );
  assert.ok(r.decisions.every((d) => d.lrFactor === 1));
  // multiplier 0.5: round(0.5·300) = 150; null B_simple keeps the batch.
  const h = noiseScaleSchedule({ initialBatchSize: 32, multiplier: 0.5 }, { datasetSize: 60000 });
  const st = h.update(h.init(), obs({ noise: noise(300) })).state;
  assert.equal(st.batchSize, 150);
  assert.equal(h.update(st, obs({ noise: noise(null) })).batchSize, 150);
  // JSON round trip of the state continues identically.
  assert.deepEqual(
    h.update(JSON.parse(JSON.stringify(st)), obs({ noise: noise(500) })),
    h.update(st, obs({ noise: noise(500) })),
  );
});

test("noise-scale validates its parameters, naming them", () => {
  const ctx = { datasetSize: 100 };
  assert.throws(
    () => noiseScaleSchedule({ initialBatchSize: 0 }, ctx),
    /initialBatchSize must be an integer >= 1, got 0/,
  );
  assert.throws(
    () => noiseScaleSchedule({ initialBatchSize: 8, maxBatchSize: 4 }, ctx),
    /maxBatchSize must be an integer >= 8, got 4/,
  );
  assert.throws(
    () => noiseScaleSchedule({ initialBatchSize: 8, multiplier: 0 }, ctx),
    /multiplier must be a finite number > 0, got 0/,
  );
  assert.throws(
    () => noiseScaleSchedule({ initialBatchSize: 8, changeThreshold: -1 }, ctx),
    /changeThreshold/,
  );
});

const curve = [
  { batchSize: 16, examplesPerSecond: 400 },
  { batchSize: 64, examplesPerSecond: 1000 },
  { batchSize: 256, examplesPerSecond: 1200 },
];

test("throughput interpolation is linear in log B and flat beyond the ends", () => {
  assert.equal(interpolateThroughput(curve, 8), 400);
  assert.equal(interpolateThroughput(curve, 512), 1200);
  // B = 32 is halfway between 16 and 64 in log2: 400 + 0.5·600 = 700
  assert.ok(Math.abs(interpolateThroughput(curve, 32) - 700) < 1e-9);
  // B = 128 is halfway between 64 and 256: 1000 + 0.5·200 = 1100
  assert.ok(Math.abs(interpolateThroughput(curve, 128) - 1100) < 1e-9);
  assert.throws(() => interpolateThroughput([], 4), /throughput must be a non-empty array/);
  assert.throws(
    () =>
      interpolateThroughput(
        [
          { batchSize: 8, examplesPerSecond: 1 },
          { batchSize: 8, examplesPerSecond: 2 },
        ],
        4,
      ),
    /batch sizes must increase, got 8 then 8/,
  );
});

test("goodput picks argmax throughput(B)·(B_noise + B_0)/(B_noise + B) with a gain threshold", () => {
  // B_0 = 16, B_noise = 1000: goodput(64) = 1000·1016/1064 = 954.9,
  // goodput(128) = 1100·1016/1128 = 990.78, goodput(256) = 1200·1016/1256 = 970.70 → B = 128.
  assert.ok(Math.abs(goodput(curve, 16, 1000, 128) - (1100 * 1016) / 1128) < 1e-9);
  const s = goodputSchedule({ initialBatchSize: 16, throughput: curve });
  const d = s.update(s.init(), obs({ noise: noise(1000) }));
  assert.equal(d.batchSize, 128);
  // With B_noise = 4 the efficiency falls fast: goodput(16) = 400, goodput(32) = 700·20/36 = 388.9,
  // goodput(64) = 1000·20/68 = 294 → stays at 16.
  assert.equal(s.update(s.init(), obs({ noise: noise(4) })).batchSize, 16);
  // Before an estimate: B_0.
  assert.equal(s.update(s.init(), obs()).batchSize, 16);
  // Anti-flapping: at B = 128 with B_noise = 1000, the best alternative must beat 990.8 by 5%.
  const st = { batchSize: 128 };
  assert.equal(s.update(st, obs({ noise: noise(900) })).batchSize, 128);
  assert.throws(
    () => goodputSchedule({ initialBatchSize: 0, throughput: curve }),
    /initialBatchSize must be an integer >= 1, got 0/,
  );
});
