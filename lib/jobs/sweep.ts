/**
 * The critical batch size B_crit from a sweep of constant-batch runs (McCandlish, Kaplan,
 * Amodei 2018, §2.3 and Fig. 4): train the small CNN on Fashion-MNIST at several batch sizes
 * B until the test accuracy first reaches a target, record the model updates S and examples
 * E = B·S each needed, and fit S = S_min(1 + B_crit/B), E = E_min(1 + B/B_crit).
 */
import * as fs from "fs";
import * as path from "path";
import { z } from "zod";
import { DEFAULT_FASHION_MNIST_DIR } from "../data/fashion-mnist";
import { parseOptions } from "../core/schema";
import { fashionMnistSplits, runCnn } from "./common";
import { constantSchedule } from "../schedules/constant";
import { fitBCrit, BCritFit } from "../noise/bcrit";
import { lineFigure, LineSeries } from "../report/figures";
import { writeHtmlReport } from "../report/html";
import { writeRunLog } from "../report/runlog";
import { RunLogRow } from "../train/types";

/** Configuration of the sweep; unknown keys are rejected. */
export const sweepConfigSchema = z
  .object({
    /** Directory with the Fashion-MNIST IDX files. */
    dataDir: z.string().default(DEFAULT_FASHION_MNIST_DIR),
    /** Output directory (run log, fit, report). */
    outDir: z.string().default("runs/sweep"),
    /** The constant batch sizes to run (≥ 2 distinct). */
    batchSizes: z.array(z.number().int().positive()).min(2).default([32, 64, 128, 256, 512, 1024]),
    /** Test accuracy each run trains to. */
    targetAccuracy: z.number().gt(0).lt(1).default(0.85),
    /** Give up on a run after this many epochs. */
    maxEpochs: z.number().positive().default(5),
    /** Learning rate at the smallest batch size. */
    learningRate: z.number().positive().default(1e-3),
    /**
     * Learning-rate scaling with B, lr = learningRate·(B/B_smallest)^lrExponent: 0 keeps it
     * fixed, 0.5 is the square-root rule suited to Adam (McCandlish et al. 2018, App. D).
     */
    lrExponent: z.number().min(0).max(1).default(0.5),
    /** Evaluate every this many epochs (resolution of S). */
    evalEvery: z.number().positive().default(0.05),
    /** Use only the first n training / test examples (0 = all). */
    trainSubset: z.number().int().nonnegative().default(0),
    testSubset: z.number().int().nonnegative().default(2000),
    /** Largest micro-batch (memory cap). */
    microBatchSize: z.number().int().positive().default(512),
    seed: z.number().int().nonnegative().default(1),
    progress: z.boolean().default(true),
  })
  .strict();

export type SweepConfig = z.infer<typeof sweepConfigSchema>;

/** Validates a sweep configuration; errors name the option and value. */
export function parseSweepConfig(input: unknown): SweepConfig {
  return parseOptions(sweepConfigSchema, input) as SweepConfig;
}

/** One run of the sweep. */
export interface SweepRun {
  batchSize: number;
  learningRate: number;
  /** Model updates to first reach the target, or null if it never did. */
  steps: number | null;
  /** Examples processed to first reach the target, or null. */
  examples: number | null;
  /** Wall-clock seconds to the target (evaluation excluded), or null. */
  wallClock: number | null;
}

/** The sweep's outcome. */
export interface SweepResult {
  runs: SweepRun[];
  /** The fit over the runs that reached the target (null if fewer than 2 did). */
  fit: BCritFit | null;
  /** Plain-text table of the runs and the fit. */
  table: string;
  files: { csv: string; parquet: string; html: string; fit: string };
}

/**
 * Runs the sweep, fits B_crit, writes the run log, `fit.json` and `report.html` (the S-vs-E
 * Pareto curve with the fitted hyperbola).
 * @throws Error on invalid configuration or unreadable data.
 */
export async function runSweep(
  config: SweepConfig,
  log: (s: string) => void = console.log,
): Promise<SweepResult> {
  const data = fashionMnistSplits(config);
  const { trainDs } = data;
  const bSmall = Math.min(...config.batchSizes);
  const runs: SweepRun[] = [];
  const rows: RunLogRow[] = [];
  for (const B of [...config.batchSizes].sort((a, b) => a - b)) {
    const lr = config.learningRate * Math.pow(B / bSmall, config.lrExponent);
    const r = await runCnn({
      data,
      schedule: constantSchedule({ batchSize: B }),
      seed: config.seed,
      progress: config.progress,
      loop: {
        runName: `B=${B}`,
        examplesBudget: Math.round(config.maxEpochs * trainDs.n),
        learningRate: lr,
        microBatchSize: config.microBatchSize,
        // Evaluate at least every 2 updates at large B, so S is resolved to ±1 update there.
        evalEvery: Math.max(1, Math.min(Math.round(config.evalEvery * trainDs.n), 2 * B)),
        seed: config.seed,
        stopAtAccuracy: config.targetAccuracy,
      },
    });
    rows.push(...r.rows);
    const hit = r.rows.find(
      (x) => x.testAccuracy != null && x.testAccuracy >= config.targetAccuracy,
    );
    runs.push({
      batchSize: B,
      learningRate: lr,
      steps: hit?.step ?? null,
      examples: hit?.examples ?? null,
      wallClock: hit?.wallClock ?? null,
    });
    log(
      hit
        ? `B=${B} (lr ${lr.toPrecision(3)}): reached ${config.targetAccuracy} after ${hit.step} updates, ${hit.examples} examples, ${hit.wallClock.toFixed(1)} s`
        : `B=${B} (lr ${lr.toPrecision(3)}): did not reach ${config.targetAccuracy} in ${config.maxEpochs} epochs`,
    );
  }
  const reached = runs.filter((r) => r.steps != null);
  let fit: BCritFit | null = null;
  if (new Set(reached.map((r) => r.batchSize)).size >= 2) {
    try {
      fit = fitBCrit(
        reached.map((r) => ({
          batchSize: r.batchSize,
          steps: r.steps as number,
          examples: r.examples as number,
        })),
      );
    } catch (e) {
      log(`B_crit fit failed: ${(e as Error).message}`);
    }
  }
  const table = formatSweep(runs, fit, config.targetAccuracy);
  fs.mkdirSync(config.outDir, { recursive: true });
  const { csv, parquet } = writeRunLog(rows, config.outDir, "runlog");
  const fitFile = path.join(config.outDir, "fit.json");
  fs.writeFileSync(fitFile, JSON.stringify({ config, runs, fit }, null, 2));
  const html = path.join(config.outDir, "report.html");
  const series: LineSeries[] = [
    {
      name: "runs (to target)",
      x: reached.map((r) => r.examples as number),
      y: reached.map((r) => r.steps as number),
      mode: "markers",
    },
  ];
  if (fit != null) {
    // The fitted Pareto front (S/S_min − 1)(E/E_min − 1) = 1, traced through B.
    const bs = Array.from(
      { length: 60 },
      (_, i) => (bSmall * Math.pow((4 * Math.max(...config.batchSizes)) / bSmall, i / 59)) / 2,
    );
    const f = fit;
    series.push({
      name: `fit: S_min ${f.sMin.toFixed(0)}, E_min ${f.eMin.toFixed(0)}, B_crit ${f.bCrit.toFixed(0)}`,
      x: bs.map((b) => f.eMin * (1 + b / f.bCrit)),
      y: bs.map((b) => f.sMin * (1 + f.bCrit / b)),
      mode: "lines",
    });
  }
  writeHtmlReport(html, {
    title: `batchwise: critical batch size sweep (Fashion-MNIST, target test accuracy ${config.targetAccuracy})`,
    figures: [
      lineFigure({
        title: "model updates S vs examples processed E to reach the target",
        xTitle: "examples processed E",
        yTitle: "model updates S",
        series,
        logX: true,
        logY: true,
      }),
    ],
    notes: [table],
  });
  return { runs, fit, table, files: { csv, parquet, html, fit: fitFile } };
}

/** Fixed-width text table of the runs and the fit. */
export function formatSweep(runs: SweepRun[], fit: BCritFit | null, target: number): string {
  const lines = [
    `B       lr         updates to ${target}   examples to ${target}   wall-clock (s)`,
  ];
  for (const r of runs) {
    lines.push(
      `${String(r.batchSize).padEnd(7)} ${r.learningRate.toExponential(2).padEnd(10)} ${String(r.steps ?? "—").padStart(15)} ${String(r.examples ?? "—").padStart(17)} ${(r.wallClock?.toFixed(1) ?? "—").padStart(16)}`,
    );
  }
  if (fit != null) {
    lines.push(
      `fit S = S_min(1 + B_crit/B): S_min ${fit.sMin.toFixed(1)}, E_min ${fit.eMin.toFixed(0)}, B_crit ${fit.bCrit.toFixed(1)}, R² ${fit.steps.r2.toFixed(3)}, residuals (updates) [${fit.steps.residuals.map((x) => x.toFixed(1)).join(", ")}]`,
    );
  } else {
    lines.push("fit: fewer than 2 batch sizes reached the target");
  }
  return lines.join("\n");
}
