/**
 * Elastic replicas: which number of data-parallel replicas K and which micro-batch size to use
 * for a batch size B, from throughput measured on this machine.
 *
 * The table holds examples/s of one full update (forward, backward, averaging, optimizer step)
 * at (B, K); K for a batch is the fastest measured K at the nearest measured B (in log B),
 * re-decided only when B changes and only switched when the gain exceeds the anti-flapping
 * threshold (lib/schedules/threshold.ts). This is the resource half of Pollux's goodput (Qiao et
 * al., OSDI'21, §3–4: choose the batch size and the allocation together) and the adadamp
 * package's Dask rule (workers = B / grads_per_worker), with the rule replaced by a measurement.
 *
 * The micro-batch size is chosen for throughput too: examples/s of one replica against the
 * micro-batch size m (cache effects make large single batches slower per example on a CPU);
 * the best m (capped by the memory cap) is every replica's micro-batch, and those micro-batches
 * are the noise scale's small batches.
 */
import * as tfl from "@tensorflow/tfjs-layers";
import { z } from "zod";
import { ConfigError } from "../core/errors";
import { parseOptions } from "../core/schema";
import type { DataSource, StepBatch } from "../data/source";
import type { Task } from "../grad/task";
import { withWeightsRestoredAsync } from "../grad/weights";
import { Adam } from "../optim/adam";
import type { DataParallel } from "../parallel/data-parallel";
import { DEFAULT_CHANGE_THRESHOLD } from "../schedules/threshold";
import { trainStepAsync } from "./step";

/** One measured point: examples/s of an update at batch size B with K replicas. */
export interface ReplicaThroughputPoint {
  batchSize: number;
  replicas: number;
  examplesPerSecond: number;
}

/** Examples/s of one replica's update against its micro-batch size. */
export interface MicroBatchThroughputPoint {
  microBatchSize: number;
  examplesPerSecond: number;
}

/** What the loop measured and decided; plain JSON, saved in checkpoints (`LoopState.replicaPlan`). */
export interface ReplicaPlanState {
  /** The micro-batch curve (empty until measured). */
  microBatchCurve: MicroBatchThroughputPoint[];
  /** The chosen micro-batch size, or null until measured. */
  microBatchSize: number | null;
  /** The (B, K) table, grown as new batch sizes are met. */
  table: ReplicaThroughputPoint[];
  /** K in force and the batch size it was chosen for (null before the first update). */
  replicas: number | null;
  batchSize: number | null;
  /** Seconds spent measuring (excluded from the run's wall-clock, like evaluation). */
  probeSeconds: number;
}

const positiveInt = z.number().int().positive();
const rate = z.number().positive().finite();

/** Schema of {@link ReplicaPlanState} (a plan read from a file, e.g. a job's machine.json). */
export const replicaPlanSchema = z
  .object({
    microBatchCurve: z.array(
      z.object({ microBatchSize: positiveInt, examplesPerSecond: rate }).strict(),
    ),
    microBatchSize: positiveInt.nullable(),
    table: z.array(
      z.object({ batchSize: positiveInt, replicas: positiveInt, examplesPerSecond: rate }).strict(),
    ),
    replicas: positiveInt.nullable(),
    batchSize: positiveInt.nullable(),
    probeSeconds: z.number().nonnegative().finite(),
  })
  .strict();

/**
 * Validates a plan read from JSON.
 * @param source - How errors name it (e.g. the file).
 * @throws ConfigError naming every bad field and value.
 */
export function parseReplicaPlan(input: unknown, source: string): ReplicaPlanState {
  return { ...parseOptions(replicaPlanSchema, input, `invalid replica plan in ${source}`) };
}

/** The empty plan. */
export function emptyReplicaPlan(): ReplicaPlanState {
  return {
    microBatchCurve: [],
    microBatchSize: null,
    table: [],
    replicas: null,
    batchSize: null,
    probeSeconds: 0,
  };
}

/**
 * The power of two nearest B in log space (ties go down): the table's measuring point for B.
 * @param batchSize - B, examples, ≥ 1.
 * @returns 2^round(log2 B), e.g. 45 → 32, 46 → 64.
 * @throws ConfigError if B < 1 or not a number.
 */
export function batchBucket(batchSize: number): number {
  if (!(batchSize >= 1)) throw new ConfigError(`batchSize must be >= 1, got ${batchSize}`);
  return 2 ** Math.round(Math.log2(batchSize) - 1e-9);
}

/**
 * The micro-batch size with the most examples/s; among sizes within `tolerance` of the best, the
 * largest (fewer micro-batches, less per-call overhead). Pure.
 * @throws ConfigError on an empty curve.
 */
export function bestMicroBatch(
  curve: readonly MicroBatchThroughputPoint[],
  tolerance = 0.03,
): number {
  if (curve.length === 0) throw new ConfigError("bestMicroBatch: empty micro-batch curve");
  const top = Math.max(...curve.map((p) => p.examplesPerSecond));
  return Math.max(
    ...curve
      .filter((p) => p.examplesPerSecond >= top * (1 - tolerance))
      .map((p) => p.microBatchSize),
  );
}

/**
 * K for batch size B from the table: the fastest K at B's bucket — or, when that bucket was not
 * measured, at the measured batch size nearest B in log space — with K ≤ B, except that the
 * current K stays when the best beats it by no more than `threshold` (anti-flapping). Pure.
 * @param table - Measured points (at least one with K ≤ B).
 * @param current - K in force, or null.
 * @throws ConfigError when the table has no point with K ≤ B.
 */
export function chooseReplicas(
  table: readonly ReplicaThroughputPoint[],
  batchSize: number,
  current: number | null,
  threshold = DEFAULT_CHANGE_THRESHOLD,
): number {
  const usable = table.filter((p) => p.replicas <= batchSize);
  if (usable.length === 0) {
    throw new ConfigError(`no throughput measured with K <= ${batchSize} (for B = ${batchSize})`);
  }
  const bucket = batchBucket(batchSize);
  const dist = (b: number) => Math.abs(Math.log2(b / bucket));
  const nearest = usable.reduce(
    (a, p) => (dist(p.batchSize) < dist(a) ? p.batchSize : a),
    usable[0].batchSize,
  );
  const at = usable.filter((p) => p.batchSize === nearest);
  const best = at.reduce((a, p) => (p.examplesPerSecond > a.examplesPerSecond ? p : a));
  const cur = at.find((p) => p.replicas === current);
  if (cur != null && best.examplesPerSecond <= cur.examplesPerSecond * (1 + threshold)) {
    return cur.replicas;
  }
  return best.replicas;
}

/**
 * The best examples/s the machine reaches at each measured B (over K): the throughput curve a
 * goodput schedule multiplies with statistical efficiency. Sorted by B. Pure.
 */
export function machineThroughputCurve(
  table: readonly ReplicaThroughputPoint[],
): { batchSize: number; examplesPerSecond: number }[] {
  const best = new Map<number, number>();
  for (const p of table)
    best.set(p.batchSize, Math.max(best.get(p.batchSize) ?? 0, p.examplesPerSecond));
  return [...best.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([batchSize, examplesPerSecond]) => ({ batchSize, examplesPerSecond }));
}

/** What the measurements need: the model (restored after), its task and data, the pool. */
export interface ReplicaProbeArgs {
  model: tfl.LayersModel;
  task: Task;
  train: DataSource;
  /** The started pool, or null (then only K = 1 is measured). */
  parallel: DataParallel | null;
  /** Untimed steps before timing each point (default 1). */
  warmupSteps?: number;
  /** Timed steps per point (default 2). */
  steps?: number;
}

/**
 * Examples/s of each case's update on one probe batch of `batchSize` examples (the first ones of
 * the data): `warmupSteps` untimed updates, then `steps` timed ones, with a throwaway Adam; the
 * model's weights are restored bit for bit afterwards.
 */
async function timeUpdates<C>(
  args: ReplicaProbeArgs,
  batchSize: number,
  cases: readonly C[],
  update: (c: C, batch: StepBatch, optimizer: Adam) => unknown | Promise<unknown>,
): Promise<number[]> {
  const batch = args.train.batch(
    Int32Array.from({ length: batchSize }, (_, i) => i % args.train.n),
  );
  const steps = args.steps ?? 2;
  const optimizer = new Adam({ learningRate: PROBE_LR });
  try {
    return await withWeightsRestoredAsync(args.model, async () => {
      const out: number[] = [];
      for (const c of cases) {
        for (let i = 0; i < (args.warmupSteps ?? 1); i++) await update(c, batch, optimizer);
        const t0 = performance.now();
        for (let i = 0; i < steps; i++) await update(c, batch, optimizer);
        out.push((steps * batchSize) / ((performance.now() - t0) / 1000));
      }
      return out;
    });
  } finally {
    optimizer.dispose();
  }
}

/** Learning rate of the probes' updates (the weights are restored anyway). */
const PROBE_LR = 1e-3;

/**
 * Examples/s of one replica's update (K = 1) at batch `batchSize` split into micro-batches of
 * each size in `sizes`. Timed with a throwaway Adam; the model's weights are restored bit for
 * bit afterwards.
 * @throws ConfigError for a size that is not an integer ≥ 1.
 */
export async function measureMicroBatchCurve(
  args: ReplicaProbeArgs,
  batchSize: number,
  sizes: readonly number[],
): Promise<MicroBatchThroughputPoint[]> {
  sizes.forEach((m) => {
    if (!Number.isInteger(m) || m < 1)
      throw new ConfigError(`micro-batch sizes must be integers >= 1, got ${m}`);
  });
  const rates = await timeUpdates(args, batchSize, sizes, (m, batch, opt) =>
    trainStepAsync(args.model, opt, args.task, batch, {
      microBatchSize: m,
      learningRate: PROBE_LR,
    }),
  );
  return sizes.map((m, i) => ({ microBatchSize: m, examplesPerSecond: rates[i] }));
}

/**
 * Examples/s of a full update at batch size B with each K in `replicas` (K ≤ B; K ≥ 2 needs the
 * pool, other K are skipped), every replica splitting its shard into micro-batches of
 * `microBatchSize`. Timed with a throwaway Adam; the model's weights are restored bit for bit
 * afterwards.
 */
export async function measureReplicaThroughput(
  args: ReplicaProbeArgs,
  batchSize: number,
  replicas: readonly number[],
  microBatchSize: number,
): Promise<ReplicaThroughputPoint[]> {
  const dp = args.parallel;
  const ks = replicas.filter(
    (K) => K <= batchSize && (K === 1 || (dp != null && K <= dp.maxReplicas)),
  );
  const rates = await timeUpdates(args, batchSize, ks, (K, batch, opt) =>
    K === 1
      ? trainStepAsync(args.model, opt, args.task, batch, {
          microBatchSize,
          learningRate: PROBE_LR,
        })
      : (dp as DataParallel).step(opt, batch, {
          replicas: K,
          microBatchSize,
          learningRate: PROBE_LR,
        }),
  );
  return ks.map((K, i) => ({ batchSize, replicas: K, examplesPerSecond: rates[i] }));
}

/**
 * Measures the micro-batch curve at min(cap, 256) over m = 16, 32, … ≤ that, and chooses m.
 * @returns the curve and the chosen micro-batch size (≤ `cap`).
 */
export async function chooseMicroBatch(
  args: ReplicaProbeArgs,
  cap: number,
): Promise<{ curve: MicroBatchThroughputPoint[]; microBatchSize: number }> {
  const top = Math.min(cap, 256);
  const sizes: number[] = [];
  for (let m = Math.min(16, top); m < top; m *= 2) sizes.push(m);
  sizes.push(top);
  const curve = await measureMicroBatchCurve(args, top, sizes);
  return { curve, microBatchSize: bestMicroBatch(curve) };
}

/**
 * The plan's K and micro-batch size for batch B: measures what is missing (the micro-batch curve
 * once; the (B, K) points at B's bucket for K = 1 … K_max once per bucket, unless `measure` is
 * false — then the nearest measured bucket decides), then chooses.
 * @param args.measure - Whether a missing bucket may be measured (default true; the loop passes
 *   false when fewer than 20 updates of this B are left, e.g. the last, clipped batch).
 * @param args.chooseReplicas - Whether to measure the table and choose K (default true; false
 *   when K is fixed and only the micro-batch size is chosen).
 * @returns the new plan state (the input is not changed).
 */
export async function planReplicas(
  plan: ReplicaPlanState,
  args: ReplicaProbeArgs & {
    maxReplicas: number;
    microBatchCap: number;
    measure?: boolean;
    chooseReplicas?: boolean;
  },
  batchSize: number,
): Promise<ReplicaPlanState> {
  let next = plan;
  const t0 = performance.now();
  if (next.microBatchSize == null) {
    const { curve, microBatchSize } = await chooseMicroBatch(args, args.microBatchCap);
    next = { ...next, microBatchCurve: curve, microBatchSize };
  }
  if (!(args.chooseReplicas ?? true)) {
    return { ...next, probeSeconds: next.probeSeconds + (performance.now() - t0) / 1000 };
  }
  const bucket = batchBucket(batchSize);
  const missing = !next.table.some((p) => p.batchSize === bucket);
  if (missing && ((args.measure ?? true) || next.table.length === 0)) {
    const ks = Array.from({ length: args.maxReplicas }, (_, i) => i + 1);
    const pts = await measureReplicaThroughput(args, bucket, ks, next.microBatchSize as number);
    next = {
      ...next,
      table: [...next.table, ...pts].sort(
        (a, b) => a.batchSize - b.batchSize || a.replicas - b.replicas,
      ),
    };
  }
  const probeSeconds = next.probeSeconds + (performance.now() - t0) / 1000;
  if (next.batchSize === batchSize && next.replicas != null) return { ...next, probeSeconds };
  const replicas = Math.min(chooseReplicas(next.table, batchSize, next.replicas), batchSize);
  return { ...next, replicas, batchSize, probeSeconds };
}
