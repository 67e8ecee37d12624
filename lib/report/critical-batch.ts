/**
 * The gradient noise scale against the critical batch size measured by branched training, on
 * one chart over a run: B_simple (McCandlish et al. 2018, App. A.1; the proxy for B_noise), the
 * critical batch size each branched measurement found (Merrill et al. 2025, "Critical Batch
 * Size Revisited", arXiv:2505.23971; lib/train/critical-batch.ts) and the batch the schedule chose, with the ratio
 * B_simple / CBS at each measurement — how far the proxy was from the measured quantity.
 */
import { ConfigError } from "../core/errors";
import type { RunLogRow } from "../train/types";
import { lineFigure, type LineFigure } from "./figures";

/** One branched measurement: the critical batch size after `examples` examples. */
export interface CriticalBatchReading {
  /** Examples processed when it was measured, ≥ 0. */
  examples: number;
  /** The measured critical batch size, ≥ 1. */
  criticalBatchSize: number;
}

/** A measurement beside the run's state when it was taken. */
export interface CriticalBatchComparison extends CriticalBatchReading {
  /** B_simple logged by the last update at or before the measurement (null: none yet). */
  bSimple: number | null;
  /** The batch size of that update. */
  batchSize: number;
  /** B_simple / critical batch size (null without a B_simple). */
  ratio: number | null;
}

/**
 * Each reading beside the last run-log row at or before it (the first row for a reading before
 * any update): B_simple, the batch in force and B_simple / CBS.
 * @param rows - The rows of one run (any order).
 * @param readings - The run's measurements.
 * @throws ConfigError when rows are empty or hold several runs, or a reading's critical batch
 *   size is not ≥ 1 or its examples not ≥ 0 (the message names the reading and value).
 * @example compareNoiseToCriticalBatch(rows, [{ examples: 4096, criticalBatchSize: 256 }])
 */
export function compareNoiseToCriticalBatch(
  rows: readonly RunLogRow[],
  readings: readonly CriticalBatchReading[],
): CriticalBatchComparison[] {
  if (rows.length === 0) throw new ConfigError("rows: no run-log rows");
  const runs = new Set(rows.map((r) => r.run));
  if (runs.size > 1) {
    throw new ConfigError(`rows: one run expected, got ${[...runs].join(", ")}`);
  }
  const sorted = [...rows].sort((a, b) => a.examples - b.examples);
  return readings.map((m, i) => {
    if (!(m.criticalBatchSize >= 1)) {
      throw new ConfigError(
        `readings[${i}].criticalBatchSize must be >= 1, got ${m.criticalBatchSize}`,
      );
    }
    if (!(m.examples >= 0)) {
      throw new ConfigError(`readings[${i}].examples must be >= 0, got ${m.examples}`);
    }
    const at = sorted.filter((r) => r.examples <= m.examples).pop() ?? sorted[0];
    const bSimple = at.bSimple ?? null;
    return {
      ...m,
      bSimple,
      batchSize: at.batchSize,
      ratio: bSimple != null ? bSimple / m.criticalBatchSize : null,
    };
  });
}

/**
 * B_simple, the batch chosen (step-shaped) and the measured critical batch sizes (markers)
 * against examples processed, log y; the title gives the median B_simple / CBS ratio.
 * @param rows - The rows of one run. @param readings - Its branched measurements.
 * @throws ConfigError as {@link compareNoiseToCriticalBatch}.
 */
export function noiseAgainstCriticalBatchFigure(
  rows: readonly RunLogRow[],
  readings: readonly CriticalBatchReading[],
): LineFigure {
  const cmp = compareNoiseToCriticalBatch(rows, readings);
  const sorted = [...rows].sort((a, b) => a.examples - b.examples);
  const ratios = cmp.flatMap((c) => (c.ratio != null ? [c.ratio] : [])).sort((a, b) => a - b);
  const median = ratios.length > 0 ? ratios[Math.floor((ratios.length - 1) / 2)] : null;
  return lineFigure({
    title: `${sorted[0].run}: noise scale against the measured critical batch size${median != null ? ` (B_simple / CBS, median ${median.toFixed(2)})` : ""}`,
    xTitle: "examples processed",
    yTitle: "batch size",
    logY: true,
    series: [
      {
        name: "noise scale B_simple",
        x: sorted.map((r) => r.examples),
        y: sorted.map((r) => r.bSimple ?? null),
      },
      {
        name: "batch size B chosen",
        x: sorted.map((r) => r.examples),
        y: sorted.map((r) => r.batchSize),
        shape: "hv",
        dash: "dot",
      },
      {
        name: "critical batch size (branched)",
        x: cmp.map((c) => c.examples),
        y: cmp.map((c) => c.criticalBatchSize),
        mode: "markers",
      },
    ],
  });
}
