/**
 * Running one TensorFlow op on the `tensorflow` backend (tfjs-node's NodeJSKernelBackend),
 * for the native kernel pack. Only float32 inputs are used by the pack.
 */
import * as tf from "@tensorflow/tfjs-core";
import { BackendError } from "../../core/errors";

/** The part of tfjs-node's NodeJSKernelBackend the native pack uses. */
export interface NodeBackendInternals {
  binding: { TF_ATTR_TYPE: number; TF_FLOAT: number };
  executeSingleOutput(name: string, opAttrs: unknown[], inputs: tf.TensorInfo[]): tf.Tensor;
}

/**
 * Runs the TensorFlow op `name` with its type attribute `T` set to float32 on `inputs`,
 * returning its single output.
 *
 * @param backend the kernel's backend argument (must be tfjs-node's).
 * @param name a TensorFlow op name (`ReluGrad`, `SigmoidGrad`, ...; see TensorFlow's raw ops).
 * @param inputs the op's inputs in its declared order, float32.
 * @throws Error when an input is not float32 (the caller falls back before that).
 */
export function runTfOp(backend: unknown, name: string, inputs: tf.TensorInfo[]): tf.Tensor {
  for (const t of inputs) {
    if (t.dtype !== "float32")
      throw new BackendError(`${name}: float32 inputs only, got ${t.dtype}`);
  }
  const b = backend as unknown as NodeBackendInternals;
  const attrs = [{ name: "T", type: b.binding.TF_ATTR_TYPE, value: b.binding.TF_FLOAT }];
  return b.executeSingleOutput(name, attrs, inputs);
}
