/**
 * Gradients of ReLU and sigmoid as one fused TensorFlow op each on the tensorflow backend
 * (`ReluGrad`, `SigmoidGrad`), and tfjs-core's formula on every other backend.
 *
 * tfjs-core's Relu gradient is dy·step(x) (Step is five ops in tfjs-node, see ./step.ts) and
 * its Sigmoid gradient dy·(y·(1 − y)) is three ops, each a pass over the full activation; the
 * swish activations of MBConv/EfficientNet (x·sigmoid(x)) and their SE gates hit it at every
 * block. Values are identical up to float rounding.
 */
import * as tf from "@tensorflow/tfjs-core";
import { runTfOp } from "./tf-op";

/** Kernel names of the fused gradients (registered on the tensorflow backend only). */
export const RELU_GRAD = "BatchwiseReluGrad";
export const SIGMOID_GRAD = "BatchwiseSigmoidGrad";

/** Whether the current backend has the fused kernel `name`. */
function hasKernel(name: string): boolean {
  return tf.getKernel(name, tf.getBackend()) != null;
}

/**
 * dL/dx of y = relu(x): dy where x > 0, else 0.
 * @param dy upstream gradient, any shape.
 * @param x the ReLU input, same shape as dy.
 * @returns dx, same shape.
 */
export function reluGrad(dy: tf.Tensor, x: tf.Tensor): tf.Tensor {
  if (dy.dtype === "float32" && x.dtype === "float32" && hasKernel(RELU_GRAD)) {
    return tf.engine().runKernel(RELU_GRAD, { dy, x }) as tf.Tensor;
  }
  return tf.tidy(() => tf.mul(dy, tf.cast(tf.step(x), "float32")));
}

/**
 * dL/dx of y = sigmoid(x), from the output: dy·y·(1 − y).
 * @param dy upstream gradient, any shape.
 * @param y the sigmoid output, same shape as dy.
 * @returns dx, same shape.
 */
export function sigmoidGrad(dy: tf.Tensor, y: tf.Tensor): tf.Tensor {
  if (dy.dtype === "float32" && y.dtype === "float32" && hasKernel(SIGMOID_GRAD)) {
    return tf.engine().runKernel(SIGMOID_GRAD, { dy, y }) as tf.Tensor;
  }
  return tf.tidy(() => tf.mul(dy, tf.mul(y, tf.sub(tf.scalar(1), y))));
}

/** Relu's gradient config (replaces tfjs-core's; same values). */
export const reluGradConfig: tf.GradConfig = {
  kernelName: tf.Relu,
  inputsToSave: ["x"],
  gradFunc: (dy, saved) => {
    const [x] = saved;
    return { x: () => reluGrad(dy as tf.Tensor, x) };
  },
};

/** Sigmoid's gradient config (replaces tfjs-core's; same values). */
export const sigmoidGradConfig: tf.GradConfig = {
  kernelName: tf.Sigmoid,
  outputsToSave: [true],
  gradFunc: (dy, saved) => {
    const [y] = saved;
    return { x: () => sigmoidGrad(dy as tf.Tensor, y) };
  },
};

/** The fused kernels, for the tensorflow backend (TensorFlow's ReluGrad and SigmoidGrad). */
export const activationGradKernels: tf.KernelConfig[] = [
  {
    kernelName: RELU_GRAD,
    backendName: "tensorflow",
    kernelFunc: ({ inputs, backend }) => {
      const { dy, x } = inputs as unknown as { dy: tf.TensorInfo; x: tf.TensorInfo };
      return runTfOp(backend, "ReluGrad", [dy, x]); // ReluGrad(gradients, features)
    },
  },
  {
    kernelName: SIGMOID_GRAD,
    backendName: "tensorflow",
    kernelFunc: ({ inputs, backend }) => {
      const { dy, y } = inputs as unknown as { dy: tf.TensorInfo; y: tf.TensorInfo };
      return runTfOp(backend, "SigmoidGrad", [y, dy]); // SigmoidGrad(y, dy)
    },
  },
];
