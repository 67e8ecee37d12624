/**
 * The main job: train the small CNN on Fashion-MNIST twice under the same budget of training
 * examples — a constant batch size, and a batch that grows geometrically with epochs at a
 * fixed learning rate (Smith, Kindermans, Ying & Le 2017, "Don't decay the learning rate,
 * increase the batch size") — then compare accuracy against wall-clock, model updates and
 * examples processed.
 */
import * as fs from "fs";
import * as path from "path";
import { Adam } from "../optim/adam";
import { z } from "zod";
import { loadFashionMnist, DEFAULT_FASHION_MNIST_DIR } from "../data/fashion-mnist";
import { subset } from "../data/dataset";
import { smallCnn } from "../models/small";
import { constantSchedule } from "../schedules/constant";
import {
  createLrRule,
  createSchedule,
  LR_RULE_NAMES,
  SCHEDULE_NAMES,
  SCHEDULES,
  ScheduleName,
} from "../schedules/registry";
import { withLrScaling } from "../schedules/lr-rules";
import { ThroughputCurvePoint } from "../schedules/goodput";
import { noiseScaleEstimator } from "../noise/noise-scale-estimator";
import { measureThroughput } from "../probes/hardware";
import { BatchSchedule } from "../schedules/types";
import { RunLogRow } from "../train/types";
import { writeRunLog } from "../report/runlog";
import { formatSummaryTable, summariseRuns, RunSummary } from "../report/summary";
import { accuracyVsFigure, batchSizeFigure, lossFigure, noiseScaleFigure } from "../report/figures";
import { writeHtmlReport } from "../report/html";
import { classificationTask } from "../grad/task";
import { classificationSource } from "../data/source";
import { trainLoop } from "../train/loop";
import { ConfigError } from "../core/errors";

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
     * Schedule of the second run (see lib/schedules/registry.ts); default GeoDamp built from
     * initialBatchSize, growthFactor, growthEvery and maxBatchSize.
     */
    schedule: z
      .string()
      .refine((v) => (SCHEDULE_NAMES as readonly string[]).includes(v), {
        message: `must be one of ${SCHEDULE_NAMES.join(", ")}`,
      })
      .default("geodamp"),
    /** Parameters of that schedule (override the defaults derived from the options above). */
    scheduleParams: z.record(z.unknown()).default({}),
    /** Learning-rate rule applied when the second run's batch changes (default none). */
    lrRule: z
      .string()
      .refine((v) => (LR_RULE_NAMES as readonly string[]).includes(v), {
        message: `must be one of ${LR_RULE_NAMES.join(", ")}`,
      })
      .default("none"),
    /** Parameters of the learning-rate rule (e.g. alpha for power, warmupSteps). */
    lrRuleParams: z.record(z.unknown()).default({}),
    /** Estimate the gradient noise scale B_simple during both runs (≥ 2 micro-batches per update). */
    noiseScale: z.boolean().default(true),
    /** Seed of weights and sampler (both runs start from the same weights). */
    seed: z.number().int().nonnegative().default(1),
    /** Show progress. */
    progress: z.boolean().default(true),
    /** Write a checkpoint every this many model updates (0 = off). */
    checkpointEvery: z.number().int().nonnegative().default(200),
    /** Write a checkpoint when this many minutes passed since the last one (0 = off). */
    checkpointMinutes: z.number().nonnegative().default(5),
  })
  .strict();

/** Keys that may differ between a run and its resumption (they do not change the result). */
export const RESUMABLE_KEYS: readonly (keyof CompareConfig)[] = [
  "outDir",
  "progress",
  "checkpointEvery",
  "checkpointMinutes",
];

/** The file in the output directory that records the configuration of the job. */
export const CONFIG_FILE = "config.json";

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
  const r = compareConfigSchema.safeParse(input);
  if (!r.success) {
    const msgs = r.error.issues.map((i) => {
      if (i.code === "unrecognized_keys") return `unknown option(s): ${i.keys.join(", ")}`;
      const key = i.path.join(".");
      const value = (input as Record<string, unknown>)?.[key];
      return `${key}: ${i.message} (got ${JSON.stringify(value)})`;
    });
    throw new ConfigError(`invalid configuration: ${msgs.join("; ")}`);
  }
  return Object.freeze(r.data);
}

/** What the main job produced. */
export interface CompareResult {
  summaries: RunSummary[];
  table: string;
  rows: RunLogRow[];
  files: { csv: string; parquet: string; html: string };
}

/**
 * The second run's schedule and its name: GeoDamp from the growth options by default, else the
 * named schedule with `initialBatchSize` / `maxBatchSize` filled from the options where the
 * schedule takes them, `scheduleParams` on top, and the LR rule around it.
 * @param measureThroughput called only for `goodput`, to measure examples/s against B.
 * @throws ScheduleConfigError naming a bad schedule parameter.
 */
export async function buildSecondSchedule(
  config: CompareConfig,
  datasetSize: number,
  measureThroughput: () => ThroughputCurvePoint[] | Promise<ThroughputCurvePoint[]>,
): Promise<{ schedule: BatchSchedule<unknown>; name: string }> {
  const name = config.schedule;
  const keys = Object.keys((SCHEDULES[name as ScheduleName].schema as z.AnyZodObject).shape);
  const defaults: Record<string, unknown> =
    name === "geodamp"
      ? {
          initialBatchSize: config.initialBatchSize,
          factor: config.growthFactor,
          delay: config.growthEvery,
          maxBatchSize: Math.max(config.maxBatchSize, config.initialBatchSize),
        }
      : Object.fromEntries(
          (
            [
              ["initialBatchSize", config.initialBatchSize],
              ["maxBatchSize", Math.max(config.maxBatchSize, config.initialBatchSize)],
              ["batchSize", config.initialBatchSize],
            ] as const
          ).filter(([k]) => keys.includes(k)),
        );
  const params: Record<string, unknown> = { ...defaults, ...config.scheduleParams };
  if (name === "goodput" && params.throughput == null)
    params.throughput = await measureThroughput();
  let schedule = createSchedule(name, params, { datasetSize });
  let label =
    name === "geodamp"
      ? `growing B=${params.initialBatchSize}x${params.factor}/${params.delay}ep`
      : `${name} B0=${params.initialBatchSize ?? params.batchSize ?? "n"}`;
  if (config.lrRule !== "none") {
    const { warmupSteps, ...ruleParams } = config.lrRuleParams as Record<string, unknown>;
    schedule = withLrScaling(schedule, createLrRule(config.lrRule, ruleParams), {
      baseBatchSize: config.initialBatchSize,
      warmupSteps: warmupSteps == null ? 0 : Number(warmupSteps),
    }) as BatchSchedule<unknown>;
    label += ` +lr ${config.lrRule}`;
  }
  return { schedule, name: label };
}

/**
 * Reads the configuration saved in a job's output directory and merges `overrides` into it.
 * @throws Error if the directory holds no job, or an override changes a key that decides the
 *   result (anything but {@link RESUMABLE_KEYS}), naming the keys and both values.
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

/**
 * Runs the main job: constant vs growing batch, same examples budget, same initial weights.
 * Each run checkpoints into `<outDir>/checkpoints/run-<i>`; with `resume`, finished runs are
 * read back and an interrupted one continues from its newest checkpoint.
 * @throws Error on an invalid configuration or unreadable data; ConvergenceError on divergence;
 *   InterruptedError when `shouldStop()` turned true (after writing a checkpoint).
 */
export async function runComparison(
  config: CompareConfig,
  log: (s: string) => void = console.log,
  opts: { resume?: boolean; shouldStop?: () => boolean } = {},
): Promise<CompareResult> {
  // 1. Data
  const full = loadFashionMnist(config.dataDir);
  const trainDs =
    config.trainSubset > 0
      ? subset(full.train, Math.min(config.trainSubset, full.train.n))
      : full.train;
  const testDs =
    config.testSubset > 0 ? subset(full.test, Math.min(config.testSubset, full.test.n)) : full.test;
  const task = classificationTask(trainDs.featureShape, trainDs.numClasses);
  const budget = Math.round(config.epochs * trainDs.n);
  log(
    `data: ${trainDs.n} training and ${testDs.n} test examples; budget ${budget} examples (${config.epochs} epochs)`,
  );

  // 2. The two runs: constant batch, and the chosen schedule (GeoDamp by default)
  const measureModel = () =>
    smallCnn({
      inputShape: trainDs.featureShape,
      numClasses: trainDs.numClasses,
      seed: config.seed,
    });
  const second = await buildSecondSchedule(config, trainDs.n, () => {
    // goodput needs the throughput curve of this model on this backend: measure it first.
    const model = measureModel();
    const sizes: number[] = [];
    for (
      let b = Math.max(1, Math.min(config.initialBatchSize, 16));
      b <= Math.min(config.maxBatchSize, 2048);
      b *= 2
    ) {
      sizes.push(b);
    }
    const src = classificationSource(trainDs);
    const curve = measureThroughput(
      model,
      task,
      (b) => src.batch(Int32Array.from({ length: b }, (_, i) => i % trainDs.n)),
      {
        batchSizes: sizes,
        warmupSteps: 1,
        steps: 2,
        microBatchSize: config.microBatchSize,
        learningRate: config.learningRate,
      },
    );
    model.dispose();
    log(
      `throughput: ${curve.map((p) => `B=${p.batchSize}: ${p.examplesPerSecond.toFixed(0)}/s`).join(", ")}`,
    );
    return curve.map((p) => ({ batchSize: p.batchSize, examplesPerSecond: p.examplesPerSecond }));
  });
  const schedules: BatchSchedule<unknown>[] = [
    constantSchedule({ batchSize: config.batchSize }),
    second.schedule,
  ];
  const names = [`constant B=${config.batchSize}`, second.name];
  fs.mkdirSync(config.outDir, { recursive: true });
  const configFile = path.join(config.outDir, CONFIG_FILE);
  if (!opts.resume || !fs.existsSync(configFile)) {
    fs.writeFileSync(configFile, JSON.stringify(config, null, 2));
  }
  const fingerprint = Object.fromEntries(
    Object.entries(config).filter(([k]) => !(RESUMABLE_KEYS as readonly string[]).includes(k)),
  );
  const rows: RunLogRow[] = [];
  for (let i = 0; i < schedules.length; i++) {
    const model = smallCnn({
      inputShape: trainDs.featureShape,
      numClasses: trainDs.numClasses,
      seed: config.seed,
    });
    const optimizer = new Adam({ learningRate: config.learningRate });
    const result = await trainLoop({
      model,
      optimizer,
      task,
      train: classificationSource(trainDs),
      test: classificationSource(testDs),
      schedule: schedules[i],
      config: {
        runName: names[i],
        examplesBudget: budget,
        learningRate: config.learningRate,
        microBatchSize: config.microBatchSize,
        evalEvery: Math.max(1, Math.round(config.evalEvery * trainDs.n)),
        evalBatchSize: 1000,
        seed: config.seed,
        maxLoss: 1e3,
        progress: config.progress,
        noiseMicroBatches: 2,
      },
      noise: config.noiseScale ? noiseScaleEstimator({ datasetSize: trainDs.n }) : undefined,
      checkpoint: {
        dir: path.join(config.outDir, "checkpoints", `run-${i}`),
        everySteps: config.checkpointEvery,
        everySeconds: config.checkpointMinutes * 60,
        config: { ...fingerprint, run: names[i] },
        resume: opts.resume ?? false,
      },
      shouldStop: opts.shouldStop,
    });
    rows.push(...result.rows);
    model.dispose();
    optimizer.dispose();
  }

  // 3. Report
  const summaries = summariseRuns(rows, { targetAccuracy: config.targetAccuracy });
  const table = formatSummaryTable(summaries);
  const { csv, parquet } = writeRunLog(rows, config.outDir, "runlog");
  const html = path.join(config.outDir, "report.html");
  writeHtmlReport(html, {
    title: "batchwise: constant vs growing batch size on Fashion-MNIST",
    summaryTable: summaries,
    figures: [
      accuracyVsFigure(rows, "wallClock"),
      accuracyVsFigure(rows, "step"),
      accuracyVsFigure(rows, "examples"),
      batchSizeFigure(rows),
      ...(config.noiseScale ? [noiseScaleFigure(rows)] : []),
      lossFigure(rows),
    ],
    notes: [
      `Budget ${budget} training examples per run (${config.epochs} epochs of ${trainDs.n}); test set ${testDs.n} examples.`,
      config.schedule === "geodamp"
        ? `Adam, learning rate ${config.learningRate} fixed in both runs; growing run: B = ${config.initialBatchSize}·${config.growthFactor}^⌊epoch/${config.growthEvery}⌋ (Smith et al. 2017).`
        : `Adam, base learning rate ${config.learningRate}; second run: schedule ${config.schedule} ${JSON.stringify(config.scheduleParams)}, learning-rate rule ${config.lrRule}.`,
      ...(config.noiseScale
        ? [
            "B_simple: ratio of bias-corrected EMAs (β = 0.99) of the unbiased |G|² and tr(Σ) estimates from two micro-batches per update (McCandlish et al. 2018, App. A.1).",
          ]
        : []),
      `Target test accuracy ${config.targetAccuracy}; wall-clock excludes evaluation.`,
    ],
  });
  return { summaries, table, rows, files: { csv, parquet, html } };
}
