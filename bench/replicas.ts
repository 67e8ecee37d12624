/**
 * Benchmark: data-parallel replicas inside the training loop — samples/s of `trainLoop` on the
 * main job's CNN (lib/models/small.ts) with K = 1 and K = 2 replicas (lib/parallel), constant
 * batch sizes, measured side by side in one run. The first `--warmup` updates of each run (worker
 * start, kernel warm-up) are not timed.
 *
 *   npx tsx bench/replicas.ts [--steps N] [--warmup N] [--backend wasm|tensorflow|…] [--batch-sizes 64,256,512]
 */
import { Command } from "commander";
import { describeBackend, initBackend } from "../lib/backend";
import { fashionMnistSplits, runCnn } from "../lib/jobs/common";
import { constantSchedule } from "../lib/schedules/constant";

const program = new Command()
  .option("--steps <n>", "timed updates per run", "30")
  .option("--warmup <n>", "untimed updates first", "4")
  .option("--backend <name>", "backend", "wasm")
  .option("--batch-sizes <list>", "batch sizes", "64,128,256,512")
  .option("--replicas <list>", "replica counts to compare with K=1", "2");

async function samplesPerSecond(
  data: ReturnType<typeof fashionMnistSplits>,
  B: number,
  K: number,
  warmup: number,
  steps: number,
): Promise<number> {
  const times: number[] = [];
  await runCnn({
    data,
    schedule: constantSchedule({ batchSize: B }),
    seed: 1,
    loop: {
      examplesBudget: B * (warmup + steps),
      learningRate: 1e-3,
      replicas: K,
      runName: `B=${B} K=${K}`,
    },
    hooks: [{ onRow: (row) => times.push(row.wallClock) }],
  });
  return (B * steps) / (times[warmup + steps - 1] - times[warmup - 1]);
}

async function main(): Promise<void> {
  const o = program.parse().opts();
  const steps = Number(o.steps);
  const warmup = Number(o.warmup);
  const info = await initBackend(o.backend);
  const data = fashionMnistSplits({ trainSubset: 20000, testSubset: 200 });
  const ks = String(o.replicas).split(",").map(Number);
  console.log(
    `${describeBackend(info)}; trainLoop on the main job's CNN, constant B, Adam; ${steps} timed updates after ${warmup}; ${new Date().toISOString()}\n`,
  );
  console.log(
    `| B | K=1 samples/s | ${ks.map((k) => `K=${k} samples/s | K=${k} / K=1`).join(" | ")} |`,
  );
  console.log(`|---|---|${ks.map(() => "---|---").join("|")}|`);
  for (const B of String(o.batchSizes).split(",").map(Number)) {
    const one = await samplesPerSecond(data, B, 1, warmup, steps);
    const cells: string[] = [];
    for (const k of ks) {
      const v = await samplesPerSecond(data, B, k, warmup, steps);
      cells.push(`${v.toFixed(0)} | ${(v / one).toFixed(2)}x`);
    }
    console.log(`| ${B} | ${one.toFixed(0)} | ${cells.join(" | ")} |`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
