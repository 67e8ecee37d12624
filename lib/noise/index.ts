/**
 * Gradient noise scale, gradient diversity, critical batch size and hardware probes
 * (DESIGN.md §1). Plain-number estimators first; tensor code after.
 */

// Unbiased estimators of |G|² and tr(Σ), the bias-corrected EMA, the noise-scale estimator
export { checkMicroBatchNorms, microBatchEstimate } from "./micro-batch-estimate";
export { emaInit, emaRead, emaUpdate, type EmaState } from "./ema";
export { finitePopulationCorrection } from "./finite-population";
export { gradNormLineFit } from "./grad-norm-line-fit";
export {
  noiseScaleEstimator,
  type NoiseScaleEstimator,
  type NoiseScaleOptions,
  type NoiseScaleState,
} from "./noise-scale-estimator";
export { twoBatchEstimate } from "./two-batch";
export { type NoiseEstimate } from "./types";
export { type MicroBatchNorms } from "../grad/types";
export { fitLine, type LineFit } from "./linfit";

// Critical batch size from a sweep
export { fitBCrit, type BCritFit, type SweepPoint } from "./bcrit";

// Gradient diversity
export { bSimpleFromDiversity, gradientDiversity, measureGradientDiversity } from "./diversity";

// Gradients: micro-batch norms (optionally preconditioned), per-example norms
export {
  checkPreconditioner,
  microBatchGradNorms,
  type MicroBatchOptions,
  type Preconditioner,
} from "../grad/micro-batch";
export { batchTensors, checkBatch, sqNormOf } from "../grad/batch";
export {
  denseTrickSupported,
  perExampleGradSqNorms,
  type PerExampleMethod,
  type PerExampleNorms,
  type PerExampleOptions,
} from "../grad/per-example";
export { adamPreconditioner, disposePreconditioner } from "./preconditioned-noise-scale";

// Full noise scale B_noise by finite-difference Hessian-vector products
export {
  DEFAULT_FD_ETA,
  estimateBNoise,
  hessianVectorProduct,
  meanGradient,
  type BNoiseOptions,
  type BNoiseResult,
  type GradientOptions,
  type HvpOptions,
} from "./bnoise";

// Hardware: throughput and the largest batch that fits
export {
  WASM_HEAP_BYTES,
  findLargestBatch,
  largestBatchThatFits,
  measureThroughput,
  memoryBoundBatch,
  probeMemoryModel,
  withWeightsRestored,
  type FitsOptions,
  type LargestBatchOptions,
  type LargestBatchResult,
  type MemoryModel,
  type ThroughputOptions,
  type ThroughputPoint,
} from "../probes/hardware";
