#!/usr/bin/env -S node --import tsx
/**
 * batchwise command line.
 *
 *   npx tsx cli/main.ts compare [options]   (default command: the main job)
 *   npx tsx cli/main.ts --help
 */
import { Command, Option } from "commander";
import * as fs from "fs";
import { BACKEND_NAMES, describeBackend, initBackend } from "../lib/backend";
import { ClusterModel, compareRuns, formatProjections } from "../lib/cluster/simulator";
import {
  compareConfigSchema,
  parseCompareConfig,
  QUICK_OVERRIDES,
  resumeConfig,
  runComparison,
} from "../lib/jobs/compare";
import { parseSweepConfig, runSweep, sweepConfigSchema } from "../lib/jobs/sweep";
import { readRunLog } from "../lib/report/runlog";
import { SCHEDULES } from "../lib/schedules/registry";
import { addSchemaOptions } from "./schema-options";

const program = new Command();
program
  .name("batchwise")
  .description("Adaptive batch sizes and the gradient noise scale for TensorFlow.js")
  .showHelpAfterError()
  .allowExcessArguments(false);

const compare = program
  .command("compare", { isDefault: true })
  .description(
    "Main job: train a small CNN on Fashion-MNIST twice under the same budget of examples — constant batch size vs a batch that doubles every k epochs at a fixed learning rate — and print a comparison table and write an HTML report.",
  )
  .addOption(
    new Option("--backend <name>", "tfjs backend")
      .choices(["auto", ...BACKEND_NAMES])
      .default(process.env.BATCHWISE_BACKEND ?? "auto"),
  )
  .option("--quick", "small subset and budget: finishes in about 2 minutes", false)
  .option(
    "--resume <dir>",
    "continue the job whose output directory is <dir> (after a crash or Ctrl-C)",
  );
const compareOptions = addSchemaOptions(compare, compareConfigSchema, {
  dataDir: ["--data <dir>", "Fashion-MNIST directory (four IDX .gz files)"],
  outDir: [
    "--out <dir>",
    "output directory for the run logs, checkpoints and report.html (default runs/latest)",
  ],
  epochs: ["--epochs <n>", "training budget in epochs (both runs)"],
  trainSubset: ["--train-subset <n>", "use the first n training examples (0 = all)"],
  testSubset: ["--test-subset <n>", "use the first n test examples (0 = all)"],
  batchSize: ["--batch-size <B>", "batch size of the constant run"],
  initialBatchSize: ["--initial-batch-size <B0>", "initial batch size of the growing run"],
  growthFactor: ["--growth-factor <f>", "growth factor of the growing run (> 1)"],
  growthEvery: ["--growth-every <epochs>", "epochs between growths"],
  maxBatchSize: ["--max-batch-size <B>", "largest batch size of the growing run"],
  learningRate: ["--lr <rate>", "Adam learning rate (fixed)"],
  microBatchSize: ["--micro-batch-size <m>", "memory cap: largest micro-batch per gradient"],
  evalEvery: ["--eval-every <epochs>", "evaluate every this many epochs"],
  targetAccuracy: ["--target-accuracy <acc>", "test accuracy to time both runs to, in (0, 1)"],
  schedule: ["--schedule <name>", "batch-size schedule of the second run (default goodput)"],
  scheduleParams: [
    "--schedule-param <key=value>",
    "a parameter of the schedule, repeatable (e.g. --schedule-param dwell=10)",
  ],
  lrRule: ["--lr-rule <name>", "learning-rate rule when B changes (default none)"],
  lrRuleParams: [
    "--lr-rule-param <key=value>",
    "a parameter of the LR rule, repeatable (alpha, warmupSteps)",
  ],
  noiseScale: ["--no-noise-scale", "do not estimate the gradient noise scale B_simple"],
  adaScale: [
    "--adascale",
    "wrap the second run's Adam in AdaScale (B0 = --initial-batch-size): lr = r*lr with the gain r from the noise estimate",
  ],
  cbsCandidates: [
    "--cbs-candidates <k>",
    "cbs-warmup with measureEvery: candidates B0*2^j, j < k, per branched measurement",
  ],
  cbsBranchExamples: [
    "--cbs-branch-examples <n>",
    "cbs-warmup: examples per branch (>= the largest candidate)",
  ],
  cbsTolerance: ["--cbs-tolerance <eps>", "cbs-warmup: relative loss tolerance of a branch"],
  seed: ["--seed <n>", "seed for weights and sampling"],
  progress: ["--no-progress", "no progress bar / progress lines"],
  checkpointEvery: [
    "--checkpoint-every <steps>",
    "write a checkpoint every this many model updates (0 = off)",
  ],
  checkpointMinutes: [
    "--checkpoint-minutes <m>",
    "write a checkpoint every this many minutes (0 = off)",
  ],
  replicas: [
    "--replicas <K|auto>",
    "data-parallel replicas per run: an integer, or auto (K per batch size from measured throughput; default)",
  ],
  maxReplicas: ["--max-replicas <K>", "largest K for --replicas auto (default: logical cores)"],
  machine: [
    "--machine <file>",
    "reuse a measured throughput table (a job's machine.json) instead of measuring",
  ],
});
compare
  .addHelpText(
    "after",
    "\nSchedules (--schedule, parameters via --schedule-param):\n" +
      Object.entries(SCHEDULES)
        .map(([k, e]) => `  ${k.padEnd(12)} ${e.summary}`)
        .join("\n"),
  )
  .action(async (opts) => {
    const explicit = compareOptions(opts);
    const config = opts.resume
      ? resumeConfig(opts.resume, { ...(opts.quick ? QUICK_OVERRIDES : {}), ...explicit })
      : parseCompareConfig({ ...(opts.quick ? QUICK_OVERRIDES : {}), ...explicit });
    const info = await initBackend(opts.backend);
    console.log(describeBackend(info));
    const t0 = performance.now();
    // Ctrl-C: finish the current update, write a checkpoint, exit; a second Ctrl-C exits now.
    let stopRequested = false;
    process.on("SIGINT", () => {
      if (stopRequested) process.exit(130);
      stopRequested = true;
      console.error(
        "\nbatchwise: stopping after this update and writing a checkpoint (Ctrl-C again to quit now)",
      );
    });
    const result = await runComparison(config, console.log, {
      resume: opts.resume != null,
      shouldStop: () => stopRequested,
    });
    if (result.stopped) {
      console.error(
        `batchwise: stopped; checkpoint written under ${config.outDir}/checkpoints\nresume with: npx tsx cli/main.ts compare --resume ${config.outDir}`,
      );
      process.exit(130);
    }
    console.log("\n" + result.table);
    console.log(
      `\nrun log: ${result.files.csv}, ${result.files.parquet}\nreport:  ${result.files.html}`,
    );
    console.log(`total time ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  });

const sweep = program
  .command("sweep")
  .description(
    "Critical batch size: constant-batch runs of the CNN on Fashion-MNIST until a target test accuracy; fits S = S_min(1 + B_crit/B) and E = E_min(1 + B/B_crit) (McCandlish et al. 2018) and writes the fit and an S-vs-E report.",
  )
  .addOption(
    new Option("--backend <name>", "tfjs backend")
      .choices(["auto", ...BACKEND_NAMES])
      .default(process.env.BATCHWISE_BACKEND ?? "auto"),
  )
  .option("--quick", "4 batch sizes on a 12,000-example subset, target 0.8 (a few minutes)", false);
const sweepOptions = addSchemaOptions(sweep, sweepConfigSchema, {
  dataDir: ["--data <dir>", "Fashion-MNIST directory"],
  outDir: ["--out <dir>", "output directory (default runs/sweep)"],
  batchSizes: [
    "--batch-sizes <list>",
    "comma-separated batch sizes (default 32,64,128,256,512,1024)",
  ],
  targetAccuracy: ["--target-accuracy <acc>", "test accuracy each run trains to (default 0.85)"],
  maxEpochs: ["--max-epochs <n>", "give up on a run after n epochs (default 5)"],
  learningRate: ["--lr <rate>", "learning rate at the smallest B (default 1e-3)"],
  lrExponent: ["--lr-exponent <a>", "lr ∝ B^a across the sweep, in [0, 1] (default 0.5)"],
  evalEvery: ["--eval-every <epochs>", "evaluate every this many epochs (default 0.05)"],
  trainSubset: ["--train-subset <n>", "use the first n training examples (0 = all)"],
  testSubset: ["--test-subset <n>", "use the first n test examples (default 2000)"],
  microBatchSize: [
    "--micro-batch-size <m>",
    "memory cap: largest micro-batch per gradient (default 512)",
  ],
  seed: ["--seed <n>", "seed"],
  progress: ["--no-progress", "no progress bar / progress lines"],
});
sweep.action(async (opts) => {
  const quick = opts.quick
    ? {
        batchSizes: [32, 64, 128, 256],
        trainSubset: 12000,
        testSubset: 1000,
        targetAccuracy: 0.8,
      }
    : {};
  const config = parseSweepConfig({ ...quick, ...sweepOptions(opts) });
  const info = await initBackend(opts.backend);
  console.log(describeBackend(info));
  const r = await runSweep(config);
  console.log("\n" + r.table);
  console.log(`\nfit: ${r.files.fit}\nrun log: ${r.files.csv}\nreport: ${r.files.html}`);
});

program
  .command("simulate")
  .description(
    "Project a run log's batch sizes onto a cluster of data-parallel devices: wall-clock and cost per run (model: lib/cluster/simulator.ts).",
  )
  .requiredOption("--runlog <file>", "run log (.csv or .parquet) written by compare or sweep")
  .requiredOption(
    "--cluster <file>",
    "cluster model JSON: throughput [{batchSize, examplesPerSecond}], maxPerDeviceBatch, maxDevices, alpha, beta, gradientBytes, pricePerDeviceHour[, minDevices, rescaleSeconds]",
  )
  .action(async (opts) => {
    const rows = readRunLog(opts.runlog);
    let model: ClusterModel;
    try {
      model = JSON.parse(fs.readFileSync(opts.cluster, "utf8")) as ClusterModel;
    } catch (e) {
      throw new Error(`--cluster ${opts.cluster}: ${(e as Error).message}`);
    }
    const runs: Record<string, number[]> = {};
    for (const r of rows) (runs[r.run] ??= []).push(r.batchSize);
    console.log(formatProjections(compareRuns(runs, model)));
  });

program.parseAsync(process.argv).catch((e: unknown) => {
  const err = e as Error;
  console.error(`batchwise: ${err.name === "Error" ? "" : err.name + ": "}${err.message}`);
  process.exit(1);
});
