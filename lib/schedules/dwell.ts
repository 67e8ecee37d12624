/**
 * When a damper recomputes its batch size: the adadamp package's `dwell`/`wait` rule, shared by
 * every damper (AdaDamp, PadaDamp, GeoDamp, GeoDampLR, linear, RadaDamp), and the two named
 * presets — the paper's Algorithm 1 (every update) and the package's defaults.
 */
import type { ProgressDecision, ProgressSchedule } from "./fixed";
import type { BatchSchedule } from "./types";
import { requireInt, ScheduleConfigError } from "./types";

/**
 * The named recomputation presets:
 * - `"paper"`: Sievert & Charles (2019, arXiv:1910.08222), Algorithm 1 — B is recomputed
 *   before every model update (dwell = 1, wait = 0). The default of every damper.
 * - `"adadamp"`: the adadamp package (`adadamp/damping.py`, `BaseDamper.__init__` defaults
 *   `dwell=20`, `wait=100`).
 */
export const RECOMPUTE_PRESETS = {
  paper: { dwell: 1, wait: 0 },
  adadamp: { dwell: 20, wait: 100 },
} as const;

/** A preset name: `"paper"` or `"adadamp"` (see {@link RECOMPUTE_PRESETS}). */
export type RecomputePreset = keyof typeof RECOMPUTE_PRESETS;

/** The recomputation options every damper accepts. */
export interface RecomputeOptions {
  /**
   * Named semantics, {@link RECOMPUTE_PRESETS}; default `"paper"`. `dwell` and `wait` given
   * explicitly override the preset's values.
   */
  preset?: RecomputePreset;
  /** Recompute B only at updates k with k mod dwell = 0 (once k ≥ wait); integer ≥ 1. */
  dwell?: number;
  /** No recomputation at 0 < k < wait (B stays at its update-0 value); integer ≥ 0. */
  wait?: number;
}

/** dwell and wait, resolved from {@link RecomputeOptions}. */
export interface RecomputeRule {
  /** Integer ≥ 1. */
  dwell: number;
  /** Integer ≥ 0. */
  wait: number;
}

/**
 * Resolves and validates a damper's recomputation options: the preset's dwell and wait, each
 * overridden by an explicit value.
 *
 * @param opts - `{preset?, dwell?, wait?}`; preset `"paper"` (default) or `"adadamp"`.
 * @param defaults - The preset used when `opts.preset` is absent; default `"paper"`.
 * @returns `{dwell, wait}`.
 * @throws ScheduleConfigError naming the parameter and value for an unknown preset,
 *   dwell not an integer ≥ 1, or wait not an integer ≥ 0.
 * @example
 * ```ts
 * resolveRecompute({}); // { dwell: 1, wait: 0 } (Algorithm 1)
 * resolveRecompute({ preset: "adadamp" }); // { dwell: 20, wait: 100 }
 * resolveRecompute({ preset: "adadamp", wait: 0 }); // { dwell: 20, wait: 0 }
 * ```
 */
export function resolveRecompute(
  opts: RecomputeOptions,
  defaults: RecomputePreset = "paper",
): RecomputeRule {
  const name = opts.preset ?? defaults;
  if (!Object.prototype.hasOwnProperty.call(RECOMPUTE_PRESETS, name)) {
    throw new ScheduleConfigError(
      `preset must be one of ${Object.keys(RECOMPUTE_PRESETS).join(", ")}, got ${String(name)}`,
    );
  }
  const preset = RECOMPUTE_PRESETS[name];
  const dwell = opts.dwell ?? preset.dwell;
  const wait = opts.wait ?? preset.wait;
  requireInt("dwell", dwell, 1);
  requireInt("wait", wait, 0);
  return { dwell, wait };
}

/**
 * Whether a damper recomputes its batch size before update k:
 *
 * `k = 0  or  (k ≥ wait and k mod dwell = 0)`
 *
 * — the adadamp package, `BaseDamper.step` (`if updates == 0 or (updates >= self.wait and
 * updates % int(self.dwell) == 0): self._meta["damping"] = self.damping()`). With dwell = 1
 * and wait = 0 it is true at every k: Algorithm 1 of Sievert & Charles (2019). Note the phase:
 * recomputations fall on multiples of dwell, not on wait + j·dwell (they coincide when wait is
 * a multiple of dwell).
 *
 * @param step - k, model updates completed, integer ≥ 0.
 * @param rule - `{dwell ≥ 1, wait ≥ 0}`, integers (see {@link resolveRecompute}).
 * @returns true when B is recomputed before update k.
 * @example
 * ```ts
 * [0, 5, 10, 12, 15].map((k) => recomputeDue(k, { dwell: 5, wait: 10 })); // T F T F T
 * ```
 */
export function recomputeDue(step: number, rule: RecomputeRule): boolean {
  return step === 0 || (step >= rule.wait && step % rule.dwell === 0);
}

/** Whether a rule recomputes at every update (dwell = 1, wait = 0: Algorithm 1). */
export function recomputesEveryUpdate(rule: RecomputeRule): boolean {
  return rule.dwell === 1 && rule.wait === 0;
}

/**
 * State of a fixed damper under a dwell/wait rule: the decision held since the last
 * recomputation (absent before the first, and always absent under Algorithm 1's rule, which
 * holds nothing — so the default state stays `{}`).
 */
export interface HeldState {
  held?: ProgressDecision;
}

/** A fixed damper with dwell/wait: a loop schedule, with its un-held progress function `at`. */
export type HeldSchedule = BatchSchedule<HeldState> & {
  /** B and the learning-rate factor the damper would choose at this progress, un-held. */
  readonly at: ProgressSchedule;
  /** The dwell/wait rule in force. */
  readonly recompute: RecomputeRule;
};

/**
 * A fixed (progress-driven) damper whose decision is recomputed only when
 * {@link recomputeDue} says so and held in between — the adadamp package's `BaseDamper.step`
 * for PadaDamp, GeoDamp, GeoDampLR and the linear damper (the package evaluates `damping()`
 * at the recomputation, e.g. GeoDamp's epochs then, and keeps it). The held value is the
 * capped decision (B and the B_max learning-rate factor), as in the package, where the cap
 * follows the held damping.
 *
 * @param name - The schedule's name.
 * @param at - B and the learning-rate factor as a function of training progress.
 * @param rule - `{dwell, wait}` (see {@link resolveRecompute}).
 * @returns The schedule; under dwell = 1, wait = 0 identical to `fixedSchedule(name, at)`
 *   (state `{}`).
 * @example
 * ```ts
 * const s = heldFixedSchedule("padadamp", (p) => ({ batchSize: 1 + p.step, lrFactor: 1 }), {
 *   dwell: 5,
 *   wait: 10,
 * }); // B = 1 for k < 10, then 11 for k = 10…14, 16 for k = 15…19, …
 * ```
 */
export function heldFixedSchedule(
  name: string,
  at: ProgressSchedule,
  rule: RecomputeRule,
): HeldSchedule {
  const every = recomputesEveryUpdate(rule);
  return {
    name,
    at,
    recompute: rule,
    init: () => ({}),
    update: (state, obs) => {
      if (state.held === undefined || recomputeDue(obs.step, rule)) {
        const d = at(obs);
        const decision = { batchSize: d.batchSize, lrFactor: d.lrFactor };
        return { ...decision, state: every ? {} : { held: decision } };
      }
      return { ...state.held, state };
    },
  };
}
