/**
 * `Step` on the tensorflow backend: step(x) = 1 if x > 0, α otherwise, NaN for NaN — the
 * gradient mask of ReLU (tfjs-core's Relu gradient and every fused conv/matmul with a ReLU
 * activation multiply dy by step(y)).
 *
 * tfjs-node's own kernel builds it from five ops (IsNan, Greater, OnesLike, Fill, Select) over
 * the full activation (measured: 13.2 ms for the two ReLU masks of one bench-CNN step at
 * B = 64 on 2 cores, bench/profile-step.ts). For α = 0 this
 * is `Sign(Relu(x))`: two TensorFlow ops, the same values (Relu keeps NaN, Sign maps it to
 * NaN and positive values to 1, 0 to 0). Other α and dtypes use tfjs-node's kernel.
 */
import * as tf from "@tensorflow/tfjs-core";
import { runTfOp } from "./tf-op";

/** The replacement `Step` kernel config; `original` is tfjs-node's kernelFunc. */
export function stepConfig(original: tf.KernelFunc): tf.KernelConfig {
  return {
    kernelName: tf.Step,
    backendName: "tensorflow",
    kernelFunc: (args) => {
      const { x } = args.inputs as unknown as { x: tf.TensorInfo };
      const { alpha } = args.attrs as unknown as tf.StepAttrs;
      if (alpha !== 0 || x.dtype !== "float32") return original(args);
      const relu = runTfOp(args.backend, "Relu", [x]);
      const out = runTfOp(args.backend, "Sign", [relu]);
      relu.dispose();
      return out;
    },
  };
}
