import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";
import {
  BackendError,
  BatchwiseError,
  CheckpointError,
  ConfigError,
  ConvergenceError,
  DatasetError,
} from "../../lib/core/errors";
import { ScheduleConfigError } from "../../lib/schedules/types";
import { OptimizerConfigError } from "../../lib/optim/base";
import { ClusterModelError } from "../../lib/cluster/simulator";
import { requireInRange, requireInt, requireNumber } from "../../lib/core/validate";
import { parseLoopConfig } from "../../lib/train/config";

function libFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? libFiles(p) : p.endsWith(".ts") ? [p] : [];
  });
}

test("every error thrown in lib/ is a BatchwiseError subclass: no bare Error, TypeError or RangeError", () => {
  const root = path.join(__dirname, "..", "..", "lib");
  const offenders: string[] = [];
  for (const f of libFiles(root)) {
    fs.readFileSync(f, "utf8")
      .split("\n")
      .forEach((line, i) => {
        if (/throw new (Error|TypeError|RangeError)\(/.test(line)) {
          offenders.push(`${path.relative(root, f)}:${i + 1}: ${line.trim()}`);
        }
      });
  }
  assert.deepEqual(offenders, []);
});

test("the error family: named subclasses of BatchwiseError, config errors under ConfigError", () => {
  for (const C of [ConfigError, DatasetError, CheckpointError, ConvergenceError, BackendError]) {
    const e = new C("x");
    assert.ok(e instanceof BatchwiseError && e instanceof Error);
    assert.equal(e.name, C.name);
  }
  for (const C of [ScheduleConfigError, OptimizerConfigError, ClusterModelError]) {
    const e = new C("x");
    assert.ok(e instanceof ConfigError && e instanceof BatchwiseError);
    assert.equal(e.name, C.name);
  }
  const cause = new Error("low");
  assert.equal(new DatasetError("high", { cause }).cause, cause);
});

test("validators name the parameter, the range and the value, and throw the class asked for", () => {
  assert.throws(() => requireInt("batchSize", 0, 1), {
    name: "ConfigError",
    message: "batchSize must be an integer >= 1, got 0",
  });
  assert.throws(() => requireNumber("lr", 0, 0), /lr must be a finite number > 0, got 0/);
  assert.throws(() => requireNumber("x", -1, 0, true), /x must be a finite number >= 0, got -1/);
  assert.throws(
    () => requireInRange("rho", 1, 0, 1, { hiOpen: true }),
    /rho must be a finite number in \[0, 1\), got 1/,
  );
  assert.throws(() => requireInt("n", 1.5, 1, DatasetError), DatasetError);
  requireInt("ok", 3, 1);
});

test("trainLoop's configuration: defaults fill in, bad or unknown keys are a ConfigError naming them", () => {
  const c = parseLoopConfig({ examplesBudget: 100, learningRate: 0.1 });
  assert.equal(c.microBatchSize, 512);
  assert.equal(c.noiseEvery, 4);
  assert.throws(
    () => parseLoopConfig({ examplesBudget: 0, learningRate: 0.1 }),
    (e: Error) => e instanceof ConfigError && /examplesBudget: .* \(got 0\)/.test(e.message),
  );
  assert.throws(
    () => parseLoopConfig({ examplesBudget: 10, learningRate: 0.1, progres: true } as never),
    /unknown option\(s\): progres/,
  );
});
