/**
 * Hand-built run logs shared by the report tests. A training set of 8 examples, so
 * epoch = examples / 8.
 */
import type { RunLogRow } from "../../lib/train/types";

type RowInput = Omit<RunLogRow, "run" | "testLoss" | "testAccuracy"> &
  Partial<Pick<RunLogRow, "testLoss" | "testAccuracy">>;

function rowsOf(run: string, rows: RowInput[]): RunLogRow[] {
  return rows.map((r) => ({ run, testLoss: null, testAccuracy: null, ...r }));
}

/**
 * "constant": B = 2 for 4 updates; evaluated after updates 2 (acc 0.5) and 4 (acc 0.75).
 */
export const CONSTANT = rowsOf("constant", [
  {
    step: 1,
    epoch: 0.25,
    examples: 2,
    batchSize: 2,
    learningRate: 0.1,
    trainLoss: 2.0,
    wallClock: 0.5,
  },
  {
    step: 2,
    epoch: 0.5,
    examples: 4,
    batchSize: 2,
    learningRate: 0.1,
    trainLoss: 1.5,
    testLoss: 1.6,
    testAccuracy: 0.5,
    wallClock: 1.0,
  },
  {
    step: 3,
    epoch: 0.75,
    examples: 6,
    batchSize: 2,
    learningRate: 0.1,
    trainLoss: 1.2,
    wallClock: 1.5,
  },
  {
    step: 4,
    epoch: 1,
    examples: 8,
    batchSize: 2,
    learningRate: 0.1,
    trainLoss: 1.0,
    testLoss: 1.1,
    testAccuracy: 0.75,
    wallClock: 2.0,
  },
]);

/**
 * A growing-batch run with an awkward name (comma, quotes, non-ASCII): B = 2, 4, 4; evaluated
 * after updates 1 (acc 0.625) and 3 (acc 0.875); update 2's training loss is NaN.
 */
export const GROWING_NAME = 'geodamp, "B×2" café';
export const GROWING = rowsOf(GROWING_NAME, [
  {
    step: 1,
    epoch: 0.25,
    examples: 2,
    batchSize: 2,
    learningRate: 0.1,
    trainLoss: 2.1,
    testLoss: 1.9,
    testAccuracy: 0.625,
    wallClock: 0.4,
  },
  {
    step: 2,
    epoch: 0.75,
    examples: 6,
    batchSize: 4,
    learningRate: 0.1,
    trainLoss: NaN,
    wallClock: 1.2,
  },
  {
    step: 3,
    epoch: 1.25,
    examples: 10,
    batchSize: 4,
    learningRate: 0.05,
    trainLoss: 0.8,
    testLoss: 0.9,
    testAccuracy: 0.875,
    wallClock: 2.6,
  },
]);

/** A run named "64" (numeric-looking) that was never evaluated; one update has loss Infinity. */
export const NEVER = rowsOf("64", [
  {
    step: 1,
    epoch: 0.125,
    examples: 1,
    batchSize: 1,
    learningRate: 1e-3,
    trainLoss: 3.25,
    wallClock: 0.1,
  },
  {
    step: 2,
    epoch: 0.25,
    examples: 2,
    batchSize: 1,
    learningRate: 1e-3,
    trainLoss: Infinity,
    wallClock: 0.2,
  },
]);

/** All three runs, in order constant, growing, never. */
export const ALL_ROWS: readonly RunLogRow[] = [...CONSTANT, ...GROWING, ...NEVER];
