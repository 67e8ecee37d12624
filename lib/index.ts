/**
 * batchwise: adaptive batch sizes and the gradient noise scale for TensorFlow.js.
 * Notebooks, scripts and the CLI import from here (or from the sub-barrels).
 */

// Backend choice and the wasm kernel pack
export {
  BACKEND_NAMES,
  BackendError,
  currentBackend,
  describeBackend,
  initBackend,
  resolveBackendChoice,
  type BackendChoice,
  type BackendInfo,
  type BackendName,
  type BackendOptions,
} from "./backend";
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
export { classificationTask, languageModelTask, type Task } from "./train/task";
export {
  ConvergenceError,
  setLearningRate,
  splitBatch,
  trainStep,
  trainableVariables,
  type StepBatch,
  type StepOptions,
  type StepResult,
} from "./train/step";
export {
  evaluate,
  InterruptedError,
  probeSource,
  trainLoop,
  type CheckpointOptions,
  type NoiseEstimatorHook,
  type DataSource,
  type LoopConfig,
  type StepRecord,
  type TrainResult,
} from "./train/loop";
export { classificationSource, languageModelSource } from "./train/sources";
export {
  CheckpointError,
  checkCompatible,
  hasCheckpoint,
  loadCheckpoint,
  restoreInto,
  saveCheckpoint,
  type LoadedCheckpoint,
  type LoopState,
} from "./train/checkpoint";
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
} from "./train/compare";

// Reports: run logs, summaries, figures, HTML
export * from "./report";
