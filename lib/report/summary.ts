/**
 * Per-run summaries of run logs: final test metrics, cost (wall-clock, model updates, examples
 * processed, epochs) and the cost to first reach a target test accuracy — the quantities the
 * papers compare (e.g. Smith et al. 2017, arXiv:1711.00489, Table 1: updates to equal accuracy;
 * Sievert & Charles 2019, arXiv:1910.08222: updates and examples to a target).
 */
import pl from "nodejs-polars";
import { groupRuns } from "./runlog";
import type { RunLogRow } from "../train/types";
import { ConfigError } from "../core/errors";

/** One run's summary, from {@link summariseRuns}. */
export interface RunSummary {
  /** Run name. */
  run: string;
  /** Test accuracy of the last row with one, in [0, 1]; null if the run was never evaluated. */
  finalTestAccuracy: number | null;
  /** Test loss of the last row with one; null if the run was never evaluated. */
  finalTestLoss: number | null;
  /** Wall-clock seconds at the last logged update. */
  wallClock: number;
  /** Model updates at the last logged update (its `step`). */
  updates: number;
  /** Training examples processed at the last logged update. */
  examples: number;
  /** Fractional epochs at the last logged update. */
  epochs: number;
  /** The target test accuracy the `…ToTarget` fields refer to. */
  targetAccuracy: number;
  /** Wall-clock seconds at the first evaluation with accuracy >= target; null if never reached. */
  wallClockToTarget: number | null;
  /** Model updates at the first evaluation with accuracy >= target; null if never reached. */
  updatesToTarget: number | null;
  /** Examples processed at the first evaluation with accuracy >= target; null if never reached. */
  examplesToTarget: number | null;
  /**
   * Data-parallel replicas K the run's updates used: "2", or the range "1–2" when K changed;
   * null when the log has no replicas column.
   */
  replicas: string | null;
}

/** Options for {@link summariseRuns}. */
export interface SummariseOptions {
  /** Target test accuracy in [0, 1]; a run reaches it at the first evaluation with accuracy >= it. */
  targetAccuracy: number;
}

/** Column names of a summary DataFrame, in order, mapped from {@link RunSummary}. */
export const SUMMARY_COLUMNS = {
  run: "run",
  finalTestAccuracy: "final_test_accuracy",
  finalTestLoss: "final_test_loss",
  wallClock: "wall_clock_s",
  updates: "model_updates",
  examples: "examples_processed",
  epochs: "epochs",
  targetAccuracy: "target_accuracy",
  wallClockToTarget: "wall_clock_to_target_s",
  updatesToTarget: "model_updates_to_target",
  examplesToTarget: "examples_processed_to_target",
  replicas: "replicas",
} as const satisfies Record<keyof RunSummary, string>;

const SUMMARY_FIELDS = Object.keys(SUMMARY_COLUMNS) as (keyof RunSummary)[];
const INT_FIELDS = new Set<keyof RunSummary>([
  "updates",
  "examples",
  "updatesToTarget",
  "examplesToTarget",
]);
const STRING_FIELDS = new Set<keyof RunSummary>(["run", "replicas"]);
const NULLABLE_FIELDS = new Set<keyof RunSummary>([
  "replicas",
  "finalTestAccuracy",
  "finalTestLoss",
  "wallClockToTarget",
  "updatesToTarget",
  "examplesToTarget",
]);

function lastWhere<T>(list: readonly T[], pred: (x: T) => boolean): T | undefined {
  for (let i = list.length - 1; i >= 0; i--) if (pred(list[i])) return list[i];
  return undefined;
}

/**
 * Summarises each run of a run log. Per run (rows sorted by step): the final test accuracy and
 * loss are those of the last row where each is non-null; wall-clock, updates (`step`), examples
 * and epochs are those of the last row; the `…ToTarget` fields come from the first row whose
 * test accuracy is >= `targetAccuracy` (null if none is).
 *
 * @param rows run-log rows of one or more runs (validated; rows may be in any order).
 * @param options.targetAccuracy target test accuracy, a number in [0, 1].
 * @returns one summary per run, in order of each run's first row.
 * @throws RangeError if `targetAccuracy` is not in [0, 1], a run logs a step twice, or a row is
 *   invalid (see `validateRunLogRows`).
 * @example
 * const [s] = summariseRuns(rows, { targetAccuracy: 0.9 });
 * s.updatesToTarget; // model updates to the first evaluation with accuracy >= 0.9, or null
 */
export function summariseRuns(rows: readonly RunLogRow[], options: SummariseOptions): RunSummary[] {
  const target = options?.targetAccuracy;
  if (typeof target !== "number" || !(target >= 0 && target <= 1)) {
    throw new ConfigError(`targetAccuracy: must be a number in [0, 1], got ${String(target)}`);
  }
  return [...groupRuns(rows)].map(([run, list]) => {
    const last = list[list.length - 1];
    const lastAcc = lastWhere(list, (r) => r.testAccuracy !== null);
    const lastLoss = lastWhere(list, (r) => r.testLoss !== null);
    const hit = list.find((r) => r.testAccuracy !== null && r.testAccuracy >= target);
    const ks = list.map((r) => r.replicas).filter((k): k is number => k != null);
    const lo = Math.min(...ks);
    const hi = Math.max(...ks);
    return {
      run,
      finalTestAccuracy: lastAcc?.testAccuracy ?? null,
      finalTestLoss: lastLoss?.testLoss ?? null,
      wallClock: last.wallClock,
      updates: last.step,
      examples: last.examples,
      epochs: last.epoch,
      targetAccuracy: target,
      wallClockToTarget: hit?.wallClock ?? null,
      updatesToTarget: hit?.step ?? null,
      examplesToTarget: hit?.examples ?? null,
      replicas: ks.length === 0 ? null : lo === hi ? String(lo) : `${lo}–${hi}`,
    };
  });
}

function checkSummaries(summaries: readonly RunSummary[]): void {
  if (!Array.isArray(summaries)) {
    throw new ConfigError(`summaries: must be an array, got ${String(summaries)}`);
  }
  summaries.forEach((s, i) => {
    if (s === null || typeof s !== "object" || typeof s.run !== "string") {
      throw new ConfigError(`summaries[${i}]: must be a RunSummary with a string run`);
    }
    for (const f of SUMMARY_FIELDS.slice(1)) {
      const v = s[f];
      const nullable = NULLABLE_FIELDS.has(f);
      const kind = STRING_FIELDS.has(f) ? "string" : "number";
      if (typeof v !== kind && !(nullable && v === null)) {
        throw new ConfigError(
          `summaries[${i}].${f}: must be a ${kind}${nullable ? " or null" : ""}, got ${String(v)}`,
        );
      }
    }
  });
}

/**
 * Builds a DataFrame of run summaries: columns {@link SUMMARY_COLUMNS} in order; `run` String,
 * the update and example counts Int64, the rest Float64; nulls where a run was never evaluated
 * or never reached the target.
 *
 * @param summaries from {@link summariseRuns}.
 * @returns a DataFrame of shape `(summaries.length, 12)`.
 * @throws TypeError if `summaries` is not an array of summaries (naming the index and field).
 * @example
 * summaryToDataFrame(summariseRuns(rows, { targetAccuracy: 0.9 })).writeCSV("summary.csv");
 */
export function summaryToDataFrame(summaries: readonly RunSummary[]): pl.DataFrame {
  checkSummaries(summaries);
  return pl.DataFrame(
    SUMMARY_FIELDS.map((f) =>
      pl.Series(
        SUMMARY_COLUMNS[f],
        summaries.map((s) => s[f]),
        STRING_FIELDS.has(f) ? pl.String : INT_FIELDS.has(f) ? pl.Int64 : pl.Float64,
      ),
    ),
  );
}

/** A column of the human-readable summary table (terminal and HTML). */
export interface SummaryDisplayColumn {
  /** Column header in the field's terms; "\n" separates its two lines. */
  header: string;
  /** The summary field shown. */
  field: keyof RunSummary;
  /** Decimal places floats are rounded to; undefined for strings and integers. */
  digits?: number;
}

/**
 * The columns of the human-readable summary table, shared by {@link formatSummaryTable} and the
 * HTML report. Headers have two lines (split by "\n") to keep the table narrow; they name the
 * target when all summaries share it, otherwise a "target accuracy" column is added.
 *
 * @param summaries from {@link summariseRuns}.
 * @returns the columns, in display order.
 * @throws TypeError if `summaries` is not an array of summaries.
 * @example
 * summaryDisplayColumns(summaries).map((c) => c.header); // ["run", "test\naccuracy", ...]
 */
export function summaryDisplayColumns(summaries: readonly RunSummary[]): SummaryDisplayColumn[] {
  checkSummaries(summaries);
  const targets = new Set(summaries.map((s) => s.targetAccuracy));
  const to = targets.size === 1 ? `to acc ${[...targets][0]}` : "to target";
  return [
    { header: "run", field: "run" },
    { header: "test\naccuracy", field: "finalTestAccuracy", digits: 4 },
    { header: "test\nloss", field: "finalTestLoss", digits: 4 },
    { header: "wall-clock\n(s)", field: "wallClock", digits: 2 },
    { header: "model\nupdates", field: "updates" },
    { header: "examples\nprocessed", field: "examples" },
    { header: "epochs", field: "epochs", digits: 2 },
    ...(targets.size > 1
      ? [{ header: "target\naccuracy", field: "targetAccuracy" as const, digits: 4 }]
      : []),
    { header: `wall-clock (s)\n${to}`, field: "wallClockToTarget", digits: 2 },
    { header: `updates\n${to}`, field: "updatesToTarget" },
    { header: `examples\n${to}`, field: "examplesToTarget" },
    ...(summaries.some((s) => s.replicas != null)
      ? [{ header: "replicas\nK", field: "replicas" as const }]
      : []),
  ];
}

/** Rounds to `digits` decimals, leaving null, NaN and ±Infinity as they are. */
function roundTo(v: number | null, digits: number): number | null {
  if (v === null || !Number.isFinite(v)) return v;
  const k = 10 ** digits;
  return Math.round(v * k) / k;
}

// polars reads its table format from these environment variables at each print.
const TABLE_ENV: Record<string, string> = {
  POLARS_FMT_MAX_COLS: "-1",
  POLARS_FMT_MAX_ROWS: "-1",
  POLARS_FMT_STR_LEN: "1000",
  POLARS_TABLE_WIDTH: "10000",
  POLARS_FMT_TABLE_HIDE_COLUMN_DATA_TYPES: "1",
  POLARS_FMT_TABLE_HIDE_DATAFRAME_SHAPE_INFORMATION: "1",
  POLARS_FMT_TABLE_HIDE_COLUMN_SEPARATOR: "1",
  POLARS_FMT_TABLE_CELL_NUMERIC_ALIGNMENT: "RIGHT",
};

/**
 * Formats run summaries as a fixed-width text table for the terminal, drawn by polars' own
 * DataFrame printing. Floats are rounded (accuracy and loss to 4 decimals, seconds and epochs
 * to 2); `null` means never evaluated / never reached the target.
 *
 * Side effect: polars reads its print settings from `POLARS_FMT_*` environment variables, so
 * they are set for the duration of the call and then restored.
 *
 * @param summaries from {@link summariseRuns}; may be empty (header only).
 * @param options.ascii draw with ASCII characters instead of box-drawing ones (default false).
 * @returns the table, one line per run plus borders and header, without a trailing newline.
 * @throws TypeError if `summaries` is not an array of summaries.
 * @example
 * console.log(formatSummaryTable(summariseRuns(rows, { targetAccuracy: 0.9 })));
 */
export function formatSummaryTable(
  summaries: readonly RunSummary[],
  options: { ascii?: boolean } = {},
): string {
  const cols = summaryDisplayColumns(summaries);
  const df = pl.DataFrame(
    cols.map((c) =>
      pl.Series(
        c.header,
        summaries.map((s) =>
          c.digits === undefined ? s[c.field] : roundTo(s[c.field] as number | null, c.digits),
        ),
        STRING_FIELDS.has(c.field) ? pl.String : c.digits === undefined ? pl.Int64 : pl.Float64,
      ),
    ),
  );
  const env = {
    ...TABLE_ENV,
    POLARS_FMT_TABLE_FORMATTING: options.ascii ? "ASCII_FULL_CONDENSED" : "UTF8_FULL_CONDENSED",
  };
  const saved = Object.keys(env).map((k) => [k, process.env[k]] as const);
  Object.assign(process.env, env);
  try {
    return df.toString();
  } finally {
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}
