/**
 * Committed results of the GPU run kit (scripts/gpu/README.md): one folder per run under
 * `docs/gpu-runs/` with `run.json` (date, device, code, commands), `results.json` (the checks,
 * scripts/gpu/checks.ts) and, where PyTorch ran on the same GPU, `anchor.json`
 * (bench/pytorch_step.py --device cuda). Read and validated here so notebook 4 can show them
 * beside the CPU numbers and the seed's; examples/s are 1000·B / (ms per update).
 */
import * as fs from "fs";
import * as path from "path";
import { z } from "zod";
import { ConfigError } from "../core/errors";
import { parseOptions } from "../core/schema";

/** Where the runs are committed (absolute; independent of the working directory). */
export const DEFAULT_GPU_RUNS_DIR = path.resolve(__dirname, "..", "..", "docs", "gpu-runs");

const ms = z.number().positive().nullable();

const runInfoSchema = z
  .object({
    date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
    device: z.string().min(1),
    code: z.string().min(1),
    backend: z.string().min(1),
  })
  .passthrough();

const sweepPointSchema = z.object({
  model: z.string(),
  batchSize: z.number().int().positive(),
  msPerStep: ms,
  examplesPerSecond: z.number().positive().nullable(),
  error: z.string().optional(),
});

const resultsSchema = z
  .object({
    started: z.string(),
    mode: z.literal("gpu"),
    backend: z.object({ name: z.string(), description: z.string() }).passthrough(),
    batchSweep: z.array(sweepPointSchema).optional(),
    efficientNetLamb: z
      .array(z.object({ batchSize: z.number().int().positive(), msPerStep: ms }).passthrough())
      .optional(),
    mainJobQuick: z
      .array(
        z
          .object({
            run: z.string(),
            updates: z.number().int(),
            wallClockSeconds: z.number(),
            testAccuracy: z.number().nullable(),
            secondsToTarget: z.number().nullable(),
            batchSizes: z.array(z.number().int().positive()),
          })
          .passthrough(),
      )
      .optional(),
    notebook4: z
      .object({
        dataset: z.string(),
        seconds: z.number().positive(),
        runs: z.array(
          z.object({
            label: z.string(),
            batchSize: z.number().int().positive(),
            learningRate: z.number().positive(),
            seconds: z.number(),
            updates: z.number().int(),
            epochs: z.number(),
            trainAccuracy: z.number(),
            valAccuracy: z.number(),
          }),
        ),
      })
      .passthrough()
      .optional(),
    filterGrads: z
      .array(
        z
          .object({ model: z.string(), batchSize: z.number(), msTfjs: ms, msBatchwise: ms })
          .passthrough(),
      )
      .optional(),
  })
  .passthrough();

const anchorSchema = z.array(
  z.object({
    args: z.array(z.string()),
    results: z
      .array(
        z
          .object({
            model: z.string(),
            batchSize: z.number().int().positive(),
            msPerStep: ms,
            error: z.string().optional(),
          })
          .passthrough(),
      )
      .optional(),
    error: z.string().optional(),
  }),
);

/** One committed GPU run, validated. */
export interface GpuRun {
  /** Its folder. */
  dir: string;
  info: z.infer<typeof runInfoSchema>;
  results: z.infer<typeof resultsSchema>;
  /** PyTorch on the same GPU: every row of anchor.json ([] when there is none). */
  anchor: { model: string; batchSize: number; msPerStep: number | null; error?: string }[];
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    throw new ConfigError(`${file}: not readable JSON: ${(e as Error).message}`);
  }
}

/**
 * The committed GPU runs under `dir`, oldest first (by `run.json`'s date, then folder name);
 * [] when the folder is missing or holds none — the notebooks say so rather than fail.
 * @param dir the folder of runs (default {@link DEFAULT_GPU_RUNS_DIR}).
 * @throws ConfigError naming the file and field when a run's files are malformed or its
 *   results.json is missing.
 */
export function loadGpuRuns(dir: string = DEFAULT_GPU_RUNS_DIR): GpuRun[] {
  if (!fs.existsSync(dir)) return [];
  const runs: GpuRun[] = [];
  for (const name of fs.readdirSync(dir).sort()) {
    const runDir = path.join(dir, name);
    const infoFile = path.join(runDir, "run.json");
    if (!fs.existsSync(infoFile)) continue;
    const resultsFile = path.join(runDir, "results.json");
    if (!fs.existsSync(resultsFile)) {
      throw new ConfigError(`${runDir}: has run.json but no results.json`);
    }
    const anchorFile = path.join(runDir, "anchor.json");
    const anchor = fs.existsSync(anchorFile)
      ? parseOptions(anchorSchema, readJson(anchorFile), anchorFile).flatMap((a) => a.results ?? [])
      : [];
    runs.push({
      dir: runDir,
      info: parseOptions(runInfoSchema, readJson(infoFile), infoFile),
      results: parseOptions(resultsSchema, readJson(resultsFile), resultsFile),
      anchor,
    });
  }
  return runs.sort((a, b) => a.info.date.localeCompare(b.info.date));
}

/** Examples/s of a model at B on the GPU: batchwise on webgpu and PyTorch, null where not run. */
export interface GpuThroughputPoint {
  batchSize: number;
  webgpu: number | null;
  pytorch: number | null;
}

/**
 * Examples/s against B for `model` (a bench/models.ts case name) in a run: the batch sweep on
 * webgpu and PyTorch's rows for the same model, one point per B either measured, ascending.
 * When PyTorch timed a B twice (the bench at its own B, the sweep), the sweep's row counts.
 */
export function gpuThroughput(run: GpuRun, model: string): GpuThroughputPoint[] {
  const rate = (b: number, msPerStep: number | null) =>
    msPerStep != null && msPerStep > 0 ? (1000 * b) / msPerStep : null;
  const points = new Map<number, GpuThroughputPoint>();
  const at = (b: number) => {
    if (!points.has(b)) points.set(b, { batchSize: b, webgpu: null, pytorch: null });
    return points.get(b) as GpuThroughputPoint;
  };
  for (const p of run.results.batchSweep ?? []) {
    if (p.model === model && p.msPerStep != null)
      at(p.batchSize).webgpu = rate(p.batchSize, p.msPerStep);
  }
  for (const p of run.anchor) {
    if (p.model === model && p.msPerStep != null)
      at(p.batchSize).pytorch = rate(p.batchSize, p.msPerStep);
  }
  return [...points.values()].sort((a, b) => a.batchSize - b.batchSize);
}

/**
 * examples/s at B = `to` over examples/s at B = `from` (null where either is missing).
 * @example throughputRatio([{ batchSize: 64, webgpu: 100, pytorch: null },
 *   { batchSize: 1024, webgpu: 900, pytorch: null }], "webgpu") // 9
 */
export function throughputRatio(
  points: readonly GpuThroughputPoint[],
  side: "webgpu" | "pytorch",
  from = 64,
  to = 1024,
): number | null {
  const a = points.find((p) => p.batchSize === from)?.[side];
  const b = points.find((p) => p.batchSize === to)?.[side];
  return a != null && b != null ? b / a : null;
}
