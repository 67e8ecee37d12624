/** Batch-size schedules, learning-rate rules and the registry (docs/design.md §4). */

// The interface and validation helpers
export {
  fixedSchedule,
  type FixedSchedule,
  type ProgressDecision,
  type ProgressSchedule,
  type TrainingProgress,
} from "./fixed";
export { decideNext, type DriveInputs, type Progress } from "./drive";
export {
  ScheduleConfigError,
  requireInRange,
  requireInt,
  requireNumber,
  type BatchSchedule,
  type Decision,
  type Observation,
} from "./types";
export { type NoiseObservation } from "../noise/types";

// Shared pieces: anti-flapping, the B_max cap, when dampers recompute (dwell/wait)
export {
  heldFixedSchedule,
  recomputeDue,
  recomputesEveryUpdate,
  RECOMPUTE_PRESETS,
  resolveRecompute,
  type HeldSchedule,
  type HeldState,
  type RecomputeOptions,
  type RecomputePreset,
  type RecomputeRule,
} from "./dwell";
export { applyChangeThreshold, DEFAULT_CHANGE_THRESHOLD } from "./threshold";
export { capBatchSize, ceilBatch, MAX_BATCH, resolveMaxBatchSize, type CappedBatch } from "./cap";

// Fixed schedules
export { constantSchedule } from "./constant";
export { gdSchedule } from "./gd";
export {
  geoDampLRSchedule,
  geoDampSchedule,
  type GeoDampLROptions,
  type GeoDampOptions,
} from "./geodamp";
export { linearSchedule, type LinearOptions } from "./linear";
export { padaDampSchedule, type PadaDampOptions } from "./padadamp";

// Adaptive schedules
export {
  adaDampBatchSize,
  adaDampSchedule,
  type AdaDampOptions,
  type AdaDampState,
} from "./adadamp";
export { radaDampSchedule, type RadaDampOptions, type RadaDampState } from "./radadamp";

// Learning-rate rules
export {
  adaScaleGain,
  adaScaleRule,
  linearRule,
  linearScaling,
  linearWarmup,
  noLrRule,
  powerRule,
  powerScaling,
  sqrtRule,
  sqrtScaling,
  surgeOptimalLr,
  surgeRule,
  surgeScaling,
  withLrScaling,
  type LrRule,
  type LrScalingOptions,
  type LrScalingState,
} from "./lr-rules";
export { lrDecayFactor, withLrDecay, type LrDecayOptions } from "./lr-decay";

// Registry
export {
  createLrRule,
  createSchedule,
  intParam,
  LR_RULE_NAMES,
  LR_RULES,
  numParam,
  SCHEDULE_NAMES,
  SCHEDULES,
  scheduleEntry,
  type LrRuleEntry,
  type ScheduleContext,
  type ScheduleEntry,
  type ScheduleName,
} from "./registry";

// Batch-size warmup from the critical batch size (Merrill et al. 2025)
export {
  cbsAt,
  cbsWarmupSchedule,
  warmupBatchSize,
  type CbsPoint,
  type CbsWarmupOptions,
  type CbsWarmupState,
} from "./cbs-warmup";

// Schedules driven by the noise-scale estimator
export {
  noiseScaleSchedule,
  type NoiseScaleScheduleOptions,
  type NoiseScaleScheduleState,
} from "./noise-scale";
export {
  goodput,
  goodputSchedule,
  interpolateThroughput,
  type GoodputScheduleOptions,
  type GoodputScheduleState,
  type ThroughputCurvePoint,
} from "./goodput";

// Seesaw: a learning-rate decay run as a batch ramp (Meterez et al. 2025)
export {
  seesawAt,
  seesawEquivalence,
  seesawSchedule,
  type SeesawOptions,
  type StepDecay,
} from "./seesaw";

// Weight decay that keeps the AdamW timescale τ = B/(η·λ·D) (Bergsma et al. 2025)
export {
  adamwTimescale,
  timescaleWeightDecayFactor,
  withTimescaleWeightDecay,
} from "./weight-decay";
export { mapDecisions } from "./wrap";
