/**
 * Benchmark: ms per Adam training step and GFLOP/s for the four models of
 * ../shared/notes/wasm-training.md, on `wasm` + batchwise's kernel pack (1 thread),
 * stock `wasm` where it can train, and the pure-JS `cpu` backend — each configuration in its
 * own child process, measured in one run, printed side by side with the speed-up ratio.
 *
 *   npx tsx bench/step.ts                 # full table (the cpu rows take ~4 minutes)
 *   npx tsx bench/step.ts --skip-cpu      # wasm rows only
 *   npx tsx bench/step.ts --child wasm 1  # one configuration, JSON on stdout (internal)
 */
import { execFileSync } from "child_process";
import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "../lib/backend";
import { trainStep } from "../lib/train/step";
import { BENCH_CASES } from "./models";

interface Measure {
  config: string;
  model: string;
  batchSize: number;
  msPerStep: number | null;
  gflops: number | null;
  steps: number;
  error?: string;
}

async function child(backend: string, threads: number, pack: boolean, reps: number): Promise<void> {
  await initBackend(backend, { threads, kernelPack: pack });
  const out: Measure[] = [];
  const config =
    backend === "wasm"
      ? `wasm${pack ? " + kernel pack" : " (stock)"}, ${threads} thread${threads > 1 ? "s" : ""}`
      : backend;
  for (const c of BENCH_CASES) {
    const { model, task, batch, flops } = c.build();
    const opt = tf.train.adam(1e-3);
    const run = () =>
      trainStep(model, opt, task, batch, { microBatchSize: batch.size, learningRate: 1e-3 });
    try {
      const warm = backend === "cpu" ? 0 : 3;
      for (let i = 0; i < warm; i++) run();
      const t0 = performance.now();
      for (let i = 0; i < reps; i++) run();
      const ms = (performance.now() - t0) / reps;
      out.push({
        config,
        model: c.name,
        batchSize: c.batchSize,
        msPerStep: ms,
        gflops: flops / ms / 1e6,
        steps: reps,
      });
    } catch (e) {
      out.push({
        config,
        model: c.name,
        batchSize: c.batchSize,
        msPerStep: null,
        gflops: null,
        steps: 0,
        error: (e as Error).message.split("\n")[0],
      });
    }
    model.dispose();
    opt.dispose();
  }
  process.stdout.write(JSON.stringify(out) + "\n");
}

function runChild(args: string[]): Measure[] {
  const stdout = execFileSync(
    process.execPath,
    ["--import", "tsx", __filename, "--child", ...args],
    {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
      maxBuffer: 1 << 24,
    },
  );
  const line = stdout.trim().split("\n").pop() as string;
  return JSON.parse(line) as Measure[];
}

function fmt(x: number | null, digits: number): string {
  return x == null ? "—" : x.toFixed(digits);
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv[0] === "--child") {
    await child(argv[1], Number(argv[2]), argv[3] !== "stock", Number(argv[4] ?? 10));
    return;
  }
  const skipCpu = argv.includes("--skip-cpu");
  const reps = 10;
  const configs: string[][] = [
    ["wasm", "1", "pack", String(reps)],
    ["wasm", "1", "stock", "3"],
  ];
  if (!skipCpu) configs.push(["cpu", "1", "pack", "1"]);
  const results: Measure[] = [];
  for (const c of configs) {
    process.stderr.write(`measuring ${c.join(" ")} ...\n`);
    results.push(...runChild(c));
  }
  const base = results.filter((r) => r.config.startsWith("wasm + kernel pack, 1 thread"));
  const cpu = results.filter((r) => r.config === "cpu");
  console.log(`\nAdam training step, tfjs ${tf.version_core}, ${new Date().toISOString()}`);
  console.log("FLOPs: 3 × forward multiply-adds × 2 (conv/dense only), see lib/models/flops.ts\n");
  const header = ["model", "B", "backend", "ms/step", "GFLOP/s", "vs cpu"];
  const rows: string[][] = [];
  for (const r of results) {
    const c = cpu.find((q) => q.model === r.model);
    const ratio =
      c?.msPerStep != null && r.msPerStep != null
        ? `${(c.msPerStep / r.msPerStep).toFixed(0)}x`
        : "—";
    rows.push([
      r.model,
      String(r.batchSize),
      r.config,
      r.error
        ? r.error.startsWith("skipped")
          ? `— (${r.error.slice(0, 60)})`
          : `error: ${r.error.slice(0, 40)}`
        : fmt(r.msPerStep, 1),
      fmt(r.gflops, 2),
      ratio,
    ]);
  }
  rows.sort((a, b) => a[0].localeCompare(b[0]));
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    "| " + cells.map((c, i) => c.padEnd(widths[i])).join(" | ") + " |";
  console.log(line(header));
  console.log("|" + widths.map((w) => "-".repeat(w + 2)).join("|") + "|");
  for (const r of rows) console.log(line(r));
  const cnn = base.find((r) => r.model.startsWith("CNN"));
  if (cnn?.msPerStep != null) {
    console.log(
      `\nCNN B=64, wasm + kernel pack, 1 thread: ${cnn.msPerStep.toFixed(1)} ms/step; PyTorch 1.13 CPU, 1 thread, same machine kind: 50.6 ms (notes) → ${(cnn.msPerStep / 50.6).toFixed(2)}x PyTorch's time`,
    );
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
