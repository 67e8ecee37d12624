/** Hardware probes: throughput against the batch size and the largest batch that fits. */
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
