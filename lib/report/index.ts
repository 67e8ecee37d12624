/**
 * The reporting layer: run logs as nodejs-polars DataFrames and CSV / Parquet files, per-run
 * summaries, plotly figure builders and a self-contained offline HTML report.
 */

// Run-log rows and their columns
export { RUN_LOG_COLUMNS, type RunLogRow } from "../train/types";

// Run logs as DataFrames and files
export {
  RUN_LOG_DTYPES,
  RUN_LOG_FIELDS,
  dataFrameToRunLog,
  groupRuns,
  readRunLog,
  runLogToDataFrame,
  validateRunLogRows,
  writeRunLog,
  type RunLogFiles,
} from "./runlog";

// Per-run summaries
export {
  SUMMARY_COLUMNS,
  formatSummaryTable,
  summariseRuns,
  summaryDisplayColumns,
  summaryToDataFrame,
  type RunSummary,
  type SummariseOptions,
  type SummaryDisplayColumn,
} from "./summary";

// Plotly figures
export {
  AXIS_TITLES,
  RUN_COLORS,
  accuracyVsFigure,
  batchSizeFigure,
  replicasFigure,
  lineFigure,
  lossFigure,
  noiseScaleFigure,
  type Figure,
  type LineAxis,
  type LineFigure,
  type LineFigureSpec,
  type LineLayout,
  type LineSeries,
  type LineTrace,
  type RunLogFigureOptions,
  type RunLogX,
} from "./figures";

// HTML report
export {
  escapeHtml,
  plotlyBundlePath,
  renderHtmlReport,
  writeHtmlReport,
  type HtmlReportOptions,
} from "./html";

// Notebook display (tslab): plotly charts (plotly's MIME type + offline HTML), HTML tables,
// Markdown, claim checks
export {
  CHART_MARKER_ATTR,
  CHART_MARKER_CLASS,
  CLAIM_CHECK_PREFIX,
  ClaimError,
  PLOTLY_MIME_TYPE,
  chartHtml,
  chartMimeBundle,
  checkClaim,
  loadPlotly,
  plotlyBundleScript,
  resetNotebookSession,
  showMarkdown,
  showPlot,
  showTable,
  tableHtml,
  tslabDisplay,
  type ChartHtmlOptions,
  type ClaimOptions,
  type DataFrameLike,
  type MimeBundle,
  type NotebookDisplay,
  type ShowPlotOptions,
  type TableOptions,
} from "./notebook";

// Atomic file writes
export { atomicWrite } from "./atomic";

// Committed GPU runs of the run kit (docs/gpu-runs/)
export {
  DEFAULT_GPU_RUNS_DIR,
  gpuThroughput,
  loadGpuRuns,
  throughputRatio,
  type GpuRun,
  type GpuThroughputPoint,
} from "./gpu-runs";

// The noise scale against the measured critical batch size
export {
  compareNoiseToCriticalBatch,
  noiseAgainstCriticalBatchFigure,
  type CriticalBatchComparison,
  type CriticalBatchReading,
} from "./critical-batch";
