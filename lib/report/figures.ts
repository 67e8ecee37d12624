/**
 * Plotly figure builders. Each returns a plain JSON `{ data, layout }` object — no functions, no
 * class instances — that `Plotly.newPlot(div, fig.data, fig.layout)` draws, that
 * `JSON.stringify` round-trips, and that {@link renderHtmlReport} embeds. Axis titles use the
 * field's terms ({@link AXIS_TITLES}). Runs keep one colour across figures built from the same
 * rows (colour by order of each run's first row).
 */
import type { Data, Layout } from "plotly.js-dist-min";
import { groupRuns } from "./runlog";
import type { RunLogField, RunLogRow } from "../train/types";
import { ConfigError } from "../core/errors";

/** Any plotly figure as plain JSON: what {@link renderHtmlReport} accepts. */
export interface Figure {
  /** Plotly traces. */
  data: Data[];
  /** Plotly layout. */
  layout: Partial<Layout>;
}

/** A line/marker (scatter) trace as built by {@link lineFigure}. */
export type LineTrace = {
  type: "scatter";
  mode: "lines" | "markers" | "lines+markers";
  name: string;
  /** x values; null marks a gap. */
  x: (number | null)[];
  /** y values; null marks a gap. */
  y: (number | null)[];
  line: { shape: "linear" | "hv" | "vh"; dash: "solid" | "dash" | "dot"; color?: string };
  marker: { color?: string };
  legendgroup?: string;
  showlegend: boolean;
};

/** One axis of a {@link LineLayout}. */
export type LineAxis = {
  title: { text: string };
  type: "linear" | "log";
};

/** The layout {@link lineFigure} builds. */
export type LineLayout = {
  title: { text: string };
  xaxis: LineAxis;
  yaxis: LineAxis;
  hovermode: "closest";
  legend: { orientation: "v" };
};

/**
 * A figure of {@link LineTrace}s; assignable to {@link Figure}. (The line types are type
 * aliases, not interfaces, so that they are assignable to plotly's index-signature types.)
 */
export type LineFigure = {
  data: LineTrace[];
  layout: LineLayout;
};

/** One series of a {@link lineFigure}. */
export interface LineSeries {
  /** Legend name. */
  name: string;
  /** x values; null, NaN and ±Infinity become gaps (null). */
  x: readonly (number | null)[];
  /** y values, same length as `x`; null, NaN and ±Infinity become gaps (null). */
  y: readonly (number | null)[];
  /** Plotly mode (default `"lines"`). */
  mode?: LineTrace["mode"];
  /** Line shape: `"linear"` (default), `"hv"` (step: horizontal, then vertical) or `"vh"` (vertical, then horizontal). */
  shape?: LineTrace["line"]["shape"];
  /** Dash style (default `"solid"`). */
  dash?: LineTrace["line"]["dash"];
  /** CSS colour; default plotly's colour cycle. */
  color?: string;
  /** Legend group: series sharing it toggle together. */
  group?: string;
  /** Show in the legend (default true). */
  showLegend?: boolean;
}

/** Arguments of {@link lineFigure}. */
export interface LineFigureSpec {
  title: string;
  xTitle: string;
  yTitle: string;
  series: readonly LineSeries[];
  /** Log-scale x axis (default false). */
  logX?: boolean;
  /** Log-scale y axis (default false). */
  logY?: boolean;
}

/** Axis titles, in the field's terms, keyed by {@link RunLogRow} field. */
export const AXIS_TITLES = Object.freeze({
  run: "run",
  step: "model updates",
  epoch: "epochs",
  examples: "examples processed",
  batchSize: "batch size B",
  learningRate: "learning rate",
  trainLoss: "training loss",
  testLoss: "test loss",
  testAccuracy: "test accuracy",
  wallClock: "wall-clock (s)",
  bSimple: "noise scale B_simple",
  replicas: "replicas K",
  adaScaleGain: "AdaScale gain r",
  scaleInvariantSteps: "scale-invariant steps τ",
  weightDecay: "weight decay λ",
} as const satisfies Record<RunLogField, string>);

/** The x axes run-log figures can use. */
export type RunLogX = "wallClock" | "step" | "examples";
const RUN_LOG_X: readonly RunLogX[] = ["wallClock", "step", "examples"];

/** Plotly's default colour cycle (D3 category10), used to colour runs consistently. */
export const RUN_COLORS = Object.freeze([
  "#1f77b4",
  "#ff7f0e",
  "#2ca02c",
  "#d62728",
  "#9467bd",
  "#8c564b",
  "#e377c2",
  "#7f7f7f",
  "#bcbd22",
  "#17becf",
]);

const MODES: readonly LineTrace["mode"][] = ["lines", "markers", "lines+markers"];
const SHAPES: readonly LineTrace["line"]["shape"][] = ["linear", "hv", "vh"];
const DASHES: readonly LineTrace["line"]["dash"][] = ["solid", "dash", "dot"];

function checkString(v: unknown, param: string): string {
  if (typeof v !== "string") throw new ConfigError(`${param}: must be a string, got ${String(v)}`);
  return v;
}

function checkOneOf<T>(v: unknown, allowed: readonly T[], param: string): T | undefined {
  if (v === undefined || allowed.includes(v as T)) return v as T | undefined;
  throw new ConfigError(`${param}: must be one of ${allowed.join(", ")}, got ${String(v)}`);
}

function toValues(v: unknown, param: string): (number | null)[] {
  if (!Array.isArray(v)) throw new ConfigError(`${param}: must be an array, got ${String(v)}`);
  return v.map((e, i) => {
    if (e === null) return null;
    if (typeof e !== "number") {
      throw new ConfigError(`${param}[${i}]: must be a number or null, got ${JSON.stringify(e)}`);
    }
    return Number.isFinite(e) ? e : null;
  });
}

/**
 * Builds a line figure from named series — the generic builder the run-log figures and the
 * notebooks use.
 *
 * @param spec.title figure title; `spec.xTitle`, `spec.yTitle` axis titles (plain text).
 * @param spec.series the series, one trace each, in legend order; `x` and `y` of equal length.
 * @param spec.logX log-scale x axis (default false); `spec.logY` likewise for y. Plotly drops
 *   points <= 0 on a log axis.
 * @returns a plain JSON figure with one trace per series.
 * @throws TypeError if a title or name is not a string, or `x`/`y` is not an array of numbers
 *   or nulls; RangeError if `x` and `y` differ in length or `mode`/`shape`/`dash` is unknown
 *   (each naming `series[i]` and the field).
 * @example
 * const fig = lineFigure({
 *   title: "E|G_B|² vs 1/B", xTitle: "1/B", yTitle: "E|G_B|²",
 *   series: [{ name: "measured", x: [1, 0.5, 0.25], y: [3, 2, 1.5], mode: "markers" }],
 * });
 */
export function lineFigure(spec: LineFigureSpec): LineFigure {
  if (spec === null || typeof spec !== "object") {
    throw new ConfigError(`spec: must be an object, got ${String(spec)}`);
  }
  const title = checkString(spec.title, "title");
  const xTitle = checkString(spec.xTitle, "xTitle");
  const yTitle = checkString(spec.yTitle, "yTitle");
  if (!Array.isArray(spec.series)) {
    throw new ConfigError(`series: must be an array, got ${String(spec.series)}`);
  }
  const data = spec.series.map((s: LineSeries, i): LineTrace => {
    const p = `series[${i}]`;
    const x = toValues(s?.x, `${p}.x`);
    const y = toValues(s?.y, `${p}.y`);
    if (x.length !== y.length) {
      throw new ConfigError(
        `${p}: x and y must have equal length, got ${x.length} and ${y.length}`,
      );
    }
    const trace: LineTrace = {
      type: "scatter",
      mode: checkOneOf(s.mode, MODES, `${p}.mode`) ?? "lines",
      name: checkString(s.name, `${p}.name`),
      x,
      y,
      line: {
        shape: checkOneOf(s.shape, SHAPES, `${p}.shape`) ?? "linear",
        dash: checkOneOf(s.dash, DASHES, `${p}.dash`) ?? "solid",
      },
      marker: {},
      showlegend: s.showLegend ?? true,
    };
    if (s.color !== undefined) {
      trace.line.color = checkString(s.color, `${p}.color`);
      trace.marker.color = s.color;
    }
    if (s.group !== undefined) trace.legendgroup = checkString(s.group, `${p}.group`);
    return trace;
  });
  const axis = (text: string, log: boolean | undefined): LineAxis => ({
    title: { text },
    type: log ? "log" : "linear",
  });
  return {
    data,
    layout: {
      title: { text: title },
      xaxis: axis(xTitle, spec.logX),
      yaxis: axis(yTitle, spec.logY),
      hovermode: "closest",
      legend: { orientation: "v" },
    },
  };
}

function checkX(x: unknown): RunLogX {
  const v = checkOneOf(x, RUN_LOG_X, "x");
  if (v === undefined)
    throw new ConfigError(`x: must be one of ${RUN_LOG_X.join(", ")}, got undefined`);
  return v;
}

/** Options shared by the run-log figures. */
export interface RunLogFigureOptions {
  /** Log-scale x axis (default false). */
  logX?: boolean;
  /** Log-scale y axis (default false). */
  logY?: boolean;
}

/**
 * Test accuracy against wall-clock, model updates or examples processed: one trace per run,
 * through that run's evaluated rows (non-null `testAccuracy`) in step order. Runs never
 * evaluated get no trace.
 *
 * @param rows run-log rows of one or more runs (validated).
 * @param x the x field: `"wallClock"` (s), `"step"` (model updates) or `"examples"`.
 * @param options log axes (default linear).
 * @returns a plain JSON figure; y title "test accuracy", x title from {@link AXIS_TITLES}.
 * @throws RangeError if `x` is not one of the three fields, a run logs a step twice, or a row
 *   is invalid (naming the row and field).
 * @example
 * const fig = accuracyVsFigure(rows, "examples", { logX: true });
 */
export function accuracyVsFigure(
  rows: readonly RunLogRow[],
  x: RunLogX,
  options: RunLogFigureOptions = {},
): LineFigure {
  const xf = checkX(x);
  const series: LineSeries[] = [];
  [...groupRuns(rows)].forEach(([run, list], i) => {
    const evaluated = list.filter((r) => r.testAccuracy !== null);
    if (evaluated.length === 0) return;
    series.push({
      name: run,
      x: evaluated.map((r) => r[xf]),
      y: evaluated.map((r) => r.testAccuracy),
      mode: "lines+markers",
      color: RUN_COLORS[i % RUN_COLORS.length],
    });
  });
  return lineFigure({
    title: `test accuracy vs ${AXIS_TITLES[xf]}`,
    xTitle: AXIS_TITLES[xf],
    yTitle: AXIS_TITLES.testAccuracy,
    series,
    logX: options.logX,
    logY: options.logY,
  });
}

/**
 * Batch size B against model updates (or another x field): one step-shaped trace (plotly line
 * shape `"vh"`) per run, through all its rows. A row's B is the batch of the update that ends
 * at its step, so B_k holds on (k−1, k]: the line rises at k−1 and runs flat to k.
 *
 * @param rows run-log rows of one or more runs (validated).
 * @param options.x the x field (default `"step"`); log axes (default linear; `logY` suits
 *   geometric growth such as GeoDamp).
 * @returns a plain JSON figure; y title "batch size B".
 * @throws RangeError if `options.x` is unknown, a run logs a step twice, or a row is invalid.
 * @example
 * const fig = batchSizeFigure(rows, { logY: true });
 */
export function batchSizeFigure(
  rows: readonly RunLogRow[],
  options: RunLogFigureOptions & { x?: RunLogX } = {},
): LineFigure {
  return stepTraceFigure(rows, "batchSize", options);
}

/**
 * Data-parallel replicas K against model updates (or another x field), step-shaped like
 * {@link batchSizeFigure}; runs whose log has no `replicas` column are left out.
 *
 * @param rows run-log rows of one or more runs (validated).
 * @param options.x the x field (default `"step"`).
 * @returns a plain JSON figure; y title "replicas K".
 * @throws RangeError if `options.x` is unknown, a run logs a step twice, or a row is invalid.
 * @example
 * const fig = replicasFigure(rows);
 */
export function replicasFigure(
  rows: readonly RunLogRow[],
  options: RunLogFigureOptions & { x?: RunLogX } = {},
): LineFigure {
  return stepTraceFigure(
    rows.filter((r) => r.replicas != null),
    "replicas",
    options,
  );
}

function stepTraceFigure(
  rows: readonly RunLogRow[],
  y: "batchSize" | "replicas",
  options: RunLogFigureOptions & { x?: RunLogX },
): LineFigure {
  const { x = "step", logX, logY } = options;
  const xf = checkX(x);
  return lineFigure({
    title: `${y === "batchSize" ? "batch size" : "replicas"} vs ${AXIS_TITLES[xf]}`,
    xTitle: AXIS_TITLES[xf],
    yTitle: AXIS_TITLES[y],
    series: [...groupRuns(rows)].map(([run, list], i) => ({
      name: run,
      x: list.map((r) => r[xf]),
      y: list.map((r) => r[y] as number),
      shape: "vh",
      color: RUN_COLORS[i % RUN_COLORS.length],
    })),
    logX,
    logY,
  });
}

/**
 * Loss against model updates (or another x field). Per run: a solid training-loss trace through
 * every row (`"<run> train"`) and a dashed test-loss trace with markers through the evaluated
 * rows (`"<run> test"`, only for runs with at least one test loss); both share the run's colour
 * and legend group. NaN / ±Infinity losses (diverged runs) are drawn as gaps.
 *
 * @param rows run-log rows of one or more runs (validated).
 * @param options.x the x field (default `"step"`); `options.which`: `"train"`, `"test"` or
 *   `"both"` (default); log axes (default linear).
 * @returns a plain JSON figure; y title "training loss", "test loss" or "loss".
 * @throws RangeError if `options.x` or `options.which` is unknown, a run logs a step twice, or a
 *   row is invalid.
 * @example
 * const fig = lossFigure(rows, { which: "train", logY: true });
 */
export function lossFigure(
  rows: readonly RunLogRow[],
  options: RunLogFigureOptions & { x?: RunLogX; which?: "train" | "test" | "both" } = {},
): LineFigure {
  const { x = "step", which = "both", logX, logY } = options;
  const xf = checkX(x);
  checkOneOf(which, ["train", "test", "both"], "which");
  const series: LineSeries[] = [];
  [...groupRuns(rows)].forEach(([run, list], i) => {
    const color = RUN_COLORS[i % RUN_COLORS.length];
    if (which !== "test") {
      series.push({
        name: `${run} train`,
        x: list.map((r) => r[xf]),
        y: list.map((r) => r.trainLoss),
        color,
        group: run,
      });
    }
    const evaluated = list.filter((r) => r.testLoss !== null);
    if (which !== "train" && evaluated.length > 0) {
      series.push({
        name: `${run} test`,
        x: evaluated.map((r) => r[xf]),
        y: evaluated.map((r) => r.testLoss),
        mode: "lines+markers",
        dash: "dash",
        color,
        group: run,
      });
    }
  });
  const yTitle =
    which === "train" ? AXIS_TITLES.trainLoss : which === "test" ? AXIS_TITLES.testLoss : "loss";
  return lineFigure({
    title: `${yTitle} vs ${AXIS_TITLES[xf]}`,
    xTitle: AXIS_TITLES[xf],
    yTitle,
    series,
    logX,
    logY,
  });
}

/**
 * The simple noise scale B_simple over training (solid, one trace per run that has estimates)
 * with each run's batch size B (dashed, same colour), on a log y axis: where B sits below
 * B_simple, larger batches still cut the model updates needed almost proportionally
 * (McCandlish et al. 2018, §2.2).
 *
 * @param rows run-log rows of one or more runs (validated); rows without `bSimple` are skipped
 *   for the B_simple traces.
 * @param options.x the x field (default `"step"`).
 * @returns a plain JSON figure; y title "batch size B / noise scale B_simple".
 * @throws RangeError if `options.x` is unknown or a row is invalid.
 * @example
 * const fig = noiseScaleFigure(rows, { x: "examples" });
 */
export function noiseScaleFigure(
  rows: readonly RunLogRow[],
  options: { x?: RunLogX } = {},
): LineFigure {
  const xf = checkX(options.x ?? "step");
  const series: LineSeries[] = [];
  [...groupRuns(rows)].forEach(([run, list], i) => {
    const color = RUN_COLORS[i % RUN_COLORS.length];
    const est = list.filter((r) => r.bSimple != null && r.bSimple > 0);
    if (est.length > 0) {
      series.push({
        name: `${run}: B_simple`,
        x: est.map((r) => r[xf]),
        y: est.map((r) => r.bSimple as number),
        color,
      });
    }
    series.push({
      name: `${run}: B`,
      x: list.map((r) => r[xf]),
      y: list.map((r) => r.batchSize),
      shape: "vh",
      dash: "dash",
      color,
    });
  });
  return lineFigure({
    title: `noise scale B_simple and batch size vs ${AXIS_TITLES[xf]}`,
    xTitle: AXIS_TITLES[xf],
    yTitle: "batch size B / noise scale B_simple",
    series,
    logY: true,
  });
}
