/**
 * Computations the notebooks need that are not training or estimation proper: gradient-norm
 * samples at fixed weights, log-log scaling fits against the theory table, and training for a
 * wall-clock budget.
 */

// |G_B|² samples at several batch sizes (E|G_B|² against 1/B; SGD update size)
export {
  gradNormSamples,
  type GradNormMean,
  type GradNormSample,
  type GradNormSampleOptions,
} from "./grad-norms";

// Log-log fits and the theory table of seed 001
export {
  logLogFit,
  predictedSlope,
  THEORY_ORDERS,
  theoryOrder,
  type CostQuantity,
  type FunctionClass,
  type LogLogFit,
  type TheoryMethod,
  type TheoryOrder,
} from "./scaling";

// Training for a wall-clock budget (seed 003's protocol)
export { trainForWallClock, type WallClockArgs, type WallClockResult } from "./wall-clock";
