/**
 * The settings of one training run, with their defaults in one zod schema: a caller of
 * `trainLoop` sets only what differs (at least `examplesBudget` and `learningRate`).
 */
import { z } from "zod";
import { parseOptions } from "../core/schema";

const positiveInt = z.number().int().positive();

/** Schema of {@link LoopConfig}; unknown keys are rejected. */
export const loopConfigSchema = z
  .object({
    /** Name of the run in the log. */
    runName: z.string().min(1).default("run"),
    /** Training examples to process in total; the last batch is clipped to fit. Integer ≥ 1. */
    examplesBudget: positiveInt,
    /** Base learning rate (> 0); the schedule's lrFactor multiplies it. */
    learningRate: z.number().positive().finite(),
    /** Largest micro-batch that fits in memory (examples), integer ≥ 1. */
    microBatchSize: positiveInt.default(512),
    /**
     * Evaluate on the test set every this many training examples (and at the end); absent =
     * only at the end.
     */
    evalEvery: z.number().positive().finite().optional(),
    /** Examples per evaluation forward pass. */
    evalBatchSize: positiveInt.default(1000),
    /** Seed of the data sampler (and of the probe subset for F(x_k)). */
    seed: z.number().int().nonnegative().default(1),
    /** A training loss above this (or NaN/Inf) raises ConvergenceError. */
    maxLoss: z.number().positive().default(1e3),
    /**
     * With a noise-scale estimator: split a sampled update's batch into at least this many
     * micro-batches (micro-batch size min(cap, ⌈B/k⌉)) so it yields an estimate; 0 or 1 = only
     * the memory cap splits.
     */
    noiseMicroBatches: z.number().int().nonnegative().default(2),
    /**
     * Force that split only on every this-many-th update: a split costs ≈ 3% of a small-batch
     * step on wasm (B = 64 → 2 × 32, bench/noise-overhead.ts --as-main-job), so the estimator
     * samples 1 update in 4 and its cost stays under 3%. Updates whose batch exceeds the memory
     * cap are split anyway and always give an estimate.
     */
    noiseEvery: positiveInt.default(4),
    /**
     * Per-layer B_simple (lib/noise/per-layer.ts): split the sampled updates' micro-batch norms
     * by trainable variable, run a per-layer estimator, and log `bSimpleLayers` (run-log
     * columns `b_simple_layer:<layer>`). Default false. Sampled updates as for `noiseEvery`.
     */
    perLayerNoise: z.boolean().default(false),
    /**
     * Data-parallel replicas K (lib/parallel/data-parallel.ts): an integer ≥ 1 (1 = train in the
     * model's thread only), or "auto": K for each batch size from throughput measured on this
     * machine, re-decided when B changes (lib/train/replica-plan.ts). Default 1.
     */
    replicas: z.union([positiveInt, z.literal("auto")]).default(1),
    /** Largest K for "auto" (default: the machine's logical cores, `os.availableParallelism()`). */
    maxReplicas: positiveInt.optional(),
    /**
     * Choose the micro-batch size for throughput (the fastest measured size ≤ `microBatchSize`,
     * lib/train/replica-plan.ts) instead of using the memory cap; default: on with
     * `replicas: "auto"`, off otherwise.
     */
    microBatchForThroughput: z.boolean().optional(),
    /** Stop after the first evaluation whose test accuracy reaches this value (a B_crit sweep). */
    stopAtAccuracy: z.number().gt(0).lte(1).optional(),
  })
  .strict();

/** Settings of one training run, defaults filled in (see {@link loopConfigSchema}). */
export type LoopConfig = z.output<typeof loopConfigSchema>;

/** What a caller passes: {@link LoopConfig} with every defaulted key optional. */
export type LoopConfigInput = z.input<typeof loopConfigSchema>;

/**
 * Validates a loop configuration and fills in the defaults.
 * @throws ConfigError naming every bad key and its value, and unknown keys.
 * @example parseLoopConfig({ examplesBudget: 60000, learningRate: 1e-3 }).microBatchSize // 512
 */
export function parseLoopConfig(input: LoopConfigInput): LoopConfig {
  return parseOptions(loopConfigSchema, input, "invalid training-loop configuration");
}

/**
 * The micro-batch size of update `step` (0-based): the memory cap, or — on every
 * `noiseEvery`-th update when a noise-scale estimator runs — small enough that the batch splits
 * into `noiseMicroBatches` parts, min(cap, ⌈B/k⌉).
 * @example noiseSplit(cfg, 0, 64, true) // 32 with the defaults (k = 2)
 */
export function noiseSplit(
  config: Pick<LoopConfig, "microBatchSize" | "noiseMicroBatches" | "noiseEvery">,
  step: number,
  batchSize: number,
  estimating: boolean,
): number {
  const k = estimating && step % config.noiseEvery === 0 ? config.noiseMicroBatches : 1;
  return k >= 2
    ? Math.min(config.microBatchSize, Math.max(1, Math.ceil(batchSize / k)))
    : config.microBatchSize;
}

/** When a checkpoint is due: asked to stop, or `everySteps` updates / `everySeconds` passed. */
export function checkpointDue(
  c: { everySteps: number; everySeconds: number },
  stepsSinceSave: number,
  secondsSinceSave: number,
  stopping: boolean,
): boolean {
  return (
    stopping ||
    (c.everySteps > 0 && stepsSinceSave >= c.everySteps) ||
    (c.everySeconds > 0 && secondsSinceSave >= c.everySeconds)
  );
}
