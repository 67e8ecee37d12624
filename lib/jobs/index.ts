/** The jobs: the main comparison, the critical-batch sweep, and the helpers they share. */
export {
  QUICK_OVERRIDES,
  RESUMABLE_KEYS,
  buildSecondSchedule,
  comparisonRuns,
  compareConfigSchema,
  parseCompareConfig,
  resumeConfig,
  runComparison,
  type CompareConfig,
  type CompareResult,
  type ComparisonRun,
} from "./compare";
export {
  formatSweep,
  parseSweepConfig,
  runSweep,
  sweepConfigSchema,
  type SweepConfig,
  type SweepResult,
  type SweepRun,
} from "./sweep";
export {
  cnnThroughputCurve,
  measureMachine,
  fashionMnistSplits,
  runCnn,
  type CnnRunOptions,
  type FashionMnistSplits,
} from "./common";
export {
  criticalBatchAlongRun,
  type CriticalBatchPoint,
  type CriticalBatchRunOptions,
} from "./critical-batch-run";
