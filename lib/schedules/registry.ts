/**
 * Schedules and learning-rate rules by name, with their parameters validated: what the CLI's
 * `--schedule <name> --schedule-param k=v` calls.
 *
 * To add a schedule: add one entry to {@link SCHEDULES} — a zod `.strict()` object of its
 * parameters (use {@link numParam} / {@link intParam} so that CLI strings parse) and a
 * `build(params, ctx)` that calls the schedule's factory (which validates ranges itself).
 */
import { z } from "zod";
import { adaDampSchedule } from "./adadamp";
import { cbsWarmupSchedule } from "./cbs-warmup";
import { constantSchedule } from "./constant";
import { gdSchedule } from "./gd";
import { geoDampLRSchedule, geoDampSchedule } from "./geodamp";
import { linearSchedule } from "./linear";
import {
  adaScaleRule,
  linearRule,
  LrRule,
  noLrRule,
  powerRule,
  sqrtRule,
  surgeRule,
} from "./lr-rules";
import { padaDampSchedule } from "./padadamp";
import { radaDampSchedule } from "./radadamp";
import { noiseScaleSchedule } from "./noise-scale";
import { goodputSchedule } from "./goodput";
import { seesawSchedule } from "./seesaw";
import { BatchSchedule, ScheduleConfigError } from "./types";

/** What a schedule may need to know about the run when it is built. */
export interface ScheduleContext {
  /** Training-set size n, integer ≥ 1. */
  datasetSize: number;
}

/**
 * A numeric parameter: a finite number, or a string that parses as one (CLI values arrive as
 * strings: "64", "1e-3", " 0.5 "). Ranges are checked by the schedule's factory.
 */
export const numParam = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const x = typeof v === "number" ? v : v.trim() === "" ? NaN : Number(v.trim());
  if (!Number.isFinite(x)) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: `must be a finite number` });
    return z.NEVER;
  }
  return x;
});

/** An integer parameter (number or numeric string); ranges are checked by the factory. */
export const intParam = numParam.refine((x) => Number.isInteger(x), {
  message: "must be an integer",
});

/** One registry entry: the parameter schema and the factory. */
export interface ScheduleEntry<T extends z.ZodTypeAny = z.ZodTypeAny> {
  /** One line for `--help`. */
  summary: string;
  /** zod `.strict()` object of the parameters. */
  schema: T;
  /** Builds the schedule from validated parameters. */
  build(params: z.infer<T>, ctx: ScheduleContext): BatchSchedule<unknown>;
  /**
   * Parameters a job fills in from its own batch options before the user's `scheduleParams`;
   * default {@link defaultJobParams}: `initialBatchSize`, `maxBatchSize`, `batchSize` where the
   * schema has them.
   */
  jobDefaults?(job: JobBatchOptions): Record<string, unknown>;
  /**
   * What a job must measure and pass as a parameter before building: `"throughput"` = the
   * examples/s-against-B curve of the job's model on the current backend (parameter
   * `throughput`).
   */
  needs?: readonly "throughput"[];
  /** The run's name in logs and reports, from the final parameters. */
  label?(params: Record<string, unknown>): string;
  /** One sentence for a report on what the schedule did, from the final parameters. */
  describe?(params: Record<string, unknown>): string;
}

/** The batch options of a job that schedules may take their defaults from. */
export interface JobBatchOptions {
  initialBatchSize: number;
  maxBatchSize: number;
  growthFactor: number;
  growthEvery: number;
}

/**
 * The job defaults of a schedule without its own `jobDefaults`: `initialBatchSize`,
 * `maxBatchSize` (at least B_0) and `batchSize` (= B_0), each only where the schema has it.
 */
export function defaultJobParams(
  entry: ScheduleEntry,
  job: JobBatchOptions,
): Record<string, unknown> {
  const keys = Object.keys((entry.schema as z.AnyZodObject).shape);
  const all: Record<string, unknown> = {
    initialBatchSize: job.initialBatchSize,
    maxBatchSize: Math.max(job.maxBatchSize, job.initialBatchSize),
    batchSize: job.initialBatchSize,
  };
  return Object.fromEntries(Object.entries(all).filter(([k]) => keys.includes(k)));
}

/**
 * Typed helper for writing a {@link SCHEDULES} entry: returns its argument, letting
 * TypeScript infer `build`'s `params` from `schema`.
 * @param entry - `{summary, schema, build}`; `schema` a zod `.strict()` object.
 * @returns The same entry.
 * @example
 * ```ts
 * scheduleEntry({
 *   summary: "constant batch size",
 *   schema: z.object({ batchSize: intParam }).strict(),
 *   build: (p) => constantSchedule(p),
 * });
 * ```
 */
export function scheduleEntry<T extends z.ZodTypeAny>(entry: ScheduleEntry<T>): ScheduleEntry<T> {
  return entry;
}

const changeThreshold = numParam.optional();

/**
 * The recomputation parameters every damper takes (see `resolveRecompute` in ./dwell):
 * `preset` "paper" (Algorithm 1: every update, the default) or "adadamp" (the package's
 * dwell = 20, wait = 100), and explicit `dwell`, `wait` overriding it.
 */
const recompute = {
  preset: z.enum(["paper", "adadamp"]).optional(),
  dwell: intParam.optional(),
  wait: intParam.optional(),
};
const RECOMPUTE_HELP = "; dwell, wait, preset=paper|adadamp";

/** Every schedule by name. Add new ones here. */
export const SCHEDULES = {
  constant: scheduleEntry({
    summary: "constant batch size B (batchSize)",
    schema: z.object({ batchSize: intParam }).strict(),
    build: (p) => constantSchedule(p),
  }),
  gd: scheduleEntry({
    summary: "gradient descent: B = n, the whole training set, every update",
    schema: z.object({}).strict(),
    build: () => gdSchedule(),
  }),
  adadamp: scheduleEntry({
    summary:
      "AdaDamp: B_k = ceil(B_0 (F(x_0) - F*)/(F(x_k) - F*)) (initialBatchSize, maxBatchSize, minBatchSize, optimalLoss, dwell, wait, preset=paper|adadamp, trainLossFraction, changeThreshold)",
    schema: z
      .object({
        initialBatchSize: intParam,
        maxBatchSize: intParam.optional(),
        minBatchSize: intParam.optional(),
        optimalLoss: numParam.optional(),
        ...recompute,
        trainLossFraction: numParam.optional(),
        changeThreshold,
      })
      .strict(),
    build: (p) => adaDampSchedule(p),
  }),
  padadamp: scheduleEntry({
    summary: `PadaDamp: B_k = ceil(B_0 + r k) (initialBatchSize, growthRate, maxBatchSize${RECOMPUTE_HELP})`,
    schema: z
      .object({
        initialBatchSize: intParam,
        growthRate: numParam,
        maxBatchSize: intParam.optional(),
        ...recompute,
      })
      .strict(),
    build: (p) => padaDampSchedule(p),
  }),
  geodamp: scheduleEntry({
    summary: `GeoDamp: B = B_0 factor^floor(epoch/delay) (initialBatchSize, delay, factor, maxBatchSize${RECOMPUTE_HELP})`,
    schema: z
      .object({
        initialBatchSize: intParam,
        delay: numParam,
        factor: numParam.optional(),
        maxBatchSize: intParam.optional(),
        ...recompute,
      })
      .strict(),
    build: (p) => geoDampSchedule(p),
    jobDefaults: (j) => ({
      initialBatchSize: j.initialBatchSize,
      factor: j.growthFactor,
      delay: j.growthEvery,
      maxBatchSize: Math.max(j.maxBatchSize, j.initialBatchSize),
    }),
    label: (p) => `growing B=${p.initialBatchSize}x${p.factor}/${p.delay}ep`,
    describe: (p) =>
      `growing run: B = ${p.initialBatchSize}·${p.factor}^⌊epoch/${p.delay}⌋ (Smith et al. 2017).`,
  }),
  geodamplr: scheduleEntry({
    summary: `GeoDampLR: fixed B, lr factor^-floor(epoch/delay) (initialBatchSize, delay, factor${RECOMPUTE_HELP})`,
    schema: z
      .object({
        initialBatchSize: intParam,
        delay: numParam,
        factor: numParam.optional(),
        ...recompute,
      })
      .strict(),
    build: (p) => geoDampLRSchedule(p),
  }),
  linear: scheduleEntry({
    summary: `linear in epochs: B = ceil(B_0 (1 + r epoch)) (initialBatchSize, growthRate, maxBatchSize${RECOMPUTE_HELP})`,
    schema: z
      .object({
        initialBatchSize: intParam,
        growthRate: numParam,
        maxBatchSize: intParam.optional(),
        ...recompute,
      })
      .strict(),
    build: (p) => linearSchedule(p),
  }),
  radadamp: scheduleEntry({
    summary:
      "RadaDamp: B from rolling averages of batch loss and |g|^2 (initialBatchSize, maxBatchSize, rho, fudge, wait, dwell, changeThreshold)",
    schema: z
      .object({
        initialBatchSize: intParam,
        maxBatchSize: intParam.optional(),
        rho: numParam.optional(),
        fudge: numParam.optional(),
        wait: intParam.optional(),
        dwell: intParam.optional(),
        changeThreshold,
      })
      .strict(),
    build: (p) => radaDampSchedule(p),
  }),
  "noise-scale": scheduleEntry({
    summary:
      "B follows the EMA noise scale B_simple, clipped to [B_min, B_max] (initialBatchSize, minBatchSize, maxBatchSize, multiplier, changeThreshold)",
    schema: z
      .object({
        initialBatchSize: intParam,
        minBatchSize: intParam.optional(),
        maxBatchSize: intParam.optional(),
        multiplier: numParam.optional(),
        changeThreshold,
      })
      .strict(),
    build: (p, ctx) => noiseScaleSchedule(p, ctx),
  }),
  goodput: scheduleEntry({
    summary:
      "B maximising throughput(B) x (B_noise + B_0)/(B_noise + B) (initialBatchSize, minBatchSize, maxBatchSize, changeThreshold; throughput measured by the job)",
    schema: z
      .object({
        initialBatchSize: intParam,
        minBatchSize: intParam.optional(),
        maxBatchSize: intParam.optional(),
        changeThreshold,
        throughput: z.array(
          z.object({ batchSize: z.number(), examplesPerSecond: z.number() }).strict(),
        ),
      })
      .strict(),
    build: (p) => goodputSchedule(p),
    needs: ["throughput"],
  }),
  "cbs-warmup": scheduleEntry({
    summary:
      "batch-size warmup: double B while 2B <= the critical batch size, read from curve or measured every measureEvery examples (live measurement: the loop's measureCriticalBatch, which the compare job passes: --cbs-candidates, --cbs-branch-examples, --cbs-tolerance) (initialBatchSize, maxBatchSize, measureEvery | curve, growthFactor, growthsPerReading=1, lrRule=sqrt|linear|none)",
    schema: z
      .object({
        initialBatchSize: intParam,
        maxBatchSize: intParam.optional(),
        measureEvery: intParam.optional(),
        curve: z
          .array(z.object({ examples: z.number(), criticalBatchSize: z.number() }).strict())
          .optional(),
        growthFactor: numParam.optional(),
        growthsPerReading: intParam.optional(),
        lrRule: z.enum(["linear", "sqrt", "none"]).optional(),
      })
      .strict(),
    build: (p, ctx) => cbsWarmupSchedule(p, ctx),
  }),
  seesaw: scheduleEntry({
    summary:
      "Seesaw (Meterez et al. 2025): a cosine or linear learning-rate decay over decayEpochs at B = initialBatchSize, run as a batch ramp — where the rate would fall by growth, B grows by growth and the rate falls by its square root, up to maxBatchSize (initialBatchSize, maxBatchSize, decayEpochs, shape=cosine|linear, finalFactor=0.1, growth=2)",
    schema: z
      .object({
        initialBatchSize: intParam,
        maxBatchSize: intParam,
        decayEpochs: numParam,
        shape: z.enum(["cosine", "linear"]).optional(),
        finalFactor: numParam.optional(),
        growth: numParam.optional(),
      })
      .strict(),
    build: (p, ctx) => {
      if (!(p.decayEpochs > 0)) {
        throw new ScheduleConfigError(`decayEpochs must be > 0, got ${p.decayEpochs}`);
      }
      return seesawSchedule({
        initialBatchSize: p.initialBatchSize,
        maxBatchSize: p.maxBatchSize,
        base: {
          totalExamples: Math.max(1, Math.round(p.decayEpochs * ctx.datasetSize)),
          ...(p.shape !== undefined ? { shape: p.shape } : {}),
          ...(p.finalFactor !== undefined ? { finalFactor: p.finalFactor } : {}),
        },
        ...(p.growth !== undefined ? { growth: p.growth } : {}),
      });
    },
  }),
} satisfies Record<string, ScheduleEntry>;

/** A registered schedule name. */
export type ScheduleName = keyof typeof SCHEDULES;

/** The registered schedule names, in registry order. */
export const SCHEDULE_NAMES = Object.keys(SCHEDULES) as ScheduleName[];

/** Learning-rate rules by name. */
export const LR_RULES = {
  none: lrRuleEntry(z.object({}).strict(), () => noLrRule(), "no scaling (factor 1)"),
  linear: lrRuleEntry(z.object({}).strict(), () => linearRule(), "lr ∝ B (Goyal et al.)"),
  sqrt: lrRuleEntry(z.object({}).strict(), () => sqrtRule(), "lr ∝ √B"),
  power: lrRuleEntry(
    z.object({ alpha: numParam }).strict(),
    (p) => powerRule(p),
    "lr ∝ B^alpha, alpha in [0, 1] (alpha)",
  ),
  adascale: lrRuleEntry(
    z.object({}).strict(),
    () => adaScaleRule(),
    "AdaScale gain from the noise-scale estimate (1 without one)",
  ),
  surge: lrRuleEntry(
    z.object({}).strict(),
    () => surgeRule(),
    "Adam's surge law (Li et al. 2024): lr rises as √B below B_noise, peaks at B = B_noise, falls above (B_noise = the B_simple estimate; √B without one)",
  ),
} satisfies Record<string, LrRuleEntry>;

/** One learning-rate rule entry. */
export interface LrRuleEntry<T extends z.ZodTypeAny = z.ZodTypeAny> {
  summary: string;
  schema: T;
  build(params: z.infer<T>): LrRule;
}

function lrRuleEntry<T extends z.ZodTypeAny>(
  schema: T,
  build: (p: z.infer<T>) => LrRule,
  summary: string,
): LrRuleEntry<T> {
  return { schema, build, summary };
}

/** The registered learning-rate rule names. */
export const LR_RULE_NAMES = Object.keys(LR_RULES) as (keyof typeof LR_RULES)[];

/**
 * Turns zod issues into one message naming each offending parameter and its value.
 * Unknown keys: `unknown parameter "foo" for schedule "adadamp" (known: …)`.
 */
function describeIssues(
  kind: string,
  name: string,
  issues: z.ZodIssue[],
  params: Record<string, unknown>,
  known: string[],
): string {
  const parts = issues.map((issue) => {
    if (issue.code === z.ZodIssueCode.unrecognized_keys) {
      const keys = issue.keys.map((k) => `"${k}"`).join(", ");
      return `unknown parameter${issue.keys.length > 1 ? "s" : ""} ${keys} (known: ${known.join(", ") || "none"})`;
    }
    const key = String(issue.path[0] ?? "");
    if (!(key in params) || params[key] === undefined) {
      return `missing required parameter "${key}"`;
    }
    return `parameter "${key}" ${issue.message}, got ${JSON.stringify(params[key])}`;
  });
  return `${kind} "${name}": ${parts.join("; ")}`;
}

function parseWith<T extends z.ZodTypeAny>(
  kind: string,
  name: string,
  schema: T,
  params: Record<string, unknown>,
): z.infer<T> {
  const input = params ?? {}; // no parameters given: each required one is named as missing
  const r = schema.safeParse(input);
  if (!r.success) {
    const known = schema instanceof z.ZodObject ? Object.keys(schema.shape) : [];
    throw new ScheduleConfigError(describeIssues(kind, name, r.error.issues, input, known));
  }
  return r.data;
}

/**
 * Builds a batch-size schedule by name from string-or-number parameters.
 *
 * @param name - One of {@link SCHEDULE_NAMES}.
 * @param params - Parameter name → value (numbers, or numeric strings from the CLI). Names
 *   are the factory's option names, e.g. `{initialBatchSize: "32", dwell: "20"}`.
 * @param ctx - `{datasetSize: n}`, integer ≥ 1.
 * @returns The schedule.
 * @throws ScheduleConfigError for an unknown schedule (listing the known ones), an unknown
 *   parameter (naming it), a missing one, or an invalid value (naming parameter and value).
 * @example
 * ```ts
 * createSchedule("adadamp", { initialBatchSize: "32", dwell: "20" }, { datasetSize: 60000 });
 * createSchedule("adadamp", { B0: 32 }, ctx); // throws: unknown parameter "B0" …
 * ```
 */
export function createSchedule(
  name: string,
  params: Record<string, unknown>,
  ctx: ScheduleContext,
): BatchSchedule<unknown> {
  if (!Number.isInteger(ctx.datasetSize) || ctx.datasetSize < 1) {
    throw new ScheduleConfigError(
      `datasetSize must be an integer >= 1, got ${String(ctx.datasetSize)}`,
    );
  }
  if (!Object.prototype.hasOwnProperty.call(SCHEDULES, name)) {
    throw new ScheduleConfigError(
      `unknown schedule "${name}" (known: ${SCHEDULE_NAMES.join(", ")})`,
    );
  }
  const entry: ScheduleEntry = SCHEDULES[name as ScheduleName];
  const parsed = parseWith("schedule", name, entry.schema, params);
  try {
    return entry.build(parsed, ctx);
  } catch (e) {
    if (e instanceof ScheduleConfigError) {
      throw new ScheduleConfigError(`schedule "${name}": ${e.message}`);
    }
    throw e;
  }
}

/**
 * Builds a learning-rate rule by name (to pass to `withLrScaling`).
 *
 * @param name - One of {@link LR_RULE_NAMES}: none, linear, sqrt, power, adascale.
 * @param params - Rule parameters (`power` takes `alpha` in [0, 1]; the others none).
 * @returns The rule.
 * @throws ScheduleConfigError for an unknown rule or parameter, or an invalid value, naming it.
 * @example createLrRule("power", { alpha: "0.5" })
 */
export function createLrRule(name: string, params: Record<string, unknown> = {}): LrRule {
  if (!Object.prototype.hasOwnProperty.call(LR_RULES, name)) {
    throw new ScheduleConfigError(
      `unknown learning-rate rule "${name}" (known: ${LR_RULE_NAMES.join(", ")})`,
    );
  }
  const entry: LrRuleEntry = LR_RULES[name as keyof typeof LR_RULES];
  const parsed = parseWith("learning-rate rule", name, entry.schema, params);
  try {
    return entry.build(parsed);
  } catch (e) {
    if (e instanceof ScheduleConfigError) {
      throw new ScheduleConfigError(`learning-rate rule "${name}": ${e.message}`);
    }
    throw e;
  }
}
