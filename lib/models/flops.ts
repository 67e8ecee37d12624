/**
 * Floating-point operation counts of a model's forward pass, from its layers' shapes.
 * Counts multiply-adds as 2 FLOPs and covers the layers that dominate (conv, depthwise conv,
 * dense); element-wise ops, pooling and normalisation are ignored (a few % on these models).
 * A training step is taken as 3× the forward FLOPs (forward, gradient w.r.t. activations,
 * gradient w.r.t. weights) — the usual estimate (e.g. Kaplan et al. 2020, §2.1).
 */
import * as tfl from "@tensorflow/tfjs-layers";

type Shape = (number | null)[];

function prod(xs: Shape): number {
  return xs.reduce((p: number, q) => p * (q ?? 1), 1);
}

/** Forward FLOPs per example of a tfjs-layers model (batch dimension excluded). */
export function forwardFlopsPerExample(model: tfl.LayersModel): number {
  let flops = 0;
  for (const layer of model.layers) {
    const cls = layer.getClassName();
    const out = layer.outputShape as Shape;
    const cfg = layer.getConfig() as Record<string, unknown>;
    const weights = layer.getWeights();
    if (cls === "Conv2D") {
      const k = weights[0].shape as number[]; // [fh, fw, ci, co]
      flops += 2 * prod(out.slice(1)) * k[0] * k[1] * k[2];
    } else if (cls === "DepthwiseConv2D") {
      const k = weights[0].shape as number[]; // [fh, fw, c, m]
      flops += 2 * prod(out.slice(1)) * k[0] * k[1];
    } else if (cls === "Dense") {
      const k = weights[0].shape as number[]; // [in, out]
      flops += 2 * (prod(out.slice(1)) / (cfg.units as number)) * k[0] * k[1];
    }
  }
  return flops;
}

/** Estimated FLOPs of one training step at batch size B: 3 × forward × B. */
export function trainStepFlops(model: tfl.LayersModel, batchSize: number): number {
  return 3 * forwardFlopsPerExample(model) * batchSize;
}
