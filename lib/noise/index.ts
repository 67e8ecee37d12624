/**
 * Gradient noise scale, gradient diversity, critical batch size and hardware probes
 * (DESIGN.md §1). Plain-number estimators first; tensor code after.
 */

// Unbiased estimators of |G|² and tr(Σ), the bias-corrected EMA, the noise-scale estimator
export {
  checkMicroBatchNorms,
  emaInit,
  emaRead,
  emaUpdate,
  finitePopulationCorrection,
  gradNormLineFit,
  microBatchEstimate,
  noiseScaleEstimator,
  twoBatchEstimate,
  type EmaState,
  type MicroBatchNorms,
  type NoiseEstimate,
  type NoiseScaleEstimator,
  type NoiseScaleOptions,
  type NoiseScaleState,
} from "./estimators";
export { fitLine, type LineFit } from "./linfit";

// Critical batch size from a sweep
export { fitBCrit, type BCritFit, type SweepPoint } from "./bcrit";

// Gradient diversity
export { bSimpleFromDiversity, gradientDiversity, measureGradientDiversity } from "./diversity";

// Gradients: micro-batch norms (optionally preconditioned), per-example norms
export {
  batchTensors,
  checkBatch,
  checkPreconditioner,
  microBatchGradNorms,
  sqNormOf,
  type MicroBatchOptions,
  type Preconditioner,
} from "./grads";
export {
  denseTrickSupported,
  perExampleGradSqNorms,
  type PerExampleMethod,
  type PerExampleNorms,
  type PerExampleOptions,
} from "./per-example";
export { adamPreconditioner, disposePreconditioner } from "./adam";

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
} from "./hardware";
