/**
 * batchwise: adaptive batch sizes and the gradient noise scale for TensorFlow.js.
 * Notebooks, scripts and the CLI import from here (or from the sub-barrels).
 */

// Backend choice and the wasm kernel pack
export {
  BACKEND_NAMES,
  currentBackend,
  describeBackend,
  initBackend,
  resolveBackendChoice,
  type BackendChoice,
  type BackendInfo,
  type BackendName,
  type BackendOptions,
} from "./backend";
export { BackendError } from "./core/errors";
export { kernelPackConfigs, kernelPackRegistered, registerKernelPack } from "./backend/kernels";

// Data: readers, datasets, sampler
export * from "./data";

// Batch-size schedules, learning-rate rules, the registry
export * from "./schedules";

// Gradient noise scale, diversity, B_crit, hardware probes
export * from "./noise";

// The least-squares problem of the theory check (seed 001)
export * from "./theory/least-squares";

// Models
export * from "./models";

// Optimizers tfjs lacks
export * from "./optim";

// Data-parallel replicas and the cluster simulator
export {
  createReplicaGroup,
  shardSizes,
  type ReplicaGroup,
  type ReplicaGroupOptions,
} from "./parallel/replicas";
export type { DataSpec, ModelSpec } from "./parallel/protocol";
export * from "./cluster/simulator";

// Training
export { classificationTask, languageModelTask, type Task } from "./grad/task";
export { trainStep, type StepOptions } from "./train/step";
export { ConvergenceError } from "./core/errors";
export { setLearningRate } from "./optim/learning-rate";
export { splitBatch, trainableVariables } from "./grad/batch";
export { type StepBatch } from "./data/source";
export { type StepResult } from "./grad/types";
export {
  evaluate,
  InterruptedError,
  probeSource,
  trainLoop,
  type CheckpointOptions,
  type NoiseEstimatorHook,
  type LoopConfig,
  type StepRecord,
  type TrainResult,
} from "./train/loop";
export { type DataSource } from "./data/source";
export { classificationSource, languageModelSource } from "./data/source";
export {
  checkCompatible,
  hasCheckpoint,
  loadCheckpoint,
  restoreInto,
  saveCheckpoint,
  type LoadedCheckpoint,
  type LoopState,
} from "./train/checkpoint";
export { CheckpointError } from "./core/errors";
export {
  QUICK_OVERRIDES,
  RESUMABLE_KEYS,
  buildSecondSchedule,
  compareConfigSchema,
  resumeConfig,
  parseCompareConfig,
  runComparison,
  type CompareConfig,
  type CompareResult,
} from "./jobs/compare";

// Reports: run logs, summaries, figures, HTML
export * from "./report";
