/**
 * Run logs as nodejs-polars DataFrames, and their CSV / Parquet files.
 *
 * A run log is one {@link RunLogRow} per model update (see lib/train/types.ts). As a DataFrame its
 * columns are {@link RUN_LOG_COLUMNS} in that order, typed by {@link RUN_LOG_DTYPES}: `run` is
 * String (polars' current name for Utf8), the counts (`step`, `examples_processed`,
 * `batch_size`) are Int64, everything else is Float64; the test metrics are null on rows where
 * no evaluation ran.
 */
import * as fs from "fs";
import * as path from "path";
import pl, { type DataType } from "nodejs-polars";
import { atomicWrite } from "./atomic";
import {
  BSIMPLE_LAYER_PREFIX,
  RUN_LOG_COLUMNS,
  type RunLogField,
  type RunLogRow,
} from "../train/types";
import { ConfigError } from "../core/errors";

/** Field names of {@link RunLogRow} in column order. */
export const RUN_LOG_FIELDS = Object.freeze(Object.keys(RUN_LOG_COLUMNS)) as readonly RunLogField[];

/** Polars data type of each run-log column, keyed by {@link RunLogRow} field. */
export const RUN_LOG_DTYPES: Readonly<Record<RunLogField, DataType>> = Object.freeze({
  run: pl.String,
  step: pl.Int64,
  epoch: pl.Float64,
  examples: pl.Int64,
  batchSize: pl.Int64,
  learningRate: pl.Float64,
  trainLoss: pl.Float64,
  testLoss: pl.Float64,
  testAccuracy: pl.Float64,
  wallClock: pl.Float64,
  bSimple: pl.Float64,
  replicas: pl.Int64,
  adaScaleGain: pl.Float64,
  scaleInvariantSteps: pl.Float64,
  weightDecay: pl.Float64,
});

/** Paths written by {@link writeRunLog}. */
export interface RunLogFiles {
  /** Absolute path of `<basename>.csv`. */
  csv: string;
  /** Absolute path of `<basename>.parquet`. */
  parquet: string;
}

type Check = (v: unknown) => string | null;

const isNum = (v: unknown): v is number => typeof v === "number";
const intAtLeast =
  (min: number): Check =>
  (v) =>
    isNum(v) && Number.isSafeInteger(v) && v >= min ? null : `must be an integer >= ${min}`;
const finiteAtLeast0: Check = (v) =>
  isNum(v) && Number.isFinite(v) && v >= 0 ? null : "must be a finite number >= 0";
// Losses may be NaN or ±Infinity: a diverging run is still worth logging.
const anyNumber: Check = (v) => (isNum(v) ? null : "must be a number (NaN and ±Infinity allowed)");
const nullable =
  (check: Check): Check =>
  (v) => {
    const problem = v === null ? null : check(v);
    return problem === null ? null : `${problem}, or null`;
  };
const unitInterval: Check = (v) =>
  isNum(v) && v >= 0 && v <= 1 ? null : "must be a number in [0, 1]";

const CHECKS: Record<RunLogField, Check> = {
  run: (v) => (typeof v === "string" && v.length > 0 ? null : "must be a non-empty string"),
  step: intAtLeast(0),
  epoch: finiteAtLeast0,
  examples: intAtLeast(0),
  batchSize: intAtLeast(1),
  learningRate: finiteAtLeast0,
  trainLoss: anyNumber,
  testLoss: nullable(anyNumber),
  testAccuracy: nullable(unitInterval),
  wallClock: finiteAtLeast0,
  bSimple: (v) => (v === undefined ? null : nullable(finiteAtLeast0)(v)),
  replicas: (v) => (v === undefined ? null : nullable(intAtLeast(1))(v)),
  adaScaleGain: (v) => (v === undefined ? null : nullable(finiteAtLeast0)(v)),
  scaleInvariantSteps: (v) => (v === undefined ? null : nullable(finiteAtLeast0)(v)),
  weightDecay: (v) => (v === undefined ? null : nullable(finiteAtLeast0)(v)),
};

function show(v: unknown): string {
  if (typeof v === "number" || typeof v === "bigint") return String(v);
  if (v === undefined) return "undefined";
  return JSON.stringify(v) ?? String(v);
}

/**
 * Checks that every row is a valid {@link RunLogRow}: `run` a non-empty string; `step` and
 * `examples` integers >= 0; `batchSize` an integer >= 1; `epoch`, `learningRate`, `wallClock`
 * finite and >= 0; `trainLoss` any number (NaN / ±Infinity allowed, for diverging runs);
 * `testLoss` a number or null; `testAccuracy` in [0, 1] or null.
 *
 * @param rows the rows to check.
 * @param param how error messages name the array (e.g. `"rows"`), default `"rows"`.
 * @returns nothing; returns normally when every row is valid.
 * @throws TypeError if `rows` is not an array or a row is not an object; RangeError naming the
 *   row index, field and value of the first invalid field.
 * @example
 * validateRunLogRows([{ run: "a", step: 1, epoch: 0.01, examples: 64, batchSize: 64,
 *   learningRate: 0.1, trainLoss: 2.3, testLoss: null, testAccuracy: null, wallClock: 0.5 }]);
 */
export function validateRunLogRows(rows: readonly RunLogRow[], param = "rows"): void {
  if (!Array.isArray(rows)) throw new ConfigError(`${param}: must be an array, got ${show(rows)}`);
  rows.forEach((row, i) => {
    if (row === null || typeof row !== "object") {
      throw new ConfigError(`${param}[${i}]: must be a run-log row object, got ${show(row)}`);
    }
    for (const field of RUN_LOG_FIELDS) {
      const v = (row as unknown as Record<string, unknown>)[field];
      const problem = CHECKS[field](v);
      if (problem !== null) {
        throw new ConfigError(`${param}[${i}].${field} ${problem}, got ${show(v)}`);
      }
    }
    const layers = row.bSimpleLayers;
    if (layers !== undefined) {
      if (layers === null || typeof layers !== "object" || Array.isArray(layers)) {
        throw new ConfigError(
          `${param}[${i}].bSimpleLayers must be an object of layer → B_simple, got ${show(layers)}`,
        );
      }
      for (const [name, v] of Object.entries(layers)) {
        if (finiteAtLeast0(v) !== null) {
          throw new ConfigError(
            `${param}[${i}].bSimpleLayers["${name}"] must be a finite number >= 0, got ${show(v)}`,
          );
        }
      }
    }
  });
}

/**
 * Builds a run-log DataFrame: one row per {@link RunLogRow}, columns {@link RUN_LOG_COLUMNS} in
 * order, typed by {@link RUN_LOG_DTYPES}, with null test metrics where no evaluation ran; then,
 * when rows carry per-layer noise scales, one Float64 column `b_simple_layer:<layer>` per layer
 * (in order of first appearance; null where a row has no value for it).
 *
 * @param rows run-log rows (validated by {@link validateRunLogRows}); may be empty.
 * @returns a DataFrame of shape `(rows.length, 14 + layers)`.
 * @throws TypeError / RangeError from {@link validateRunLogRows}, naming the row and field.
 * @example
 * const df = runLogToDataFrame(rows);
 * df.getColumn("test_accuracy").dtype; // Float64
 */
export function runLogToDataFrame(rows: readonly RunLogRow[]): pl.DataFrame {
  validateRunLogRows(rows);
  const layers: string[] = [];
  const seen = new Set<string>();
  for (const r of rows) {
    for (const k of Object.keys(r.bSimpleLayers ?? {})) {
      if (!seen.has(k)) {
        seen.add(k);
        layers.push(k);
      }
    }
  }
  return pl.DataFrame([
    ...RUN_LOG_FIELDS.map((f) =>
      pl.Series(
        RUN_LOG_COLUMNS[f],
        rows.map((r) => r[f]),
        RUN_LOG_DTYPES[f],
      ),
    ),
    ...layers.map((k) =>
      pl.Series(
        `${BSIMPLE_LAYER_PREFIX}${k}`,
        rows.map((r) => r.bSimpleLayers?.[k] ?? null),
        pl.Float64,
      ),
    ),
  ]);
}

/**
 * Checks that `df` has every run-log column, and returns just those columns in order (extra
 * columns are dropped; Utf8 columns, as read from CSV, are parsed strictly to their types).
 */
/** Columns a run log may lack (added after the first format): read back as null. */
const OPTIONAL_COLUMNS: ReadonlyMap<string, DataType> = new Map<string, DataType>([
  [RUN_LOG_COLUMNS.bSimple, pl.Float64],
  [RUN_LOG_COLUMNS.replicas, pl.Int64],
  [RUN_LOG_COLUMNS.adaScaleGain, pl.Float64],
  [RUN_LOG_COLUMNS.scaleInvariantSteps, pl.Float64],
  [RUN_LOG_COLUMNS.weightDecay, pl.Float64],
]);
/** Fields absent (rather than null) from a row when their column holds null. */
const ABSENT_WHEN_NULL: ReadonlySet<RunLogField> = new Set([
  "bSimple",
  "replicas",
  "adaScaleGain",
  "scaleInvariantSteps",
  "weightDecay",
]);

function selectRunLogColumns(df: pl.DataFrame, source: string): pl.DataFrame {
  const present = new Set(df.columns);
  for (const [c, dtype] of OPTIONAL_COLUMNS) {
    if (!present.has(c)) {
      df = df.withColumn(pl.lit(null).cast(dtype).alias(c));
      present.add(c);
    }
  }
  const missing = RUN_LOG_FIELDS.map((f) => RUN_LOG_COLUMNS[f]).filter((c) => !present.has(c));
  if (missing.length > 0) {
    throw new ConfigError(
      `${source}: missing run-log column${missing.length > 1 ? "s" : ""} ` +
        `${missing.map((c) => `"${c}"`).join(", ")} (has: ${df.columns.join(", ") || "none"})`,
    );
  }
  const layerColumns = df.columns.filter((c) => c.startsWith(BSIMPLE_LAYER_PREFIX));
  return df.select(
    ...RUN_LOG_FIELDS.map((f) => {
      const name = RUN_LOG_COLUMNS[f];
      const col = pl.col(name);
      // Only strings are cast: a Float64 -> Int64 cast would silently truncate 1.5 to 1, so
      // numeric columns keep their values and the row check rejects non-integers instead.
      return df.getColumn(name).dtype.equals(pl.String) ? col.cast(RUN_LOG_DTYPES[f], true) : col;
    }),
    ...layerColumns.map((c) => pl.col(c).cast(pl.Float64, true)),
  );
}

/**
 * Converts a run-log DataFrame back into rows. Columns are looked up by the names in
 * {@link RUN_LOG_COLUMNS}; extra columns are ignored; nulls in the test metrics become `null`.
 *
 * @param df a DataFrame with at least the run-log columns (e.g. from {@link runLogToDataFrame}).
 * @param source how errors name the frame (default `"df"`; {@link readRunLog} passes the path).
 * @returns one {@link RunLogRow} per DataFrame row, in order.
 * @throws TypeError if `df` is not a DataFrame; RangeError naming the missing column(s) and the
 *   source, or the first row/field whose value is invalid (see {@link validateRunLogRows}).
 * @example
 * const rows2 = dataFrameToRunLog(runLogToDataFrame(rows)); // deep-equals rows
 */
export function dataFrameToRunLog(df: pl.DataFrame, source = "df"): RunLogRow[] {
  if (df === null || typeof df !== "object" || !Array.isArray(df.columns)) {
    throw new ConfigError(`${source}: must be a nodejs-polars DataFrame, got ${show(df)}`);
  }
  let frame: pl.DataFrame;
  try {
    frame = selectRunLogColumns(df, source);
  } catch (e) {
    if (e instanceof RangeError) throw e;
    throw new ConfigError(`${source}: cannot parse run-log columns: ${(e as Error).message}`);
  }
  const columns = RUN_LOG_FIELDS.map((f) =>
    frame
      .getColumn(RUN_LOG_COLUMNS[f])
      .toArray()
      .map((v: unknown) =>
        // Int64 may come back as bigint from some sources; counts fit in a double.
        typeof v === "bigint" ? Number(v) : v,
      ),
  );
  const layerNames = frame.columns.filter((c) => c.startsWith(BSIMPLE_LAYER_PREFIX));
  const layerValues = layerNames.map((c) => frame.getColumn(c).toArray() as (number | null)[]);
  const rows = Array.from({ length: frame.height }, (_, i) => {
    const row: Record<string, unknown> = {};
    RUN_LOG_FIELDS.forEach((f, j) => {
      const v = columns[j][i] ?? null;
      // The optional fields (ABSENT_WHEN_NULL) are absent rather than null.
      if (!ABSENT_WHEN_NULL.has(f) || v !== null) row[f] = v;
    });
    const layers: Record<string, number> = {};
    layerNames.forEach((c, j) => {
      const v = layerValues[j][i];
      if (v != null) layers[c.slice(BSIMPLE_LAYER_PREFIX.length)] = v;
    });
    if (Object.keys(layers).length > 0) row.bSimpleLayers = layers;
    return row as unknown as RunLogRow;
  });
  validateRunLogRows(rows, `${source} rows`);
  return rows;
}

function checkName(value: unknown, param: string): string {
  if (typeof value !== "string" || value.length === 0) {
    throw new ConfigError(`${param}: must be a non-empty string, got ${show(value)}`);
  }
  return value;
}

/**
 * Writes a run log as `<dir>/<basename>.csv` and `<dir>/<basename>.parquet` (zstd-compressed,
 * as Python polars writes by default). Creates `dir`.
 * Each file is written to a temporary name in `dir` and renamed into place, so a crash never
 * leaves a half-written file under the real name (the pair as a whole is not atomic: the CSV
 * is renamed first).
 *
 * @param rows run-log rows (validated; may be empty).
 * @param dir output folder, created if missing.
 * @param basename file name without extension; no path separators.
 * @returns the absolute paths written.
 * @throws TypeError if `dir` or `basename` is not a non-empty string, or `basename` holds a path
 *   separator or is `.`/`..`; the errors of {@link runLogToDataFrame}; file-system errors.
 * @example
 * const { csv, parquet } = writeRunLog(rows, "runs/fashion", "geodamp");
 */
export function writeRunLog(
  rows: readonly RunLogRow[],
  dir: string,
  basename: string,
): RunLogFiles {
  checkName(dir, "dir");
  checkName(basename, "basename");
  if (/[\\/]/.test(basename) || basename === "." || basename === "..") {
    throw new ConfigError(`basename: must be a plain file name, got ${JSON.stringify(basename)}`);
  }
  const df = runLogToDataFrame(rows);
  const csv = atomicWrite(path.join(dir, `${basename}.csv`), (tmp) => df.writeCSV(tmp));
  const parquet = atomicWrite(path.join(dir, `${basename}.parquet`), (tmp) =>
    df.writeParquet(tmp, { compression: "zstd" }),
  );
  return { csv, parquet };
}

/**
 * Reads a run log written by {@link writeRunLog} (or any CSV / Parquet file with the run-log
 * columns; extra columns are ignored). The format is chosen by the extension, `.csv` or
 * `.parquet`. CSV cells are parsed strictly: an empty test-metric cell is null, and `NaN` / `inf`
 * are read back as numbers.
 *
 * @param file path ending in `.csv` or `.parquet` (case-insensitive).
 * @returns the rows, in file order.
 * @throws TypeError if `file` is not a non-empty string or has another extension; Error if the
 *   file does not exist or cannot be parsed (naming the file); RangeError naming a missing
 *   column and the file, or an invalid value.
 * @example
 * const rows = readRunLog("runs/fashion/geodamp.parquet");
 */
export function readRunLog(file: string): RunLogRow[] {
  checkName(file, "file");
  const ext = path.extname(file).toLowerCase();
  if (ext !== ".csv" && ext !== ".parquet") {
    throw new ConfigError(`file: must end in .csv or .parquet, got ${JSON.stringify(file)}`);
  }
  if (!fs.existsSync(file)) throw new ConfigError(`file: ${JSON.stringify(file)} does not exist`);
  let df: pl.DataFrame;
  try {
    // inferSchemaLength 0 reads every CSV column as Utf8; selectRunLogColumns then parses the
    // known columns strictly, so a run named "64" stays a string and an all-null metric column
    // still becomes Float64.
    df = ext === ".csv" ? pl.readCSV(file, { inferSchemaLength: 0 }) : pl.readParquet(file);
  } catch (e) {
    throw new ConfigError(`file: cannot read ${JSON.stringify(file)}: ${(e as Error).message}`);
  }
  return dataFrameToRunLog(df, JSON.stringify(file));
}

/**
 * Groups run-log rows by run, in order of each run's first row; each group is sorted by step.
 *
 * @param rows run-log rows of one or more runs, in any order (validated by
 *   {@link validateRunLogRows}).
 * @returns a Map from run name to that run's rows (new arrays; the rows are not copied).
 * @throws RangeError if a run logs the same step twice (naming the run and step); the errors of
 *   {@link validateRunLogRows}.
 * @example
 * for (const [run, list] of groupRuns(rows)) console.log(run, list.length);
 */
export function groupRuns(rows: readonly RunLogRow[]): Map<string, RunLogRow[]> {
  validateRunLogRows(rows);
  const runs = new Map<string, RunLogRow[]>();
  for (const r of rows) {
    const list = runs.get(r.run);
    if (list) list.push(r);
    else runs.set(r.run, [r]);
  }
  for (const [run, list] of runs) {
    list.sort((a, b) => a.step - b.step);
    for (let i = 1; i < list.length; i++) {
      if (list[i].step === list[i - 1].step) {
        throw new ConfigError(`rows: run ${JSON.stringify(run)} logs step ${list[i].step} twice`);
      }
    }
  }
  return runs;
}
