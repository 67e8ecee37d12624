/**
 * Optimizers tfjs lacks, for batchwise's training loop and for `LayersModel.fit`: AdamW
 * (Loshchilov & Hutter 2019), LAMB (You et al. 2019) and LARS (You, Gitman, Ginsburg 2017).
 * State is keyed by variable name and round-trips through `getWeights`/`setWeights`; each
 * class is registered for tfjs serialisation.
 */
export { Adam, type AdamOptions } from "./adam";
export { AdamW, type AdamWOptions } from "./adamw";
export { Lamb, type LambOptions } from "./lamb";
export { Lars, type LarsOptions } from "./lars";
export { BIAS_AND_NORM_PATTERNS, OptimizerConfigError, SlotOptimizer } from "./base";
export { setLearningRate, setWeightDecay, weightDecayOf } from "./learning-rate";
export {
  ADASCALE_STATE_NAME,
  AdaScale,
  adaScaleGainRatio,
  adaScaleStatistics,
  type AdaScaleOptions,
  type AdaScaleState,
} from "./adascale";
