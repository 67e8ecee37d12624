import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { useTrainingBackend } from "../helpers/backends";
import { threeClassSource } from "../helpers/synthetic";
import { classificationTask } from "../../lib/grad/task";
import { mlp } from "../../lib/models/small";
import { Adam } from "../../lib/optim";
import { readRunLog, writeRunLog } from "../../lib/report/runlog";
import { constantSchedule } from "../../lib/schedules/constant";
import { trainLoop } from "../../lib/train/loop";

const source = (n: number, seed: number) => threeClassSource(n, seed);

test("perLayerNoise logs B_simple per layer, and run-log files keep the b_simple_layer columns", async () => {
  await useTrainingBackend();
  const task = classificationTask([6], 3);
  const model = mlp({ inputShape: [6], numClasses: 3, hidden: [8], seed: 1 });
  const layers = model.layers.filter((l) => l.trainableWeights.length > 0).map((l) => l.name);
  const r = await trainLoop({
    model,
    optimizer: new Adam({ learningRate: 0.01 }),
    task,
    train: source(512, 2),
    test: source(64, 3),
    schedule: constantSchedule({ batchSize: 32 }),
    config: { examplesBudget: 1024, learningRate: 0.01, perLayerNoise: true, noiseEvery: 1 },
  });
  const last = r.rows[r.rows.length - 1];
  assert.ok(last.bSimpleLayers != null, "no per-layer estimate");
  assert.deepEqual(Object.keys(last.bSimpleLayers).sort(), [...layers].sort());
  assert.ok(Object.values(last.bSimpleLayers).every((v) => Number.isFinite(v) && v >= 0));
  assert.equal(last.bSimple, undefined); // no global estimator was given
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "per-layer-"));
  const files = writeRunLog(r.rows, dir, "log");
  const header = fs.readFileSync(files.csv, "utf8").split("\n")[0];
  for (const l of layers) assert.ok(header.includes(`b_simple_layer:${l}`), header);
  assert.deepEqual(readRunLog(files.parquet), r.rows);
  const csvRows = readRunLog(files.csv);
  assert.equal(csvRows.length, r.rows.length);
  assert.deepEqual(
    Object.keys(csvRows[csvRows.length - 1].bSimpleLayers ?? {}).sort(),
    [...layers].sort(),
  );
  fs.rmSync(dir, { recursive: true });
  model.dispose();
});
