import { test } from "node:test";
import assert from "node:assert/strict";
import {
  batchBucket,
  bestMicroBatch,
  chooseReplicas,
  machineThroughputCurve,
} from "../../lib/train/replica-plan";
import { ConfigError } from "../../lib/core/errors";

const table = [
  { batchSize: 64, replicas: 1, examplesPerSecond: 1000 },
  { batchSize: 64, replicas: 2, examplesPerSecond: 1030 },
  { batchSize: 256, replicas: 1, examplesPerSecond: 1100 },
  { batchSize: 256, replicas: 2, examplesPerSecond: 1900 },
];

test("batchBucket is the nearest power of two in log B", () => {
  assert.deepEqual(
    [1, 2, 3, 45, 46, 64, 90, 91, 1000].map(batchBucket),
    [1, 2, 4, 32, 64, 64, 64, 128, 1024],
  );
  assert.throws(() => batchBucket(0), ConfigError);
});

test("bestMicroBatch takes the largest size within 3% of the fastest", () => {
  const curve = [
    { microBatchSize: 32, examplesPerSecond: 900 },
    { microBatchSize: 64, examplesPerSecond: 1000 },
    { microBatchSize: 128, examplesPerSecond: 980 },
    { microBatchSize: 256, examplesPerSecond: 900 },
  ];
  assert.equal(bestMicroBatch(curve), 128);
  assert.equal(bestMicroBatch(curve, 0), 64);
  assert.throws(() => bestMicroBatch([]), /empty/);
});

test("chooseReplicas: the fastest K at B's bucket, with anti-flapping and K ≤ B", () => {
  assert.equal(chooseReplicas(table, 256, null), 2);
  assert.equal(chooseReplicas(table, 300, 1), 2); // bucket 256: 1900 > 1100·1.05
  assert.equal(chooseReplicas(table, 64, null), 2); // 1030 > 1000, no K in force
  assert.equal(chooseReplicas(table, 64, 1), 1); // +3% ≤ 5%: keep K=1
  assert.equal(chooseReplicas(table, 64, 1, 0), 2);
  assert.equal(chooseReplicas([{ batchSize: 1, replicas: 1, examplesPerSecond: 5 }], 1, null), 1);
  assert.equal(chooseReplicas(table, 1024, null), 2); // not measured: the nearest, 256
  assert.equal(chooseReplicas(table, 16, 1), 1); // nearest 64: +3% ≤ 5%
  assert.throws(
    () => chooseReplicas(table.slice(1, 2), 1, null),
    /no throughput measured with K <= 1/,
  );
});

test("machineThroughputCurve is the best K's examples/s per B, sorted", () => {
  assert.deepEqual(machineThroughputCurve(table), [
    { batchSize: 64, examplesPerSecond: 1030 },
    { batchSize: 256, examplesPerSecond: 1900 },
  ]);
});
