/**
 * Seesaw (Meterez, Morwani, Wu, Oncescu, Pehlevan, Kakade 2025, "Seesaw: Accelerating Training
 * by Balancing Learning Rate and Batch Size Scheduling", arXiv:2510.14717): wherever a
 * learning-rate schedule at batch size B₀ would divide the learning rate by α, divide it by √α
 * and multiply the batch size by α instead (the Seesaw rule as the abstract states it, with α = 2).
 * For Adam-like optimizers in the variance-dominated regime (normalized SGD as the paper's proxy) the
 * loss dynamics depend on η/√B, which the rule keeps: (η/√α)/√(αB) = (η/α)/√B. The paper applies
 * it below the critical batch size; the batch here is capped at `maxBatchSize` (memory, or a
 * measured critical batch size), and past the cap the remaining decay goes to the learning rate
 * so that η/√B still follows the base schedule.
 *
 * Departure from the paper: a continuous base schedule (cosine, linear) is discretised at the
 * examples where its factor crosses α⁻¹, α⁻², …; between crossings the factor's continuous part
 * stays on the learning rate, so η/√B equals the base schedule's η/√B₀ at every point, not only
 * at the crossings.
 */
import { lrDecayFactor, type LrDecayOptions } from "./lr-decay";
import { fixedSchedule, type FixedSchedule, type ProgressDecision } from "./fixed";
import { requireInt, requireNumber, ScheduleConfigError } from "./types";

/** A step-decay learning-rate schedule: at `examples` processed, divide η by `factor` (> 1). */
export interface StepDecay {
  /** Examples processed at which the decay applies (≥ 0, strictly ascending across steps). */
  examples: number;
  /** α_k > 1: the base schedule's η is divided by it from then on. */
  factor: number;
}

/** Options of {@link seesawSchedule} and {@link seesawAt}. */
export interface SeesawOptions {
  /** B₀, the batch size the base learning-rate schedule was tuned at, integer ≥ 1. */
  initialBatchSize: number;
  /** The largest batch (memory, or the measured critical batch size), integer ≥ B₀. */
  maxBatchSize: number;
  /**
   * The base schedule: step decays (each step's own α), or a continuous decay over the examples
   * (lib/schedules/lr-decay.ts) discretised with `growth`.
   */
  base: { steps: readonly StepDecay[] } | LrDecayOptions;
  /** α for a continuous base schedule, > 1; default 2 (the paper's). Ignored for steps. */
  growth?: number;
}

/** The base schedule's factor f(e) and its discretised decay A(e) ≥ 1 (B grows by A). */
function baseAt(examples: number, o: SeesawOptions): { factor: number; decay: number } {
  if ("steps" in o.base) {
    const decay = o.base.steps
      .filter((s) => s.examples <= examples)
      .reduce((p, s) => p * s.factor, 1);
    return { factor: 1 / decay, decay };
  }
  const factor = lrDecayFactor(examples, o.base);
  const growth = o.growth ?? 2;
  if (factor <= 0) return { factor, decay: Infinity };
  // crossings of growth^-k completed; the 1e-9 absorbs rounding at an exact crossing
  const k = Math.max(0, Math.floor(Math.log(1 / factor) / Math.log(growth) + 1e-9));
  return { factor, decay: growth ** k };
}

function check(o: SeesawOptions): void {
  requireInt("initialBatchSize", o.initialBatchSize, 1);
  requireInt("maxBatchSize", o.maxBatchSize, o.initialBatchSize);
  if (o.growth !== undefined) requireNumber("growth", o.growth, 1);
  if ("steps" in o.base) {
    const steps = o.base.steps;
    steps.forEach((s, i) => {
      requireNumber(`base.steps[${i}].examples`, s.examples, 0, true);
      requireNumber(`base.steps[${i}].factor`, s.factor, 1);
      if (i > 0 && s.examples <= steps[i - 1].examples) {
        throw new ScheduleConfigError(
          `base.steps must ascend in examples, got ${steps[i - 1].examples} then ${s.examples}`,
        );
      }
    });
  } else {
    lrDecayFactor(0, o.base); // validates the decay options
  }
}

/**
 * Seesaw's batch size and learning-rate factor after `examples` examples:
 * B = min(round(B₀·A(e)), B_max) and lrFactor = f(e)·√(B/B₀), where f is the base schedule's
 * factor and A(e) the decay it has applied in whole steps (Π α_k of the steps passed, or
 * α^k for the k-th crossing of a continuous schedule). Then lrFactor/√B = f(e)/√B₀ exactly.
 *
 * @param examples - Examples processed, ≥ 0.
 * @param opts - See {@link SeesawOptions}.
 * @returns B (integer in [B₀, B_max]) and the factor on the base learning rate η₀.
 * @throws ScheduleConfigError naming a bad option and its value.
 * @example
 * seesawAt(1000, { initialBatchSize: 64, maxBatchSize: 1024, base: { steps: [{ examples: 500, factor: 2 }] } })
 * // { batchSize: 128, lrFactor: 1/√2 }
 */
export function seesawAt(examples: number, opts: SeesawOptions): ProgressDecision {
  check(opts);
  return seesawPoint(examples, opts);
}

/** {@link seesawAt} for options already checked (the schedule checks them once). */
function seesawPoint(examples: number, opts: SeesawOptions): ProgressDecision {
  const { factor, decay } = baseAt(examples, opts);
  const b0 = opts.initialBatchSize;
  const batchSize = Math.min(opts.maxBatchSize, Math.max(b0, Math.round(b0 * decay)));
  return { batchSize, lrFactor: factor * Math.sqrt(batchSize / b0) };
}

/**
 * The Seesaw schedule for the loop: {@link seesawAt} of the examples processed before each
 * update (a fixed schedule, no state). Name `seesaw`.
 * @throws ScheduleConfigError naming a bad option and its value.
 */
export function seesawSchedule(opts: SeesawOptions): FixedSchedule {
  check(opts);
  return fixedSchedule("seesaw", (p) => seesawPoint(p.examples, opts));
}

/**
 * The paper's equivalence, checked: at each of `examples`, Seesaw's η/√B equals the base
 * schedule's η/√B₀ (relative tolerance `tol`, default 1e-12). Returns the largest relative
 * difference found and whether it is within `tol`.
 * @example seesawEquivalence(opts, [0, 100, 1000]).equivalent // true
 */
export function seesawEquivalence(
  opts: SeesawOptions,
  examples: readonly number[],
  tol = 1e-12,
): { maxRelativeDifference: number; equivalent: boolean } {
  check(opts);
  const b0 = opts.initialBatchSize;
  let worst = 0;
  for (const e of examples) {
    const s = seesawPoint(e, opts);
    const want = baseAt(e, opts).factor / Math.sqrt(b0);
    const got = s.lrFactor / Math.sqrt(s.batchSize);
    const rel = want === 0 ? Math.abs(got) : Math.abs(got - want) / Math.abs(want);
    worst = Math.max(worst, rel);
  }
  return { maxRelativeDifference: worst, equivalent: worst <= tol };
}
