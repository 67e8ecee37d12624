import { test } from "node:test";
import assert from "node:assert/strict";
import {
  compareRuns,
  devicesFor,
  simulateRun,
  stepTime,
  ClusterModel,
} from "../../lib/cluster/simulator";

// Throughput 1000 examples/s at any per-device batch (one flat point): compute = b/1000 s.
const base: ClusterModel = {
  throughput: [{ batchSize: 64, examplesPerSecond: 1000 }],
  maxPerDeviceBatch: 64,
  maxDevices: 4,
  alpha: 0.01,
  beta: 1e-8,
  gradientBytes: 1e6,
  pricePerDeviceHour: 3.6,
};
const close = (a: number, b: number, what: string) =>
  assert.ok(Math.abs(a - b) < 1e-12 * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);

test("devices grow with the batch: K = min(K_max, max(K_min, ⌈B/b_dev⌉))", () => {
  assert.equal(devicesFor(base, 1), 1);
  assert.equal(devicesFor(base, 64), 1);
  assert.equal(devicesFor(base, 65), 2);
  assert.equal(devicesFor(base, 256), 4);
  assert.equal(devicesFor(base, 10000), 4); // capped
  assert.equal(devicesFor({ ...base, minDevices: 2 }, 8), 2);
});

test("step time: compute b/T(b) plus all-reduce α + β·bytes·(K−1)/K for K > 1", () => {
  // B = 64 on 1 device: 64/1000 = 0.064 s, no exchange.
  assert.deepEqual(stepTime(base, 64, 1), { compute: 0.064, comm: 0 });
  // B = 256 on 4 devices: b = 64 → 0.064 s; comm = 0.01 + 1e-8·1e6·3/4 = 0.01 + 0.0075 = 0.0175 s.
  const t = stepTime(base, 256, 4);
  close(t.compute, 0.064, "compute");
  close(t.comm, 0.0175, "comm");
});

test("a run's projection: wall-clock, device-hours, cost, by hand", () => {
  // Steps: 64 (K=1: 0.064 s), 128 (K=2: 0.064 + 0.01 + 0.005 = 0.079 s), 256 (K=4: 0.0815 s).
  // wall = 0.2245 s; device-s = 0.064 + 2·0.079 + 4·0.0815 = 0.548; cost = 0.548/3600·3.6 = 0.000548.
  const p = simulateRun([64, 128, 256], base);
  close(p.wallClock, 0.2245, "wallClock");
  close(p.deviceSeconds, 0.548, "deviceSeconds");
  close(p.cost, 0.000548, "cost");
  assert.equal(p.examples, 448);
  assert.equal(p.maxDevicesUsed, 4);
  assert.equal(p.rescales, 2);
  close(p.commSeconds, 0.015 + 0.0175, "comm");
  // A rescale penalty is added each time K changes: +2·0.5 s wall, billed on the new K.
  const q = simulateRun([64, 128, 256], { ...base, rescaleSeconds: 0.5 });
  close(q.wallClock, 0.2245 + 1, "wallClock with rescale");
  close(q.deviceSeconds, 0.548 + 2 * 0.5 + 4 * 0.5, "device-seconds with rescale");
});

test("constant vs growing batch at equal examples: the growing run finishes sooner on more devices", () => {
  // 8 updates of 64 (512 examples) vs 64,64,128,256 (512 examples).
  const r = compareRuns({ constant: Array(8).fill(64), growing: [64, 64, 128, 256] }, base);
  close(r.constant.wallClock, 8 * 0.064, "constant wall");
  close(r.growing.wallClock, 2 * 0.064 + 0.079 + 0.0815, "growing wall");
  assert.ok(r.growing.wallClock < r.constant.wallClock);
  // ...and costs more device-time (exchange overhead on 2 and 4 devices).
  assert.ok(r.growing.deviceSeconds > r.constant.deviceSeconds);
});

test("invalid models and batch sizes are errors naming the field and value", () => {
  assert.throws(
    () => simulateRun([64], { ...base, maxDevices: 0 }),
    /maxDevices must be an integer >= 1, got 0/,
  );
  assert.throws(
    () => simulateRun([64], { ...base, beta: -1 }),
    /beta must be a finite number >= 0, got -1/,
  );
  assert.throws(() => simulateRun([64, 0], base), /batchSizes\[1\] must be an integer >= 1, got 0/);
  assert.throws(
    () => simulateRun([64], { ...base, throughput: [] }),
    /throughput must be a non-empty array/,
  );
});
