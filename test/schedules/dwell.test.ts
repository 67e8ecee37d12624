import { test } from "node:test";
import assert from "node:assert/strict";
import { adaDampSchedule } from "../../lib/schedules/adadamp";
import {
  RECOMPUTE_PRESETS,
  recomputeDue,
  resolveRecompute,
  type RecomputeOptions,
} from "../../lib/schedules/dwell";
import { geoDampLRSchedule, geoDampSchedule } from "../../lib/schedules/geodamp";
import { linearSchedule } from "../../lib/schedules/linear";
import { padaDampSchedule } from "../../lib/schedules/padadamp";
import { radaDampSchedule } from "../../lib/schedules/radadamp";
import { createSchedule } from "../../lib/schedules/registry";
import { BatchSchedule, Observation, ScheduleConfigError } from "../../lib/schedules/types";
import { drive } from "./obs";

// A recorded loss sequence (falling, noisy; all distinct): training loss F(x_k) and the batch
// statistics of the previous update, with epochs 0.1 per update (n = 1000, B ≈ 100).
const K = 32;
const recorded = Array.from({ length: K }, (_, k) => 2 / (1 + 0.15 * k) + 0.01 * Math.sin(3 * k));
const make = (k: number): Partial<Observation> => ({
  epoch: 0.1 * k,
  examples: 100 * k,
  lastLoss: k === 0 ? null : recorded[k - 1],
  lastGradSqNorm: k === 0 ? null : 3 * recorded[k - 1],
});
const trainLoss = (k: number) => recorded[k];

/** The package's recomputation updates for dwell = 5, wait = 10 below K. */
const PACKAGE = [0, 10, 15, 20, 25, 30];

/** Updates at which a decision differs from the previous one (update 0 counts). */
function changes<S>(s: BatchSchedule<S>): number[] {
  const { decisions } = drive(s, K, make, trainLoss);
  return decisions
    .map((d, k) => ({ d, k }))
    .filter(
      ({ d, k }) =>
        k === 0 ||
        d.batchSize !== decisions[k - 1].batchSize ||
        d.lrFactor !== decisions[k - 1].lrFactor,
    )
    .map(({ k }) => k);
}

test("recomputeDue is the package's rule: k = 0 or (k ≥ wait and k mod dwell = 0)", () => {
  const rule = { dwell: 5, wait: 10 };
  const due = Array.from({ length: K }, (_, k) => k).filter((k) => recomputeDue(k, rule));
  assert.deepEqual(due, PACKAGE);
  // wait not a multiple of dwell: multiples of dwell, not wait + j·dwell (package's phase)
  const odd = Array.from({ length: 12 }, (_, k) => k).filter((k) =>
    recomputeDue(k, { dwell: 3, wait: 2 }),
  );
  assert.deepEqual(odd, [0, 3, 6, 9]);
  // Algorithm 1: every update
  assert.ok([0, 1, 2, 7, 99].every((k) => recomputeDue(k, RECOMPUTE_PRESETS.paper)));
});

test("every damper with dwell = 5, wait = 10 recomputes at exactly 0, 10, 15, 20, …", () => {
  const rw: RecomputeOptions = { dwell: 5, wait: 10 };
  // Each damper chosen so that its un-held value changes at every update; then the updates
  // where its decision changes are exactly the recomputations.
  const dampers: [string, BatchSchedule<unknown>][] = [
    [
      "adadamp",
      adaDampSchedule({ initialBatchSize: 100, changeThreshold: 0, ...rw }) as BatchSchedule,
    ],
    ["padadamp", padaDampSchedule({ initialBatchSize: 10, growthRate: 1, ...rw })],
    ["geodamp", geoDampSchedule({ initialBatchSize: 10, delay: 0.1, factor: 1.5, ...rw })],
    ["geodamplr", geoDampLRSchedule({ initialBatchSize: 10, delay: 0.1, ...rw })],
    ["linear", linearSchedule({ initialBatchSize: 10, growthRate: 1, ...rw })],
  ];
  for (const [name, s] of dampers) assert.deepEqual(changes(s), PACKAGE, name);
  // Without dwell/wait (Algorithm 1) they change at every update.
  const every = Array.from({ length: K }, (_, k) => k);
  assert.deepEqual(changes(padaDampSchedule({ initialBatchSize: 10, growthRate: 1 })), every);
  assert.deepEqual(
    changes(adaDampSchedule({ initialBatchSize: 100, changeThreshold: 0 }) as BatchSchedule),
    every,
  );
  // RadaDamp: `wait` is its warm-up (B = B_0 through update 10, where c is fixed); its
  // proposals fall on the same rule's updates after it: 15, 20, 25, 30.
  const rada = radaDampSchedule({ initialBatchSize: 10, rho: 0.5, changeThreshold: 0, ...rw });
  const { decisions } = drive(rada, K, make, trainLoss);
  const folded = decisions
    .map((d, k) => ({ k, avg: d.state.lossAvg, prev: k ? decisions[k - 1].state.lossAvg : null }))
    .filter(({ avg, prev }) => avg !== null && avg !== prev)
    .map(({ k }) => k);
  assert.deepEqual(folded, PACKAGE.slice(1));
});

test('preset "adadamp" is the package (dwell 20, wait 100), selectable through the registry', () => {
  assert.deepEqual(resolveRecompute({ preset: "adadamp" }), { dwell: 20, wait: 100 });
  assert.deepEqual(resolveRecompute({}), { dwell: 1, wait: 0 });
  assert.deepEqual(resolveRecompute({ preset: "adadamp", wait: 0 }), { dwell: 20, wait: 0 });
  const s = createSchedule(
    "padadamp",
    { initialBatchSize: "10", growthRate: "1", preset: "adadamp" },
    { datasetSize: 100000 },
  );
  let state = s.init();
  const bs: number[] = [];
  for (let k = 0; k < 150; k++) {
    const d = s.update(state, { ...fullObs(k) });
    state = d.state;
    bs.push(d.batchSize);
  }
  // B = 10 + k at k = 0, 100, 120, 140; held in between.
  assert.deepEqual(
    [bs[0], bs[99], bs[100], bs[119], bs[120], bs[149]],
    [10, 10, 110, 110, 130, 150],
  );
  // The held state is plain JSON.
  assert.deepEqual(JSON.parse(JSON.stringify(state)), state);
  for (const name of ["adadamp", "geodamp", "geodamplr", "linear"]) {
    const params: Record<string, unknown> = { initialBatchSize: 8, preset: "adadamp" };
    if (name.startsWith("geo")) params.delay = 1;
    if (name === "linear") params.growthRate = 1;
    assert.doesNotThrow(() => createSchedule(name, params, { datasetSize: 100 }), name);
  }
});

test("bad dwell/wait/preset values throw ScheduleConfigError naming them", () => {
  assert.throws(() => resolveRecompute({ dwell: 0 }), /dwell must be an integer >= 1, got 0/);
  assert.throws(() => resolveRecompute({ wait: -2 }), /wait must be an integer >= 0, got -2/);
  assert.throws(
    () => resolveRecompute({ preset: "keras" as never }),
    (e: unknown) => e instanceof ScheduleConfigError && /preset .* got keras/.test(e.message),
  );
  assert.throws(
    () => padaDampSchedule({ initialBatchSize: 8, growthRate: 1, dwell: 1.5 }),
    /dwell must be an integer >= 1, got 1.5/,
  );
  assert.throws(
    () =>
      createSchedule(
        "geodamp",
        { initialBatchSize: 8, delay: 1, preset: "keras" },
        { datasetSize: 10 },
      ),
    /parameter "preset"/,
  );
});

function fullObs(k: number): Observation {
  return {
    step: k,
    epoch: k / 1000,
    examples: k * 100,
    datasetSize: 100000,
    lastLoss: null,
    lastGradSqNorm: null,
    trainLoss: null,
    noise: null,
  };
}
