/**
 * A task tells the training loop how to turn raw arrays into tensors and how to score the
 * model's output: classification (softmax cross-entropy on logits) or next-token language
 * modelling (softmax cross-entropy at every position).
 */
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { ConfigError } from "../core/errors";

/** How a model's inputs, targets and loss are laid out. */
export interface Task {
  /** "classification" or "language-model". */
  readonly kind: "classification" | "language-model";
  /** dtype of the model input. */
  readonly xDtype: "float32" | "int32";
  /** Per-example input shape (without batch), e.g. [28,28,1] or [context]. */
  readonly xShape: number[];
  /** Targets per example: 1 for classification, `context` for a language model. */
  readonly yPerExample: number;
  /** Number of classes / vocabulary size. */
  readonly numClasses: number;
  /**
   * Sum (not mean) of the per-example losses over the batch, as a scalar; per-example loss
   * for a language model is the mean over positions. Runs with `training` for dropout/BN.
   */
  lossSum(model: tfl.LayersModel, x: tf.Tensor, y: tf.Tensor, training: boolean): tf.Scalar;
  /** Sum of the loss and count of correct predictions (per target) over the batch. */
  evaluate(
    model: tfl.LayersModel,
    x: tf.Tensor,
    y: tf.Tensor,
  ): { lossSum: tf.Scalar; correct: tf.Scalar };
}

function checkClasses(numClasses: number): void {
  if (!Number.isInteger(numClasses) || numClasses < 2) {
    throw new ConfigError(`numClasses must be an integer >= 2, got ${numClasses}`);
  }
}

function perExampleCe(logits: tf.Tensor2D, labels: tf.Tensor1D, numClasses: number): tf.Tensor1D {
  // −log softmax(logits)[label] = logsumexp(logits) − logits[label]
  const lse = tf.logSumExp(logits, 1);
  const picked = tf.sum(tf.mul(logits, tf.oneHot(labels, numClasses)), 1);
  return tf.sub(lse, picked) as tf.Tensor1D;
}

/**
 * Classification with integer labels in [0, numClasses) and a model producing logits
 * [B, numClasses].
 */
export function classificationTask(xShape: number[], numClasses: number): Task {
  checkClasses(numClasses);
  return {
    kind: "classification",
    xDtype: "float32",
    xShape,
    yPerExample: 1,
    numClasses,
    lossSum(model, x, y, training) {
      return tf.tidy(() => {
        const logits = model.apply(x, { training }) as tf.Tensor2D;
        return tf.sum(perExampleCe(logits, y as tf.Tensor1D, numClasses)) as tf.Scalar;
      });
    },
    evaluate(model, x, y) {
      return tf.tidy(() => {
        const logits = model.predict(x) as tf.Tensor2D;
        const lossSum = tf.sum(perExampleCe(logits, y as tf.Tensor1D, numClasses)) as tf.Scalar;
        const correct = tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), y), "float32")) as tf.Scalar;
        return { lossSum, correct };
      });
    },
  };
}

/**
 * Next-token prediction: inputs int32 [B, context], targets int32 [B, context], model logits
 * [B, context, vocab]. The per-example loss is the mean cross-entropy over positions (nats per
 * token); perplexity = exp(mean loss).
 */
export function languageModelTask(context: number, vocabSize: number): Task {
  checkClasses(vocabSize);
  const flat = (logits: tf.Tensor, y: tf.Tensor) => {
    const [b] = logits.shape;
    const l2 = tf.reshape(logits, [b * context, vocabSize]) as tf.Tensor2D;
    const y1 = tf.reshape(y, [b * context]) as tf.Tensor1D;
    return { l2, y1 };
  };
  return {
    kind: "language-model",
    xDtype: "int32",
    xShape: [context],
    yPerExample: context,
    numClasses: vocabSize,
    lossSum(model, x, y, training) {
      return tf.tidy(() => {
        const { l2, y1 } = flat(model.apply(x, { training }) as tf.Tensor, y);
        return tf.div(tf.sum(perExampleCe(l2, y1, vocabSize)), context) as tf.Scalar;
      });
    },
    evaluate(model, x, y) {
      return tf.tidy(() => {
        const { l2, y1 } = flat(model.predict(x) as tf.Tensor, y);
        const lossSum = tf.div(tf.sum(perExampleCe(l2, y1, vocabSize)), context) as tf.Scalar;
        const correct = tf.div(
          tf.sum(tf.cast(tf.equal(tf.argMax(l2, 1), y1), "float32")),
          context,
        ) as tf.Scalar;
        return { lossSum, correct };
      });
    },
  };
}
