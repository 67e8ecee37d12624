/**
 * Benchmark: ms per Adam training step (batchwise's multi-tensor Adam, lib/optim/adam.ts, the
 * main job's optimizer; same values as tf.train.adam) and GFLOP/s of the bench models
 * (bench/models.ts) on
 * every backend that loads here — `tensorflow` (the native backend, after
 * `npm run setup:native`), `wasm` + batchwise's kernel pack (1 thread), optionally stock
 * `wasm` and the pure-JS `cpu` backend — and PyTorch on the same models
 * (bench/pytorch_step.py, after `npm run setup:pytorch`) at 1 and 2 threads. Each
 * configuration runs in its own child process, all in one run, printed side by side with the
 * ratio of each time to PyTorch's at 2 threads (≤ 1.00x: faster than PyTorch).
 *
 *   npx tsx bench/step.ts                 # tensorflow, wasm + pack, PyTorch 1 and 2 threads
 *   npx tsx bench/step.ts --with-stock --with-cpu   # also stock wasm and cpu (~4 more minutes)
 *   npx tsx bench/step.ts --reps 20 --only MLP      # more timed steps, one model
 *   npx tsx bench/step.ts --child wasm 1 pack 10    # one configuration, JSON on stdout (internal)
 */
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as tf from "@tensorflow/tfjs-core";
import { Adam } from "../lib/optim/adam";
import { initBackend, nativeBackendBuilt } from "../lib/backend";
import { trainStep } from "../lib/train/step";
import { BENCH_CASES, type BenchCase } from "./models";

interface Measure {
  config: string;
  model: string;
  batchSize: number;
  msPerStep: number | null;
  gflops: number | null;
  steps: number;
  error?: string;
}

async function child(
  backend: string,
  threads: number,
  pack: boolean,
  reps: number,
  only: string | undefined,
): Promise<void> {
  await initBackend(backend, { threads, kernelPack: pack });
  const out: Measure[] = [];
  const config = configName(backend, threads, pack);
  for (const c of selectedCases(only)) {
    const { model, task, batch, flops } = c.build();
    const opt = new Adam({ learningRate: 1e-3 });
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
      out.push(notMeasured(config, c, (e as Error).message.split("\n")[0]));
    }
    model.dispose();
    opt.dispose();
  }
  process.stdout.write(JSON.stringify(out) + "\n");
}

/** The bench cases whose name contains `only` (all when it is undefined). */
function selectedCases(only: string | undefined): BenchCase[] {
  return BENCH_CASES.filter((c) => only == null || c.name.includes(only));
}

/** A row for a case that was not measured, saying why. */
function notMeasured(config: string, c: BenchCase, error: string): Measure {
  return {
    config,
    model: c.name,
    batchSize: c.batchSize,
    msPerStep: null,
    gflops: null,
    steps: 0,
    error,
  };
}

function configName(backend: string, threads: number, pack: boolean): string {
  return backend === "wasm"
    ? `wasm${pack ? " + kernel pack" : " (stock)"}, ${threads} thread${threads > 1 ? "s" : ""}`
    : backend;
}

function runChild(args: string[]): Measure[] {
  const stdout = execFileSync(
    process.execPath,
    ["--import", "tsx", __filename, "--child", ...args],
    {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
      maxBuffer: 1 << 24,
      env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: "2" },
    },
  );
  const line = stdout.trim().split("\n").pop() as string;
  return JSON.parse(line) as Measure[];
}

/** The project's virtual environment's Python (npm run setup:native / setup:pytorch). */
function venvPython(): string {
  return path.resolve(__dirname, "..", process.env.BATCHWISE_VENV ?? ".venv", "bin", "python");
}

/**
 * PyTorch rows from bench/pytorch_step.py at `threads` threads; when PyTorch is not installed
 * in the venv, one row per model saying so.
 */
function runPyTorch(threads: number, reps: number, only: string | undefined): Measure[] {
  const config = `PyTorch, ${threads} thread${threads > 1 ? "s" : ""}`;
  const py = venvPython();
  const absent = (why: string): Measure[] =>
    selectedCases(only).map((c) => notMeasured(config, c, `skipped: ${why}`));
  if (!fs.existsSync(py)) return absent("no venv (npm run setup:pytorch)");
  const has = spawnSync(py, ["-c", "import torch; print(torch.__version__)"], { encoding: "utf8" });
  if (has.status !== 0) return absent("PyTorch not installed (npm run setup:pytorch)");
  const argv = [
    path.join(__dirname, "pytorch_step.py"),
    "--threads",
    String(threads),
    "--reps",
    String(reps),
  ];
  if (only != null) argv.push("--only", only);
  const r = spawnSync(py, argv, {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    maxBuffer: 1 << 24,
  });
  if (r.status !== 0)
    return absent(`pytorch_step.py failed: ${(r.stderr ?? "").trim().split("\n").pop()}`);
  const rows = JSON.parse(r.stdout.trim().split("\n").pop() as string) as {
    model: string;
    batchSize: number;
    msPerStep: number | null;
    error?: string;
  }[];
  const names = new Set(BENCH_CASES.map((c) => c.name));
  return rows.map((q) => ({
    config: `${config} ${has.stdout.trim()}`,
    model: q.model,
    batchSize: q.batchSize,
    msPerStep: q.msPerStep,
    gflops: null,
    steps: reps,
    error: q.error ?? (names.has(q.model) ? undefined : "no tfjs case of this name"),
  }));
}

function fmt(x: number | null, digits: number): string {
  return x == null ? "—" : x.toFixed(digits);
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv[0] === "--child") {
    await child(argv[1], Number(argv[2]), argv[3] !== "stock", Number(argv[4] ?? 10), argv[5]);
    return;
  }
  const flag = (name: string) => argv.includes(name);
  const value = (name: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const reps = Number(value("--reps") ?? 10);
  if (!Number.isInteger(reps) || reps < 1)
    throw new Error(`--reps must be an integer >= 1, got ${value("--reps")}`);
  const only = value("--only");
  const configs: string[][] = [];
  if (nativeBackendBuilt("tensorflow")) configs.push(["tensorflow", "1", "pack", String(reps)]);
  else
    process.stderr.write(
      "tensorflow backend not built (npm run setup:native): its rows are skipped\n",
    );
  configs.push(["wasm", "1", "pack", String(reps)]);
  if (flag("--with-stock")) configs.push(["wasm", "1", "stock", "3"]);
  if (flag("--with-cpu")) configs.push(["cpu", "1", "pack", "1"]);
  const results: Measure[] = [];
  for (const c of configs) {
    process.stderr.write(`measuring ${configName(c[0], Number(c[1]), c[2] !== "stock")} ...\n`);
    results.push(...runChild(only != null ? [...c, only] : c));
  }
  for (const t of [1, 2]) {
    process.stderr.write(`measuring PyTorch, ${t} thread(s) ...\n`);
    results.push(...runPyTorch(t, reps, only));
  }
  printTable(results);
}

/** One row per model, one column per configuration, then each time / PyTorch 2 threads. */
function printTable(results: Measure[]): void {
  const configs = [...new Set(results.map((r) => r.config))];
  const models = [...new Set(results.map((r) => r.model))];
  const torch2 = configs.find((c) => c.startsWith("PyTorch, 2 threads"));
  const cell = (r: Measure | undefined): string =>
    r == null
      ? "—"
      : r.error
        ? r.error.startsWith("skipped")
          ? `— (${r.error.slice(9, 60)})`
          : `error: ${r.error.slice(0, 40)}`
        : `${fmt(r.msPerStep, 1)}${r.gflops != null ? ` (${fmt(r.gflops, 1)})` : ""}`;
  const header = ["model", "B", ...configs];
  const ratioConfigs = configs.filter((c) => !c.startsWith("PyTorch"));
  if (torch2 != null) header.push(...ratioConfigs.map((c) => `${c.split(",")[0]} / PyTorch 2t`));
  const rows = models.map((m) => {
    const of = (c: string) => results.find((r) => r.model === m && r.config === c);
    const t2 = torch2 != null ? of(torch2)?.msPerStep : null;
    const row = [
      m,
      String(results.find((r) => r.model === m)?.batchSize ?? ""),
      ...configs.map((c) => cell(of(c))),
    ];
    if (torch2 != null) {
      for (const c of ratioConfigs) {
        const ms = of(c)?.msPerStep;
        row.push(ms != null && t2 != null ? `${(ms / t2).toFixed(2)}x` : "—");
      }
    }
    return row;
  });
  console.log(
    `\nAdam training step, ms/step (GFLOP/s), tfjs ${tf.version_core}, ${new Date().toISOString()}`,
  );
  console.log("FLOPs: 3 × forward multiply-adds × 2 (conv/dense only), see lib/models/flops.ts\n");
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    "| " + cells.map((c, i) => c.padEnd(widths[i])).join(" | ") + " |";
  console.log(line(header));
  console.log("|" + widths.map((w) => "-".repeat(w + 2)).join("|") + "|");
  for (const r of rows) console.log(line(r));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
