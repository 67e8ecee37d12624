/**
 * Model builders (tfjs-layers, functional API): the small models of the benchmarks, ResNet-18/34
 * in the CIFAR form, EfficientNet (B0 and its scaled members, Keras-compatible), and a
 * GPT-style character-level language model; with parameter-count formulas and the custom
 * layers they use. Classifiers output logits.
 */
export {
  countParams,
  embeddingLm,
  gapCnn,
  mbconvBlockModel,
  mlp,
  smallCnn,
  type ModelOptions,
} from "./small";
export { forwardFlopsPerExample, trainStepFlops } from "./flops";
export { RESNET_STAGES, resnetCifar, resnetParamCount, type ResNetOptions } from "./resnet";
export {
  EFFICIENTNET_B0_STAGES,
  efficientNet,
  efficientNetB0,
  efficientNetParamCount,
  roundFilters,
  roundRepeats,
  type EfficientNetOptions,
  type MBConvStage,
  type ParamCount,
} from "./efficientnet";
export { gptForwardFlops, gptLm, gptParamCount, type GptOptions } from "./gpt";
export {
  CausalSelfAttention,
  Normalization,
  PositionEmbedding,
  causalMask,
  type CausalSelfAttentionArgs,
  type NormalizationArgs,
  type PositionEmbeddingArgs,
} from "./layers";
