/** Training: one model update, the loop with its hooks, evaluation, checkpoints, records. */
export { trainStep, trainStepAsync, type StepOptions } from "./step";
export {
  trainLoop,
  type CheckpointOptions,
  type LoopHooks,
  type NoiseEstimatorHook,
  type TrainLoopArgs,
  type TrainResult,
} from "./loop";
export {
  checkpointDue,
  loopConfigSchema,
  noiseSplit,
  parseLoopConfig,
  type LoopConfig,
  type LoopConfigInput,
} from "./config";
export { evaluate, evaluateAsync, probeSource } from "./evaluate";
export {
  checkCompatible,
  hasCheckpoint,
  loadCheckpoint,
  restoreInto,
  saveCheckpoint,
  type LoadedCheckpoint,
} from "./checkpoint";
export type { LoopState, RunLogField, RunLogRow, StepRecord } from "./types";
export { BSIMPLE_LAYER_PREFIX } from "./types";
export {
  branchLearningRate,
  chooseCriticalBatch,
  doublingBatchSizes,
  measureCriticalBatch,
  modelBranchRunner,
  type BranchLrRule,
  type BranchResult,
  type BranchRunner,
  type BranchSpec,
  type CriticalBatchOptions,
  type CriticalBatchResult,
  type ModelBranchRunnerArgs,
  type ModelSnapshot,
} from "./critical-batch";
export {
  batchBucket,
  bestMicroBatch,
  chooseMicroBatch,
  chooseReplicas,
  emptyReplicaPlan,
  machineThroughputCurve,
  measureMicroBatchCurve,
  measureReplicaThroughput,
  parseReplicaPlan,
  planReplicas,
  replicaPlanSchema,
  type MicroBatchThroughputPoint,
  type ReplicaPlanState,
  type ReplicaProbeArgs,
  type ReplicaThroughputPoint,
} from "./replica-plan";
