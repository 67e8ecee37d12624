/**
 * The main job, "the whole machine, B = 64 vs auto": train the small CNN on Fashion-MNIST twice
 * under the same budget of training examples — a constant batch size, and the automatic batch
 * (goodput: the noise scale times the measured throughput of the whole machine, Pollux-style;
 * or any other schedule, e.g. GeoDamp's growth with epochs, Smith et al. 2017) — each run with
 * the data-parallel replicas K that are fastest for its own batch size (measured once, shared),
 * then compare accuracy against wall-clock, model updates and examples processed.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type * as tf from "@tensorflow/tfjs-core";
import { z } from "zod";
import { ConfigError } from "../core/errors";
import { parseOptions } from "../core/schema";
import { DEFAULT_FASHION_MNIST_DIR } from "../data/fashion-mnist";
import { noiseScaleEstimator } from "../noise/noise-scale-estimator";
import { Adam } from "../optim/adam";
import { AdaScale } from "../optim/adascale";
import {
  accuracyVsFigure,
  batchSizeFigure,
  lossFigure,
  noiseScaleFigure,
  replicasFigure,
} from "../report/figures";
import {
  machineThroughputCurve,
  parseReplicaPlan,
  type ReplicaPlanState,
} from "../train/replica-plan";
import {
  noiseAgainstCriticalBatchFigure,
  type CriticalBatchReading,
} from "../report/critical-batch";
import { writeHtmlReport } from "../report/html";
import { writeRunLog } from "../report/runlog";
import { formatSummaryTable, summariseRuns, RunSummary } from "../report/summary";
import { constantSchedule } from "../schedules/constant";
import { withLrScaling } from "../schedules/lr-rules";
import {
  createLrRule,
  createSchedule,
  defaultJobParams,
  LR_RULE_NAMES,
  SCHEDULE_NAMES,
  SCHEDULES,
  ScheduleName,
} from "../schedules/registry";
import type { ThroughputCurvePoint } from "../schedules/goodput";
import type { BatchSchedule } from "../schedules/types";
import type { LoopConfigInput } from "../train/config";
import {
  checkCriticalBatchOptions,
  doublingBatchSizes,
  type BranchLrRule,
  type CriticalBatchOptions,
} from "../train/critical-batch";
import type { RunLogRow } from "../train/types";
import { fashionMnistSplits, FashionMnistSplits, measureMachine, runCnn } from "./common";

const positiveInt = z.number().int().positive();

/** Configuration of the main job; every key has a default, unknown keys are rejected. */
export const compareConfigSchema = z
  .object({
    /** Directory with the four Fashion-MNIST IDX files. */
    dataDir: z.string().default(DEFAULT_FASHION_MNIST_DIR),
    /** Output directory for run logs and the report. */
    outDir: z.string().default("runs/latest"),
    /** Training budget in epochs (the same for both runs). */
    epochs: z.number().positive().default(3),
    /** Use only the first n training examples (0 = all). */
    trainSubset: z.number().int().nonnegative().default(0),
    /** Use only the first n test examples (0 = all). */
    testSubset: z.number().int().nonnegative().default(0),
    /** Batch size of the constant run. */
    batchSize: positiveInt.default(64),
    /** Initial batch size B_0 of the growing run. */
    initialBatchSize: positiveInt.default(64),
    /** Growth factor of the growing run (> 1). */
    growthFactor: z.number().gt(1).default(2),
    /** Epochs between growths of the growing run. */
    growthEvery: z.number().positive().default(1),
    /** Largest batch size of the growing run. */
    maxBatchSize: positiveInt.default(4096),
    /** Adam learning rate (both runs; fixed). */
    learningRate: z.number().positive().default(1e-3),
    /** Largest micro-batch per gradient computation (memory cap). */
    microBatchSize: positiveInt.default(512),
    /** Evaluate every this many epochs. */
    evalEvery: z.number().positive().default(0.25),
    /** Test accuracy both runs are timed to (first evaluation at or above it). */
    targetAccuracy: z.number().gt(0).lt(1).default(0.88),
    /**
     * Schedule of the second run (see lib/schedules/registry.ts); default goodput from
     * initialBatchSize and the machine's measured throughput (`geodamp` builds GeoDamp from
     * initialBatchSize, growthFactor, growthEvery and maxBatchSize).
     */
    schedule: z.enum(SCHEDULE_NAMES as [ScheduleName, ...ScheduleName[]]).default("goodput"),
    /** Parameters of that schedule (override the defaults derived from the options above). */
    scheduleParams: z.record(z.unknown()).default({}),
    /** Learning-rate rule applied when the second run's batch changes (default none). */
    lrRule: z.enum(LR_RULE_NAMES as [string, ...string[]]).default("none"),
    /** Parameters of the learning-rate rule (e.g. alpha for power, warmupSteps). */
    lrRuleParams: z.record(z.unknown()).default({}),
    /** Estimate the gradient noise scale B_simple during both runs (≥ 2 micro-batches per update). */
    noiseScale: z.boolean().default(true),
    /**
     * Wrap the second run's Adam in AdaScale (lib/optim/adascale.ts, Johnson et al. 2020) with
     * B₀ = initialBatchSize: each update's learning rate is r·η with the gain r from the noise
     * estimate, and τ = Σ r is logged. Needs noiseScale and lrRule none (AdaScale is the rule).
     */
    adaScale: z.boolean().default(false),
    /**
     * `cbs-warmup` with `measureEvery`: candidate batch sizes of each branched measurement,
     * B₀·2^j for j < this (B₀ the schedule's initialBatchSize); the branches' learning rate
     * follows the schedule's lrRule from the job's learning rate at B₀.
     */
    cbsCandidates: positiveInt.default(6),
    /** `cbs-warmup`: examples per branch (≥ the largest candidate). */
    cbsBranchExamples: positiveInt.default(4096),
    /** `cbs-warmup`: relative loss tolerance ε of a branch (lib/train/critical-batch.ts). */
    cbsTolerance: z.number().nonnegative().default(0.01),
    /** Seed of weights and sampler (both runs start from the same weights). */
    seed: z.number().int().nonnegative().default(1),
    /** Show progress. */
    progress: z.boolean().default(true),
    /** Write a checkpoint every this many model updates (0 = off). */
    checkpointEvery: z.number().int().nonnegative().default(200),
    /** Write a checkpoint when this many minutes passed since the last one (0 = off). */
    checkpointMinutes: z.number().nonnegative().default(5),
    /**
     * Data-parallel replicas of each run (lib/parallel): an integer K, or "auto" — each run uses,
     * per batch size, the K with the most examples/s in a table measured once for the job.
     */
    replicas: z.union([positiveInt, z.literal("auto")]).default("auto"),
    /** Largest K for "auto" (default: the machine's logical cores). */
    maxReplicas: positiveInt.optional(),
    /**
     * A throughput table to reuse instead of measuring (a job's `machine.json`), for "auto":
     * two jobs given the same table make the same K choices.
     */
    machine: z.string().optional(),
  })
  .strict();

/** Keys that may differ between a run and its resumption (they do not change the result). */
export const RESUMABLE_KEYS: readonly (keyof CompareConfig)[] = [
  "outDir",
  "machine",
  "progress",
  "checkpointEvery",
  "checkpointMinutes",
];

/** The file in the output directory that records the configuration of the job. */
export const CONFIG_FILE = "config.json";

/** The file in the output directory that records the machine's measured throughput table. */
export const MACHINE_FILE = "machine.json";

/** The main job's configuration (see {@link compareConfigSchema} for defaults). */
export type CompareConfig = z.infer<typeof compareConfigSchema>;

/** Settings `--quick` applies: a subset and a shorter budget (≤ 2 minutes on 2 cores). */
export const QUICK_OVERRIDES: Partial<CompareConfig> = {
  epochs: 2,
  trainSubset: 10000,
  testSubset: 2000,
  growthEvery: 0.5,
  evalEvery: 0.25,
  targetAccuracy: 0.8,
};

/** Validates a partial configuration; errors name the option and value. */
export function parseCompareConfig(input: unknown): CompareConfig {
  return parseOptions(compareConfigSchema, input) as CompareConfig;
}

/** What the main job produced. */
export interface CompareResult {
  summaries: RunSummary[];
  table: string;
  rows: RunLogRow[];
  files: { csv: string; parquet: string; html: string };
}

/**
 * The second run's schedule, its name and a sentence for the report: the named schedule with
 * the parameters its registry entry takes from the job's options (`jobDefaults`, e.g. GeoDamp
 * from the growth options), `scheduleParams` on top, what it `needs` measured (a throughput
 * curve for goodput), and the LR rule around it.
 * @param measureThroughput called only for a schedule that needs a throughput curve.
 * @throws ScheduleConfigError naming a bad schedule parameter.
 */
export async function buildSecondSchedule(
  config: CompareConfig,
  datasetSize: number,
  measureThroughput: () => ThroughputCurvePoint[] | Promise<ThroughputCurvePoint[]>,
): Promise<{
  schedule: BatchSchedule<unknown>;
  name: string;
  description: string;
  params: Record<string, unknown>;
}> {
  const name = config.schedule;
  const entry = SCHEDULES[name as ScheduleName] as (typeof SCHEDULES)[ScheduleName] & {
    jobDefaults?: (j: typeof config) => Record<string, unknown>;
    label?: (p: Record<string, unknown>) => string;
    describe?: (p: Record<string, unknown>) => string;
    needs?: readonly string[];
  };
  const defaults = entry.jobDefaults?.(config) ?? defaultJobParams(entry, config);
  const params: Record<string, unknown> = { ...defaults, ...config.scheduleParams };
  if (entry.needs?.includes("throughput") && params.throughput == null) {
    params.throughput = await measureThroughput();
  }
  let schedule = createSchedule(name, params, { datasetSize });
  let label =
    entry.label?.(params) ?? `${name} B0=${params.initialBatchSize ?? params.batchSize ?? "n"}`;
  let description =
    entry.describe?.(params) ??
    `second run: schedule ${name} ${JSON.stringify(config.scheduleParams)}.`;
  if (config.lrRule !== "none") {
    const { warmupSteps, ...ruleParams } = config.lrRuleParams as Record<string, unknown>;
    schedule = withLrScaling(schedule, createLrRule(config.lrRule, ruleParams), {
      baseBatchSize: config.initialBatchSize,
      warmupSteps: warmupSteps == null ? 0 : Number(warmupSteps),
    }) as BatchSchedule<unknown>;
    label += ` +lr ${config.lrRule}`;
    description += ` Learning-rate rule ${config.lrRule}.`;
  }
  if (config.adaScale) {
    label += " +AdaScale";
    description += ` AdaScale around Adam (B₀ = ${config.initialBatchSize}): learning rate r·η with the gain r from the noise estimate.`;
  }
  return { schedule, name: label, description, params };
}

/**
 * Options that only make sense together, checked before anything runs: AdaScale needs the
 * noise estimate and no other learning-rate rule.
 * @throws ConfigError naming the options and values.
 */
export function checkCompareCombination(config: CompareConfig): void {
  if (config.adaScale && !config.noiseScale) {
    throw new ConfigError(
      "adaScale needs the noise-scale estimate for its gain, got noiseScale=false (drop --no-noise-scale)",
    );
  }
  if (config.adaScale && config.lrRule !== "none") {
    throw new ConfigError(
      `adaScale is the learning-rate rule of the second run; lrRule must be none with it, got lrRule=${config.lrRule}`,
    );
  }
}

/**
 * The branched measurement a `cbs-warmup` schedule with `measureEvery` asks for (null for any
 * other schedule or a curve): candidates B₀·2^j, j < cbsCandidates; lr₀ = the job's learning
 * rate; the schedule's lrRule (default sqrt); cbsBranchExamples per branch; ε = cbsTolerance;
 * one seed, the job's.
 * @throws ConfigError naming a bad option (e.g. cbsBranchExamples below the largest candidate).
 */
export function criticalBatchOptions(
  config: CompareConfig,
  params: Record<string, unknown>,
): CriticalBatchOptions | null {
  if (config.schedule !== "cbs-warmup" || params.measureEvery == null) return null;
  const b0 = Number(params.initialBatchSize);
  return checkCriticalBatchOptions({
    batchSizes: doublingBatchSizes(b0, config.cbsCandidates),
    learningRate: config.learningRate,
    lrRule: (params.lrRule as BranchLrRule | undefined) ?? "sqrt",
    examplesPerBranch: config.cbsBranchExamples,
    tolerance: config.cbsTolerance,
    seeds: [config.seed],
  });
}

/**
 * Reads the configuration saved in a job's output directory and merges `overrides` into it.
 * @throws ConfigError if the directory holds no job, or an override changes a key that decides
 *   the result (anything but {@link RESUMABLE_KEYS}), naming the keys and both values.
 */
export function resumeConfig(dir: string, overrides: Record<string, unknown>): CompareConfig {
  const file = path.join(dir, CONFIG_FILE);
  if (!fs.existsSync(file)) {
    throw new ConfigError(
      `cannot resume ${dir}: no ${CONFIG_FILE} (not a batchwise output directory)`,
    );
  }
  const saved = parseCompareConfig(JSON.parse(fs.readFileSync(file, "utf8"))) as Record<
    string,
    unknown
  >;
  const diff = Object.entries(overrides).filter(
    ([k, v]) =>
      !(RESUMABLE_KEYS as readonly string[]).includes(k) &&
      JSON.stringify(v) !== JSON.stringify(saved[k]),
  );
  if (diff.length > 0) {
    const detail = diff.map(
      ([k, v]) => `${k} was ${JSON.stringify(saved[k])}, now ${JSON.stringify(v)}`,
    );
    throw new ConfigError(
      `cannot resume ${dir} with a different configuration: ${detail.join("; ")}`,
    );
  }
  return parseCompareConfig({ ...saved, ...overrides, outDir: dir });
}

/** One run of the main job: its name, schedule and the loop settings that differ from the defaults. */
export interface ComparisonRun {
  name: string;
  schedule: BatchSchedule<unknown>;
  loop: LoopConfigInput;
  /** The optimizer for a learning rate, when not the default Adam (AdaScale around Adam). */
  optimizer?: (learningRate: number) => tf.Optimizer;
  /** Branch options when the schedule measures the critical batch size. */
  criticalBatch?: CriticalBatchOptions;
}

/**
 * The main job's two runs on `data`: constant B, and the second schedule (GeoDamp by default),
 * same examples budget, learning rate, evaluation cadence and seed.
 * @param measureThroughput for a second schedule that needs a throughput curve.
 */
export async function comparisonRuns(
  config: CompareConfig,
  data: FashionMnistSplits,
  measureThroughput: () => ThroughputCurvePoint[] | Promise<ThroughputCurvePoint[]>,
): Promise<{ runs: ComparisonRun[]; description: string }> {
  const n = data.trainDs.n;
  checkCompareCombination(config);
  const second = await buildSecondSchedule(config, n, measureThroughput);
  const cbs = criticalBatchOptions(config, second.params);
  const loop = (runName: string): LoopConfigInput => ({
    runName,
    examplesBudget: Math.round(config.epochs * n),
    learningRate: config.learningRate,
    microBatchSize: config.microBatchSize,
    evalEvery: Math.max(1, Math.round(config.evalEvery * n)),
    seed: config.seed,
    replicas: config.replicas,
    ...(config.maxReplicas != null ? { maxReplicas: config.maxReplicas } : {}),
  });
  const first = `constant B=${config.batchSize}`;
  return {
    runs: [
      {
        name: first,
        schedule: constantSchedule({ batchSize: config.batchSize }),
        loop: loop(first),
      },
      {
        name: second.name,
        schedule: second.schedule,
        loop: loop(second.name),
        ...(config.adaScale
          ? {
              optimizer: (lr: number) =>
                new AdaScale(new Adam({ learningRate: lr }), {
                  baseBatchSize: config.initialBatchSize,
                }),
            }
          : {}),
        ...(cbs != null ? { criticalBatch: cbs } : {}),
      },
    ],
    description: second.description,
  };
}

/**
 * Runs the main job: constant vs growing batch, same examples budget, same initial weights.
 * Each run checkpoints into `<outDir>/checkpoints/run-<i>`; with `resume`, finished runs are
 * read back and an interrupted one continues from its newest checkpoint.
 * @returns The summaries, the table, the rows and the files written; `stopped` when
 *   `shouldStop()` turned true (a checkpoint was written; the report is not).
 * @throws ConfigError on an invalid configuration, DatasetError on unreadable data,
 *   ConvergenceError on divergence.
 */
export async function runComparison(
  config: CompareConfig,
  log: (s: string) => void = console.log,
  opts: { resume?: boolean; shouldStop?: () => boolean } = {},
): Promise<CompareResult & { stopped: boolean }> {
  checkCompareCombination(config);
  // 1. Data
  const data = fashionMnistSplits(config);
  const { trainDs, testDs } = data;
  const budget = Math.round(config.epochs * trainDs.n);
  log(
    `data: ${trainDs.n} training and ${testDs.n} test examples; budget ${budget} examples (${config.epochs} epochs)`,
  );

  // 2. The whole machine, measured once for both runs (read back on resume): examples/s of
  // the CNN against B and K, and the micro-batch size
  fs.mkdirSync(config.outDir, { recursive: true });
  const maxReplicas =
    config.replicas === "auto"
      ? (config.maxReplicas ?? os.availableParallelism())
      : config.replicas;
  const auto = config.replicas === "auto";
  const measure = () => machinePlan(config, data, maxReplicas, log, opts.resume ?? false);
  let machine: ReplicaPlanState | null = auto ? await measure() : null;
  const plan = auto ? machine : null;

  // 3. The two runs: constant batch, and the chosen schedule (goodput by default: the curve is
  // the best K's examples/s per B with "auto", the fixed K's otherwise)
  const { runs, description } = await comparisonRuns(config, data, async () => {
    machine ??= await measure();
    const curve = machineThroughputCurve(
      auto ? machine.table : machine.table.filter((p) => p.replicas === maxReplicas),
    );
    log(
      `throughput: ${curve.map((p) => `B=${p.batchSize}: ${p.examplesPerSecond.toFixed(0)}/s`).join(", ")}`,
    );
    return curve;
  });
  const configFile = path.join(config.outDir, CONFIG_FILE);
  if (!opts.resume || !fs.existsSync(configFile)) {
    fs.writeFileSync(configFile, JSON.stringify(config, null, 2));
  }
  const fingerprint = Object.fromEntries(
    Object.entries(config).filter(([k]) => !(RESUMABLE_KEYS as readonly string[]).includes(k)),
  );
  const rows: RunLogRow[] = [];
  const readings: CriticalBatchReading[] = [];
  const estimator = noiseScaleEstimator({ datasetSize: trainDs.n });
  for (const [i, run] of runs.entries()) {
    const result = await runCnn({
      data,
      schedule: run.schedule,
      loop: run.loop,
      seed: config.seed,
      noise: config.noiseScale ? estimator : undefined,
      checkpoint: {
        dir: path.join(config.outDir, "checkpoints", `run-${i}`),
        everySteps: config.checkpointEvery,
        everySeconds: config.checkpointMinutes * 60,
        config: { ...fingerprint, run: run.name },
        resume: opts.resume ?? false,
      },
      shouldStop: opts.shouldStop,
      progress: config.progress,
      replicaPlan: plan ?? undefined,
      hooks: [{ onNotice: log }],
      optimizer: run.optimizer,
      criticalBatch:
        run.criticalBatch != null
          ? {
              ...run.criticalBatch,
              onMeasured: (m, at) => {
                readings.push({ examples: at.examples, criticalBatchSize: m.criticalBatchSize });
                log(
                  `${run.name}: critical batch size ${m.criticalBatchSize} at ${at.examples} examples (loss after ${m.branches[0].examples} examples by B: ${m.branches.map((b) => `${b.batchSize} ${b.meanLoss.toFixed(4)}${b.withinTolerance ? "" : "×"}`).join(", ")})`,
                );
              },
            }
          : undefined,
    });
    rows.push(...result.rows);
    if (result.stopped) {
      return {
        summaries: [],
        table: "",
        rows,
        files: { csv: "", parquet: "", html: "" },
        stopped: true,
      };
    }
  }

  // 4. Report
  const summaries = summariseRuns(rows, { targetAccuracy: config.targetAccuracy });
  const table = formatSummaryTable(summaries);
  const { csv, parquet } = writeRunLog(rows, config.outDir, "runlog");
  const html = path.join(config.outDir, "report.html");
  writeHtmlReport(html, {
    title: `batchwise: the whole machine, B=${config.batchSize} vs ${runs[1].name}, on Fashion-MNIST`,
    summaryTable: summaries,
    figures: [
      accuracyVsFigure(rows, "wallClock"),
      accuracyVsFigure(rows, "step"),
      accuracyVsFigure(rows, "examples"),
      batchSizeFigure(rows),
      replicasFigure(rows),
      ...(config.noiseScale ? [noiseScaleFigure(rows)] : []),
      // the second run's B_simple beside its branched critical-batch measurements
      ...(readings.length > 0
        ? [
            noiseAgainstCriticalBatchFigure(
              rows.filter((r) => r.run === runs[1].name),
              readings,
            ),
          ]
        : []),
      lossFigure(rows),
    ],
    notes: [
      `Budget ${budget} training examples per run (${config.epochs} epochs of ${trainDs.n}); test set ${testDs.n} examples.`,
      `Adam, base learning rate ${config.learningRate}${config.lrRule === "none" && !config.adaScale ? ", fixed in both runs" : ""}; ${description}`,
      ...(config.noiseScale
        ? [
            `B_simple: ratio of bias-corrected EMAs (β = ${estimator.options.beta}) of the unbiased |G|² and tr(Σ) estimates from two micro-batches per sampled update (McCandlish et al. 2018, App. A.1).`,
          ]
        : []),
      ...(plan != null
        ? [
            `Replicas: K per batch size from the throughput measured once for both runs in ${plan.probeSeconds.toFixed(1)} s (micro-batch ${plan.microBatchSize}): ${describeTable(plan)}.`,
          ]
        : [`Replicas: K = ${config.replicas} in both runs.`]),
      `Target test accuracy ${config.targetAccuracy}; wall-clock excludes evaluation and the throughput measurement.`,
    ],
  });
  return { summaries, table, rows, files: { csv, parquet, html }, stopped: false };
}

/** "B=64: K=1 1350/s, K=2 1740/s; B=128: …" */
function describeTable(plan: ReplicaPlanState): string {
  const byB = new Map<number, string[]>();
  for (const p of plan.table) {
    const l = byB.get(p.batchSize) ?? [];
    l.push(`K=${p.replicas} ${p.examplesPerSecond.toFixed(0)}/s`);
    byB.set(p.batchSize, l);
  }
  return [...byB.entries()].map(([b, l]) => `B=${b}: ${l.join(", ")}`).join("; ");
}

/**
 * The job's throughput table (for `replicas: "auto"` and a goodput schedule): read from `<outDir>/machine.json` when
 * resuming (so a resumed run makes the same choices), else from `config.machine`, else
 * measured (lib/jobs/common.ts) with K = 1 … `maxReplicas`; written there.
 * @throws ConfigError when a given table file is missing or invalid (naming file and field).
 */
async function machinePlan(
  config: CompareConfig,
  data: FashionMnistSplits,
  maxReplicas: number,
  log: (s: string) => void,
  resume: boolean,
): Promise<ReplicaPlanState> {
  const file = path.join(config.outDir, MACHINE_FILE);
  let plan: ReplicaPlanState;
  const given = resume && fs.existsSync(file) ? file : config.machine;
  if (given != null) {
    if (!fs.existsSync(given)) throw new ConfigError(`machine: no such file ${given}`);
    let json: unknown;
    try {
      json = JSON.parse(fs.readFileSync(given, "utf8"));
    } catch (e) {
      throw new ConfigError(`machine: ${given} is not JSON: ${(e as Error).message}`);
    }
    plan = parseReplicaPlan(json, given);
    if (given !== file) fs.writeFileSync(file, JSON.stringify(plan, null, 2));
    log(`machine: throughput table read from ${given}`);
  } else {
    log(`machine: measuring examples/s against B and K = 1…${maxReplicas} replicas …`);
    plan = await measureMachine(data, { ...config, maxReplicas });
    fs.writeFileSync(file, JSON.stringify(plan, null, 2));
  }
  log(
    `machine: micro-batch ${plan.microBatchSize}; ${describeTable(plan)} (measured in ${plan.probeSeconds.toFixed(1)} s)`,
  );
  return plan;
}
