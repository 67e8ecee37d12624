/**
 * Gradient noise scale, gradient diversity and the critical batch size from a sweep
 * (docs/design.md §1). Plain-number estimators first; tensor code after.
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
export { fitLine, type LineFit } from "./linfit";

// Per-layer noise scale (nanoGNS)
export {
  groupSums,
  layerOfVariable,
  perLayerEstimate,
  perLayerNoiseEstimator,
  type GroupOf,
  type PerLayerNoiseEstimator,
  type PerLayerNoiseState,
  type PerVariableNorms,
} from "./per-layer";

// Critical batch size from a sweep
export { fitBCrit, type BCritFit, type SweepPoint } from "./bcrit";

// Gradient diversity
export { bSimpleFromDiversity, gradientDiversity, measureGradientDiversity } from "./diversity";

export type { NoiseObservation } from "./types";
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
