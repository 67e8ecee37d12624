import { test } from "node:test";
import assert from "node:assert/strict";
import { gdSchedule } from "../../lib/schedules/gd";
import { geoDampLRSchedule } from "../../lib/schedules/geodamp";
import { linearSchedule } from "../../lib/schedules/linear";
import { padaDampSchedule } from "../../lib/schedules/padadamp";
import { obs } from "./obs";

test("padadamp: B_k = ⌈B_0 + r·k⌉, capped with lrFactor B_max/B_k", () => {
  const s = padaDampSchedule({ initialBatchSize: 32, growthRate: 0.5 });
  // k = 0, 1, 10, 11: 32, ⌈32.5⌉ = 33, 37, ⌈37.5⌉ = 38
  assert.deepEqual(
    [0, 1, 10, 11].map((k) => s.update({}, obs({ step: k })).batchSize),
    [32, 33, 37, 38],
  );
  // 0.1·30 = 3.0000000000000004 in floating point: 32 + 3 = 35, not 36
  const t = padaDampSchedule({ initialBatchSize: 32, growthRate: 0.1 });
  assert.equal(t.update({}, obs({ step: 30 })).batchSize, 35);
  // B_max = 40 at k = 20: ⌈32 + 10⌉ = 42 → B = 40, lrFactor = 40/42
  const c = padaDampSchedule({ initialBatchSize: 32, growthRate: 0.5, maxBatchSize: 40 });
  assert.deepEqual(c.update({}, obs({ step: 20 })), {
    batchSize: 40,
    lrFactor: 40 / 42,
    state: {},
  });
  // default B_max = n = 1000: k = 2000, r = 1 → 2032 → 1000, lrFactor 1000/2032
  const u = padaDampSchedule({ initialBatchSize: 32, growthRate: 1 });
  const d = u.update({}, obs({ step: 2000 }));
  assert.equal(d.batchSize, 1000);
  assert.equal(d.lrFactor, 1000 / 2032);
  assert.throws(
    () => padaDampSchedule({ initialBatchSize: 32, growthRate: -1 }),
    /growthRate must be a finite number >= 0, got -1/,
  );
  assert.throws(
    () => padaDampSchedule({ initialBatchSize: 32, growthRate: 1, maxBatchSize: 16 }),
    /maxBatchSize must be an integer >= 32, got 16/,
  );
});

test("linear: B = ⌈B_0 (1 + r·epoch)⌉, capped with lrFactor B_max/B", () => {
  const s = linearSchedule({ initialBatchSize: 64, growthRate: 0.5 });
  // epochs 0, 0.1, 1, 2.5: 64, ⌈67.2⌉ = 68, 96, 64·2.25 = 144
  assert.deepEqual(
    [0, 0.1, 1, 2.5].map((e) => s.update({}, obs({ epoch: e })).batchSize),
    [64, 68, 96, 144],
  );
  const c = linearSchedule({ initialBatchSize: 64, growthRate: 0.5, maxBatchSize: 100 });
  const d = c.update({}, obs({ epoch: 2.5 }));
  assert.deepEqual([d.batchSize, d.lrFactor], [100, 100 / 144]);
  // r = 0 is constant
  const z = linearSchedule({ initialBatchSize: 7, growthRate: 0 });
  assert.equal(z.update({}, obs({ epoch: 9 })).batchSize, 7);
  assert.throws(
    () => linearSchedule({ initialBatchSize: 0, growthRate: 1 }),
    /initialBatchSize must be an integer >= 1, got 0/,
  );
  assert.throws(
    () => linearSchedule({ initialBatchSize: 8, growthRate: NaN }),
    /growthRate must be a finite number >= 0, got NaN/,
  );
});

test("gd: B = n every update, lrFactor 1", () => {
  const s = gdSchedule();
  assert.deepEqual(s.update(s.init(), obs({ step: 5, datasetSize: 60000 })), {
    batchSize: 60000,
    lrFactor: 1,
    state: {},
  });
  assert.equal(s.name, "gd");
});

test("geodamplr: fixed B, lrFactor = factor^−⌊epoch/delay⌋", () => {
  const s = geoDampLRSchedule({ initialBatchSize: 128, delay: 5 });
  // epochs 0, 4.99, 5, 10, 12 → periods 0, 0, 1, 2, 2 → 1, 1, ½, ¼, ¼
  const ds = [0, 4.99, 5, 10, 12].map((e) => s.update({}, obs({ epoch: e })));
  assert.deepEqual(
    ds.map((d) => d.lrFactor),
    [1, 1, 0.5, 0.25, 0.25],
  );
  assert.ok(ds.every((d) => d.batchSize === 128));
  const t = geoDampLRSchedule({ initialBatchSize: 16, delay: 1, factor: 3 });
  assert.equal(t.update({}, obs({ epoch: 2 })).lrFactor, 1 / 9);
  // 180000/60000 in floating point counts as 3 full periods
  assert.equal(t.update({}, obs({ epoch: 179999.99999999997 / 60000 })).lrFactor, 1 / 27);
  assert.throws(
    () => geoDampLRSchedule({ initialBatchSize: 16, delay: 1, factor: 1 }),
    /factor must be a finite number > 1, got 1/,
  );
  assert.throws(
    () => geoDampLRSchedule({ initialBatchSize: 16, delay: -2 }),
    /delay must be a finite number > 0, got -2/,
  );
});
