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
export { kernelPackConfigs, kernelPackRegistered, registerKernelPack } from "./backend/kernels";

// Data: readers, datasets, sampler
export * from "./data";

// Batch-size schedules, learning-rate rules, the registry
export * from "./schedules";

// Gradient noise scale, diversity, B_crit
export * from "./noise";

// The least-squares problem of the theory check (seed 001)
export * from "./theory";

// Models
export * from "./models";

// Optimizers tfjs lacks
export * from "./optim";

// Data-parallel replicas and the cluster simulator
export {
  startDataParallel,
  shardSizes,
  type DataParallel,
  type DataParallelOptions,
  type ParallelStepOptions,
} from "./parallel/data-parallel";
export * from "./cluster/simulator";

// The gradient core, training, probes, jobs
export * from "./grad";
export * from "./train";
export * from "./probes";
export * from "./jobs";

// Errors and validators
export * from "./core/errors";
export { requireFinite, requirePositive, type ErrorClass } from "./core/validate";

// Reports: run logs, summaries, figures, HTML
export * from "./report";
