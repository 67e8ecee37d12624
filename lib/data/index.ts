/**
 * batchwise's dataset layer: readers for IDX (MNIST/Fashion-MNIST), CIFAR-10 binary and
 * character-level text, batch gathering, and a seeded epoch sampler. Plain typed arrays;
 * no tfjs. Every data problem is a {@link DatasetError}.
 */

// Errors
export { DatasetError } from "../core/errors";

// Formats
export { encodeIdx, maybeGunzip, parseIdx, readIdx } from "./idx";
export type { IdxArray, IdxData, IdxDtype } from "./idx";

// In-memory datasets and batches
export { featureSize, gatherBatch, subset, validateClassificationDataset } from "./dataset";
export type { Batch, ClassificationDataset } from "./dataset";

// Fashion-MNIST
export {
  DEFAULT_FASHION_MNIST_DIR,
  FASHION_MNIST_CLASSES,
  FASHION_MNIST_FILES,
  loadFashionMnist,
  loadIdxClassification,
} from "./fashion-mnist";
export type { IdxClassificationOptions } from "./fashion-mnist";

// CIFAR-10
export {
  CIFAR10_CLASSES,
  CIFAR10_DIR_NAME,
  CIFAR10_MD5,
  CIFAR10_RECORD_BYTES,
  CIFAR10_TEST_FILE,
  CIFAR10_TRAIN_FILES,
  CIFAR10_URL,
  cifar10Available,
  downloadCifar10,
  loadCifar10,
  parseCifar10Batch,
  readCifar10Batch,
} from "./cifar10";
export type { DownloadCifar10Options, LoadCifar10Options } from "./cifar10";

// Character-level text
export { CharVocab, TINY_SHAKESPEARE_PATH, lmBatch, lmWindowCount, loadCharCorpus } from "./text";
export type { CharCorpus, CharCorpusOptions, CharVocabJSON } from "./text";

// Sampling
export { epochPermutation, parseSamplerState, sampleBatch, samplerInit } from "./sampler";
export type { SampledBatch, SamplerState } from "./sampler";
export {
  classificationSource,
  languageModelSource,
  type DataSource,
  type StepBatch,
} from "./source";
