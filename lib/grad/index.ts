/**
 * The gradient core: batch tensors, the micro-batch gradient loop and its norms, per-example
 * norms, and the records they produce (docs/design.md §2).
 */
export {
  batchTensors,
  checkBatch,
  splitBatch,
  sqNormOf,
  sqNormsByVariable,
  trainableVariables,
  valuesPerExample,
} from "./batch";
export {
  checkPreconditioner,
  microBatchGradients,
  microBatchGradNorms,
  type MicroBatchGradients,
  type MicroBatchOptions,
  type Preconditioner,
} from "./micro-batch";
export {
  denseTrickSupported,
  perExampleGradSqNorms,
  type PerExampleMethod,
  type PerExampleNorms,
  type PerExampleOptions,
} from "./per-example";
export { classificationTask, languageModelTask, type Task } from "./task";
export type { MicroBatchNorms, StepResult } from "./types";
