import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, beforeEach, describe, test } from "node:test";
import pl from "nodejs-polars";
import { atomicWrite } from "../../lib/report/atomic";
import {
  RUN_LOG_FIELDS,
  dataFrameToRunLog,
  groupRuns,
  readRunLog,
  runLogToDataFrame,
  writeRunLog,
} from "../../lib/report/runlog";
import { RUN_LOG_COLUMNS, type RunLogRow } from "../../lib/train/types";
import { ALL_ROWS, CONSTANT, GROWING_NAME, NEVER } from "./fixtures";

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "batchwise-report-"));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("runLogToDataFrame", () => {
  test("columns in RUN_LOG_COLUMNS order, typed, nulls kept", () => {
    const df = runLogToDataFrame(ALL_ROWS);
    assert.deepEqual(df.columns, Object.values(RUN_LOG_COLUMNS));
    assert.deepEqual(df.shape, { height: 9, width: 15 });
    assert.deepEqual(
      df.dtypes.map((d) => d.variant),
      [
        "String",
        "Int64",
        "Float64",
        "Int64",
        "Int64",
        "Float64",
        "Float64",
        "Float64",
        "Float64",
        "Float64",
        "Float64",
        "Int64",
        "Float64",
        "Float64",
        "Float64",
      ],
    );
    // test_accuracy: constant evaluated at steps 2 and 4, growing at 1 and 3, "64" never.
    assert.deepEqual(df.getColumn("test_accuracy").toArray(), [
      null,
      0.5,
      null,
      0.75,
      0.625,
      null,
      0.875,
      null,
      null,
    ]);
    assert.equal(df.getColumn("test_loss").nullCount(), 5);
  });

  test("empty log gives a typed empty frame", () => {
    const df = runLogToDataFrame([]);
    assert.equal(df.height, 0);
    assert.deepEqual(df.columns, Object.values(RUN_LOG_COLUMNS));
    assert.equal(df.getColumn("batch_size").dtype.variant, "Int64");
  });

  test("rejects invalid rows, naming the row, field and value", () => {
    const bad = (patch: Partial<RunLogRow>) => [CONSTANT[0], { ...CONSTANT[1], ...patch }];
    assert.throws(
      () => runLogToDataFrame(bad({ batchSize: 0 })),
      /rows\[1\]\.batchSize .*>= 1.*got 0/,
    );
    assert.throws(
      () => runLogToDataFrame(bad({ step: 1.5 })),
      /rows\[1\]\.step .*integer.*got 1\.5/,
    );
    assert.throws(
      () => runLogToDataFrame(bad({ testAccuracy: 1.2 })),
      /testAccuracy .*\[0, 1\].*1\.2/,
    );
    assert.throws(() => runLogToDataFrame(bad({ run: "" })), /rows\[1\]\.run/);
    assert.throws(() => runLogToDataFrame(bad({ wallClock: NaN })), /wallClock .*finite.*NaN/);
    const missing = { ...CONSTANT[1] } as Partial<RunLogRow>;
    delete missing.testLoss;
    assert.throws(
      () => runLogToDataFrame([missing as RunLogRow]),
      /rows\[0\]\.testLoss .*or null, got undefined/,
    );
    assert.throws(() => runLogToDataFrame("x" as unknown as RunLogRow[]), /rows: must be an array/);
  });
});

describe("dataFrameToRunLog", () => {
  test("inverts runLogToDataFrame (NaN, Infinity and nulls kept)", () => {
    assert.deepEqual(dataFrameToRunLog(runLogToDataFrame(ALL_ROWS)), ALL_ROWS);
  });

  test("ignores extra columns, needs every run-log column", () => {
    const df = runLogToDataFrame(CONSTANT).withColumn(pl.lit(1).alias("extra"));
    assert.deepEqual(dataFrameToRunLog(df), CONSTANT);
    assert.throws(
      () => dataFrameToRunLog(runLogToDataFrame(CONSTANT).drop("batch_size", "epoch")),
      /df: missing run-log columns "epoch", "batch_size"/,
    );
  });

  test("a Float64 step of 1.5 is rejected, not truncated", () => {
    const df = runLogToDataFrame(CONSTANT).withColumn(
      pl.Series("step", [1, 2.5, 3, 4], pl.Float64),
    );
    assert.throws(() => dataFrameToRunLog(df), /df rows\[1\]\.step .*integer.*2\.5/);
  });
});

describe("writeRunLog / readRunLog", () => {
  test("round trip through CSV and Parquet equals the input", () => {
    const files = writeRunLog(ALL_ROWS, path.join(dir, "sub", "deeper"), "log");
    assert.equal(files.csv, path.join(dir, "sub", "deeper", "log.csv"));
    assert.equal(files.parquet, path.join(dir, "sub", "deeper", "log.parquet"));
    // No temporary files are left behind.
    assert.deepEqual(fs.readdirSync(path.dirname(files.csv)).sort(), ["log.csv", "log.parquet"]);
    const fromCsv = readRunLog(files.csv);
    const fromParquet = readRunLog(files.parquet);
    assert.deepEqual(fromCsv, ALL_ROWS);
    assert.deepEqual(fromParquet, ALL_ROWS);
    assert.equal(fromCsv[4].run, GROWING_NAME);
    assert.equal(fromCsv[7].run, "64"); // a numeric-looking name stays a string
  });

  test("all-null metric columns and empty logs round-trip", () => {
    for (const rows of [NEVER, []]) {
      const files = writeRunLog(rows, dir, `n${rows.length}`);
      assert.deepEqual(readRunLog(files.csv), rows);
      assert.deepEqual(readRunLog(files.parquet), rows);
    }
  });

  test("overwrites an existing log", () => {
    writeRunLog(ALL_ROWS, dir, "log");
    const files = writeRunLog(CONSTANT, dir, "log");
    assert.deepEqual(readRunLog(files.csv), CONSTANT);
    assert.deepEqual(readRunLog(files.parquet), CONSTANT);
  });

  test("a missing column is named with the file", () => {
    const csv = path.join(dir, "short.csv");
    const header = RUN_LOG_FIELDS.map((f) => RUN_LOG_COLUMNS[f]).filter((c) => c !== "batch_size");
    fs.writeFileSync(csv, `${header.join(",")}\nconstant,1,0.25,2,0.1,2.0,,,0.5\n`);
    assert.throws(
      () => readRunLog(csv),
      (e: Error) => {
        assert.match(e.message, /missing run-log column "batch_size"/);
        assert.ok(e.message.includes(csv), e.message);
        return true;
      },
    );
    const parquet = path.join(dir, "short.parquet");
    runLogToDataFrame(CONSTANT).drop("wall_clock_s").writeParquet(parquet);
    assert.throws(
      () => readRunLog(parquet),
      /short\.parquet.*missing run-log column "wall_clock_s"/,
    );
  });

  test("unparseable cells, bad paths and bad names are reported", () => {
    const csv = path.join(dir, "bad.csv");
    const cols = RUN_LOG_FIELDS.map((f) => RUN_LOG_COLUMNS[f]);
    fs.writeFileSync(csv, `${cols.join(",")}\nconstant,one,0.25,2,2,0.1,2.0,,,0.5\n`);
    assert.throws(() => readRunLog(csv), /bad\.csv.*cannot parse run-log columns/);
    assert.throws(() => readRunLog(path.join(dir, "nope.csv")), /nope\.csv" does not exist/);
    assert.throws(
      () => readRunLog(path.join(dir, "log.json")),
      /file: must end in \.csv or \.parquet/,
    );
    assert.throws(() => writeRunLog(CONSTANT, dir, "a/b"), /basename: must be a plain file name/);
    assert.throws(() => writeRunLog(CONSTANT, "", "x"), /dir: must be a non-empty string/);
  });
});

describe("atomicWrite", () => {
  test("a failing write leaves neither a half file nor a temp file", () => {
    const target = path.join(dir, "a.txt");
    fs.writeFileSync(target, "old");
    assert.throws(
      () =>
        atomicWrite(target, (tmp) => {
          fs.writeFileSync(tmp, "half");
          throw new Error("crash");
        }),
      /crash/,
    );
    assert.equal(fs.readFileSync(target, "utf8"), "old");
    assert.deepEqual(fs.readdirSync(dir), ["a.txt"]);
  });
});

describe("groupRuns", () => {
  test("groups by first appearance, sorts by step, rejects duplicate steps", () => {
    const shuffled = [CONSTANT[3], NEVER[1], CONSTANT[0], NEVER[0], CONSTANT[2], CONSTANT[1]];
    const groups = groupRuns(shuffled);
    assert.deepEqual([...groups.keys()], ["constant", "64"]);
    assert.deepEqual(
      groups.get("constant")!.map((r) => r.step),
      [1, 2, 3, 4],
    );
    assert.throws(() => groupRuns([...CONSTANT, CONSTANT[2]]), /run "constant" logs step 3 twice/);
  });
});
