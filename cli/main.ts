#!/usr/bin/env -S node --import tsx
/**
 * batchwise command line.
 *
 *   npx tsx cli/main.ts compare [options]   (default command: the main job)
 *   npx tsx cli/main.ts --help
 */
import { Command, InvalidArgumentError, Option } from "commander";
import { BACKEND_NAMES, describeBackend, initBackend } from "../lib/backend";
import {
  parseCompareConfig,
  QUICK_OVERRIDES,
  resumeConfig,
  runComparison,
} from "../lib/jobs/compare";
import { InterruptedError } from "../lib/train/loop";
import { parseSweepConfig, runSweep } from "../lib/jobs/sweep";
import * as fs from "fs";
import { readRunLog } from "../lib/report/runlog";
import { ClusterModel, compareRuns, formatProjections } from "../lib/cluster/simulator";
import { LR_RULE_NAMES, SCHEDULE_NAMES, SCHEDULES } from "../lib/schedules/registry";

function num(name: string) {
  return (v: string): number => {
    const x = Number(v);
    if (v.trim() === "" || !Number.isFinite(x))
      throw new InvalidArgumentError(`${name} must be a number, got '${v}'`);
    return x;
  };
}

function int(name: string) {
  return (v: string): number => {
    const x = Number(v);
    if (!Number.isInteger(x))
      throw new InvalidArgumentError(`${name} must be an integer, got '${v}'`);
    return x;
  };
}

/** Parses repeatable `key=value` options into an object (values stay strings; schemas parse them). */
function keyValue(flag: string) {
  return (v: string, prev: Record<string, string> | undefined): Record<string, string> => {
    const i = v.indexOf("=");
    if (i <= 0) throw new InvalidArgumentError(`${flag} must look like key=value, got '${v}'`);
    return { ...(prev ?? {}), [v.slice(0, i).trim()]: v.slice(i + 1).trim() };
  };
}

const program = new Command();
program
  .name("batchwise")
  .description("Adaptive batch sizes and the gradient noise scale for TensorFlow.js")
  .showHelpAfterError()
  .allowExcessArguments(false);

program
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
  .option("--data <dir>", "Fashion-MNIST directory (four IDX .gz files)")
  .option(
    "--out <dir>",
    "output directory for the run logs, checkpoints and report.html (default runs/latest)",
  )
  .option("--epochs <n>", "training budget in epochs (both runs)", num("--epochs"))
  .option("--batch-size <B>", "batch size of the constant run", int("--batch-size"))
  .option(
    "--initial-batch-size <B0>",
    "initial batch size of the growing run",
    int("--initial-batch-size"),
  )
  .option("--growth-factor <f>", "growth factor of the growing run (> 1)", num("--growth-factor"))
  .option("--growth-every <epochs>", "epochs between growths", num("--growth-every"))
  .option("--max-batch-size <B>", "largest batch size of the growing run", int("--max-batch-size"))
  .option("--lr <rate>", "Adam learning rate (fixed)", num("--lr"))
  .option(
    "--micro-batch-size <m>",
    "memory cap: largest micro-batch per gradient",
    int("--micro-batch-size"),
  )
  .option("--eval-every <epochs>", "evaluate every this many epochs", num("--eval-every"))
  .option(
    "--target-accuracy <acc>",
    "test accuracy to time both runs to, in (0, 1)",
    num("--target-accuracy"),
  )
  .option(
    "--train-subset <n>",
    "use the first n training examples (0 = all)",
    int("--train-subset"),
  )
  .option("--test-subset <n>", "use the first n test examples (0 = all)", int("--test-subset"))
  .option("--seed <n>", "seed for weights and sampling", int("--seed"))
  .addOption(
    new Option(
      "--schedule <name>",
      "batch-size schedule of the second run (default geodamp)",
    ).choices(SCHEDULE_NAMES as string[]),
  )
  .option(
    "--schedule-param <key=value>",
    "a parameter of the schedule, repeatable (e.g. --schedule-param dwell=10)",
    keyValue("--schedule-param"),
  )
  .addOption(
    new Option("--lr-rule <name>", "learning-rate rule when B changes (default none)").choices(
      LR_RULE_NAMES as string[],
    ),
  )
  .option(
    "--lr-rule-param <key=value>",
    "a parameter of the LR rule, repeatable (alpha, warmupSteps)",
    keyValue("--lr-rule-param"),
  )
  .option("--no-noise-scale", "do not estimate the gradient noise scale B_simple")
  .option(
    "--checkpoint-every <steps>",
    "write a checkpoint every this many model updates (0 = off)",
    int("--checkpoint-every"),
  )
  .option(
    "--checkpoint-minutes <m>",
    "write a checkpoint every this many minutes (0 = off)",
    num("--checkpoint-minutes"),
  )
  .option(
    "--resume <dir>",
    "continue the job whose output directory is <dir> (after a crash or Ctrl-C)",
  )
  .option("--no-progress", "no progress bar / progress lines")
  .addHelpText(
    "after",
    "\nSchedules (--schedule, parameters via --schedule-param):\n" +
      Object.entries(SCHEDULES)
        .map(([k, e]) => `  ${k.padEnd(12)} ${e.summary}`)
        .join("\n"),
  )
  .action(async (opts) => {
    const given: Record<string, unknown> = {
      dataDir: opts.data,
      outDir: opts.out,
      epochs: opts.epochs,
      batchSize: opts.batchSize,
      initialBatchSize: opts.initialBatchSize,
      growthFactor: opts.growthFactor,
      growthEvery: opts.growthEvery,
      maxBatchSize: opts.maxBatchSize,
      learningRate: opts.lr,
      microBatchSize: opts.microBatchSize,
      evalEvery: opts.evalEvery,
      targetAccuracy: opts.targetAccuracy,
      trainSubset: opts.trainSubset,
      testSubset: opts.testSubset,
      seed: opts.seed,
      progress: opts.progress,
      checkpointEvery: opts.checkpointEvery,
      schedule: opts.schedule,
      scheduleParams: opts.scheduleParam,
      lrRule: opts.lrRule,
      lrRuleParams: opts.lrRuleParam,
      noiseScale: opts.noiseScale,
      checkpointMinutes: opts.checkpointMinutes,
    };
    // --out has a default and --no-progress defaults to true: only options the user typed count.
    const typed = (key: string) => program.commands[0].getOptionValueSource(key) === "cli";
    const keyOf: Record<string, string> = {
      dataDir: "data",
      outDir: "out",
      learningRate: "lr",
      scheduleParams: "scheduleParam",
      lrRuleParams: "lrRuleParam",
    };
    const explicit = Object.fromEntries(
      Object.entries(given).filter(([k, v]) => v !== undefined && typed(keyOf[k] ?? k)),
    );
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
    let result;
    try {
      result = await runComparison(config, console.log, {
        resume: opts.resume != null,
        shouldStop: () => stopRequested,
      });
    } catch (e) {
      if (e instanceof InterruptedError) {
        console.error(
          `batchwise: ${e.message}\nresume with: npx tsx cli/main.ts compare --resume ${config.outDir}`,
        );
        process.exit(130);
      }
      throw e;
    }
    console.log("\n" + result.table);
    console.log(
      `\nrun log: ${result.files.csv}, ${result.files.parquet}\nreport:  ${result.files.html}`,
    );
    console.log(`total time ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  });

program
  .command("sweep")
  .description(
    "Critical batch size: constant-batch runs of the CNN on Fashion-MNIST until a target test accuracy; fits S = S_min(1 + B_crit/B) and E = E_min(1 + B/B_crit) (McCandlish et al. 2018) and writes the fit and an S-vs-E report.",
  )
  .addOption(
    new Option("--backend <name>", "tfjs backend")
      .choices(["auto", ...BACKEND_NAMES])
      .default(process.env.BATCHWISE_BACKEND ?? "auto"),
  )
  .option(
    "--batch-sizes <list>",
    "comma-separated batch sizes (default 32,64,128,256,512,1024)",
    (v: string) =>
      v.split(",").map((x) => {
        const n = Number(x.trim());
        if (!Number.isInteger(n))
          throw new InvalidArgumentError(`--batch-sizes must be integers, got '${x}'`);
        return n;
      }),
  )
  .option(
    "--target-accuracy <acc>",
    "test accuracy each run trains to (default 0.85)",
    num("--target-accuracy"),
  )
  .option("--max-epochs <n>", "give up on a run after n epochs (default 5)", num("--max-epochs"))
  .option("--lr <rate>", "learning rate at the smallest B (default 1e-3)", num("--lr"))
  .option(
    "--lr-exponent <a>",
    "lr ∝ B^a across the sweep, in [0, 1] (default 0.5)",
    num("--lr-exponent"),
  )
  .option(
    "--train-subset <n>",
    "use the first n training examples (0 = all)",
    int("--train-subset"),
  )
  .option("--test-subset <n>", "use the first n test examples (default 2000)", int("--test-subset"))
  .option("--quick", "4 batch sizes on a 12,000-example subset, target 0.8 (a few minutes)", false)
  .option("--data <dir>", "Fashion-MNIST directory")
  .option("--out <dir>", "output directory (default runs/sweep)")
  .option("--seed <n>", "seed", int("--seed"))
  .option("--no-progress", "no progress bar / progress lines")
  .action(async (opts) => {
    const given: Record<string, unknown> = {
      batchSizes: opts.batchSizes,
      targetAccuracy: opts.targetAccuracy,
      maxEpochs: opts.maxEpochs,
      learningRate: opts.lr,
      lrExponent: opts.lrExponent,
      trainSubset: opts.trainSubset,
      testSubset: opts.testSubset,
      dataDir: opts.data,
      outDir: opts.out,
      seed: opts.seed,
      progress: opts.progress,
    };
    const quick = opts.quick
      ? {
          batchSizes: [32, 64, 128, 256],
          trainSubset: 12000,
          testSubset: 1000,
          targetAccuracy: 0.8,
        }
      : {};
    const config = parseSweepConfig({
      ...quick,
      ...Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)),
    });
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
