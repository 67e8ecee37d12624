import { test } from "node:test";
import assert from "node:assert/strict";
import {
  createLrRule,
  createSchedule,
  LR_RULE_NAMES,
  SCHEDULE_NAMES,
} from "../../lib/schedules/registry";
import { ScheduleConfigError } from "../../lib/schedules/types";
import { drive } from "./obs";

const ctx = { datasetSize: 1000 };

test("the registry lists every schedule and rule", () => {
  assert.deepEqual(SCHEDULE_NAMES, [
    "constant",
    "gd",
    "adadamp",
    "padadamp",
    "geodamp",
    "geodamplr",
    "linear",
    "radadamp",
    "noise-scale",
    "goodput",
    "cbs-warmup",
    "seesaw",
  ]);
  assert.deepEqual(LR_RULE_NAMES, ["none", "linear", "sqrt", "power", "adascale", "surge"]);
});

test("createSchedule parses CLI strings and builds the schedule", () => {
  const s = createSchedule(
    "adadamp",
    { initialBatchSize: "10", dwell: " 2 ", changeThreshold: "0" },
    ctx,
  );
  assert.equal(s.name, "adadamp");
  const { decisions } = drive(
    s,
    3,
    () => ({}),
    (k) => [1, 1, 0.25][k],
  );
  assert.deepEqual(
    decisions.map((d) => d.batchSize),
    [10, 10, 40],
  );
  const p = createSchedule("padadamp", { initialBatchSize: 4, growthRate: "1e-1" }, ctx);
  assert.equal(p.update(p.init(), { ...baseObs(), step: 30 }).batchSize, 7); // 4 + ⌈0.1·30⌉
  for (const [name, params] of [
    ["constant", { batchSize: 8 }],
    ["gd", {}],
    ["geodamp", { initialBatchSize: 8, delay: 1 }],
    ["geodamplr", { initialBatchSize: 8, delay: "2", factor: "10" }],
    ["linear", { initialBatchSize: 8, growthRate: 1 }],
    ["radadamp", { initialBatchSize: 8, rho: "0.9" }],
  ] as const) {
    assert.equal(createSchedule(name, params, ctx).name, name);
  }
});

function baseObs() {
  return {
    step: 0,
    epoch: 0,
    examples: 0,
    datasetSize: 1000,
    lastLoss: null,
    lastGradSqNorm: null,
    trainLoss: null,
    noise: null,
  };
}

test("createSchedule errors name the schedule, parameter and value", () => {
  const err = (name: string, params: Record<string, unknown>, re: RegExp) =>
    assert.throws(
      () => createSchedule(name, params, ctx),
      (e: unknown) => e instanceof ScheduleConfigError && re.test(e.message),
    );
  err("adadmp", {}, /unknown schedule "adadmp" \(known: constant, gd, adadamp,/);
  err(
    "adadamp",
    { initialBatchSize: 8, B0: 4 },
    /schedule "adadamp": unknown parameter "B0" \(known: initialBatchSize, maxBatchSize,/,
  );
  err("gd", { batchSize: 4 }, /schedule "gd": unknown parameter "batchSize" \(known: none\)/);
  err("adadamp", {}, /schedule "adadamp": missing required parameter "initialBatchSize"/);
  err(
    "seesaw",
    undefined as unknown as Record<string, unknown>,
    /schedule "seesaw": missing required parameter "initialBatchSize"/,
  );
  err(
    "adadamp",
    { initialBatchSize: 8, dwell: "abc" },
    /schedule "adadamp": parameter "dwell" must be a finite number, got "abc"/,
  );
  err(
    "adadamp",
    { initialBatchSize: 8, dwell: "2.5" },
    /parameter "dwell" must be an integer, got "2.5"/,
  );
  err(
    "adadamp",
    { initialBatchSize: 8, dwell: 0 },
    /schedule "adadamp": dwell must be an integer >= 1, got 0/,
  );
  err(
    "geodamp",
    { initialBatchSize: 8, delay: 1, factor: "0.5" },
    /schedule "geodamp": factor must be a finite number > 1, got 0.5/,
  );
  err(
    "radadamp",
    { initialBatchSize: 8, rho: 1 },
    /schedule "radadamp": rho must be a finite number in \[0, 1\), got 1/,
  );
  err("constant", { batchSize: "" }, /parameter "batchSize" must be a finite number, got ""/);
  err("constant", { batchSize: true }, /parameter "batchSize" .*got true/);
  assert.throws(
    () => createSchedule("gd", {}, { datasetSize: 0 }),
    /datasetSize must be an integer >= 1, got 0/,
  );
});

test("createLrRule builds rules and names bad parameters", () => {
  assert.equal(createLrRule("power", { alpha: "0.5" }).factor(512, 128, baseObs()), 2);
  assert.equal(createLrRule("linear").factor(512, 128, baseObs()), 4);
  assert.throws(() => createLrRule("cubic"), /unknown learning-rate rule "cubic" \(known: none,/);
  assert.throws(
    () => createLrRule("power", { alpha: 2 }),
    /learning-rate rule "power": alpha must be a finite number in \[0, 1\], got 2/,
  );
  assert.throws(
    () => createLrRule("sqrt", { alpha: 1 }),
    /learning-rate rule "sqrt": unknown parameter "alpha"/,
  );
  assert.throws(
    () => createLrRule("power", {}),
    /learning-rate rule "power": missing required parameter "alpha"/,
  );
});
