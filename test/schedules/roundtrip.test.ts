import { test } from "node:test";
import assert from "node:assert/strict";
import { adaDampSchedule } from "../../lib/schedules/adadamp";
import { constantSchedule } from "../../lib/schedules/constant";
import { gdSchedule } from "../../lib/schedules/gd";
import { geoDampLRSchedule, geoDampSchedule } from "../../lib/schedules/geodamp";
import { linearSchedule } from "../../lib/schedules/linear";
import { adaScaleRule, linearRule, withLrScaling } from "../../lib/schedules/lr-rules";
import { padaDampSchedule } from "../../lib/schedules/padadamp";
import { radaDampSchedule } from "../../lib/schedules/radadamp";
import { createSchedule, SCHEDULE_NAMES } from "../../lib/schedules/registry";
import { BatchSchedule, Observation } from "../../lib/schedules/types";
import { drive } from "./obs";

// A deterministic, varied observation stream: falling noisy losses, growing epochs.
const make = (k: number): Partial<Observation> => ({
  epoch: k * 0.37,
  examples: k * 370,
  lastLoss: k === 0 ? null : 2 / (1 + 0.3 * k) + 0.05 * Math.sin(k),
  lastGradSqNorm: k === 0 ? null : 3 / (1 + 0.2 * k) + 0.1 * Math.cos(k),
  noise: k < 3 ? null : { gradSqNorm: 1 / k, traceSigma: 50, bSimple: 50 * k },
});
const trainLoss = (k: number) => 3 / (1 + 0.5 * k);

function roundTrip<S>(s: BatchSchedule<S>, label: string): void {
  const steps = 40;
  const full = drive(s, steps, make, trainLoss).decisions;
  const half = drive(s, 17, make, trainLoss).state;
  const restored = JSON.parse(JSON.stringify(half)) as S;
  const rest = drive(s, steps, make, trainLoss, { state: restored, from: 17 }).decisions;
  assert.deepEqual(rest, full.slice(17), `${label}: restored state diverged`);
  // and the state itself is plain JSON
  assert.deepEqual(JSON.parse(JSON.stringify(full[steps - 1].state)), full[steps - 1].state);
}

test("every schedule's state survives a JSON round trip mid-schedule", () => {
  const schedules: [string, BatchSchedule<unknown>][] = [
    ["constant", constantSchedule({ batchSize: 32 })],
    ["gd", gdSchedule()],
    ["adadamp", adaDampSchedule({ initialBatchSize: 8, dwell: 3, wait: 2, maxBatchSize: 64 })],
    ["padadamp", padaDampSchedule({ initialBatchSize: 8, growthRate: 0.7, maxBatchSize: 30 })],
    ["geodamp", geoDampSchedule({ initialBatchSize: 8, delay: 2, maxBatchSize: 100 })],
    ["geodamplr", geoDampLRSchedule({ initialBatchSize: 8, delay: 2 })],
    ["linear", linearSchedule({ initialBatchSize: 8, growthRate: 0.4 })],
    ["radadamp", radaDampSchedule({ initialBatchSize: 8, wait: 5, rho: 0.8 })],
    [
      "adadamp+linear",
      withLrScaling(adaDampSchedule({ initialBatchSize: 8 }), linearRule(), { warmupSteps: 30 }),
    ],
    [
      "padadamp+adascale",
      withLrScaling(padaDampSchedule({ initialBatchSize: 8, growthRate: 2 }), adaScaleRule()),
    ],
  ];
  for (const [label, s] of schedules) roundTrip(s, label);
});

test("every registry schedule round-trips too", () => {
  const params: Record<string, Record<string, unknown>> = {
    constant: { batchSize: 16 },
    gd: {},
    adadamp: { initialBatchSize: 4, dwell: 2 },
    padadamp: { initialBatchSize: 4, growthRate: 1 },
    geodamp: { initialBatchSize: 4, delay: 3 },
    geodamplr: { initialBatchSize: 4, delay: 3 },
    linear: { initialBatchSize: 4, growthRate: 1 },
    radadamp: { initialBatchSize: 4, wait: 3, rho: 0.5 },
    "noise-scale": { initialBatchSize: 4, maxBatchSize: 512 },
    goodput: {
      initialBatchSize: 4,
      throughput: [
        { batchSize: 4, examplesPerSecond: 100 },
        { batchSize: 64, examplesPerSecond: 800 },
      ],
    },
    "cbs-warmup": {
      initialBatchSize: 4,
      curve: [
        { examples: 0, criticalBatchSize: 6 },
        { examples: 3000, criticalBatchSize: 40 },
      ],
    },
    seesaw: { initialBatchSize: 4, maxBatchSize: 64, decayEpochs: 2, finalFactor: 0 },
  };
  for (const name of SCHEDULE_NAMES) {
    roundTrip(createSchedule(name, params[name], { datasetSize: 1000 }), name);
  }
});
