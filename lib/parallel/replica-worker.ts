/**
 * A data-parallel replica (worker thread): its own tfjs backend and a copy of the coordinator's
 * model, rebuilt from its topology. Per update it reads the current weights from shared memory,
 * computes the mean gradient of its shard (micro-batch by micro-batch, lib/grad/micro-batch.ts),
 * writes it into its gradient slot and answers with the loss and the micro-batch norms. It holds
 * no optimizer: the coordinator averages the slots and applies the update to the one model that
 * evaluation, checkpoints and the caller see.
 */
import { parentPort } from "worker_threads";
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { initBackend } from "../backend";
import { ConfigError } from "../core/errors";
import { trainableVariables } from "../grad/batch";
import { microBatchGradients } from "../grad/micro-batch";
import { classificationTask, languageModelTask, type Task } from "../grad/task";
// Registers batchwise's serialisable layers (e.g. its BatchNormalization) for modelFromJSON.
import "../models";
import type { FromWorker, InitMessage, StepMessage, TaskSpec, ToWorker } from "./protocol";

interface Replica {
  rank: number;
  model: tfl.LayersModel;
  task: Task;
  vars: tf.Variable[];
  weights: Float32Array;
  slot: Float32Array;
}

/** Rebuilds a task from its spec with the factories of lib/grad/task.ts. */
export function taskFromSpec(spec: TaskSpec): Task {
  return spec.kind === "classification"
    ? classificationTask(spec.xShape, spec.numClasses)
    : languageModelTask(spec.xShape[0], spec.numClasses);
}

async function setup(msg: InitMessage): Promise<Replica> {
  await initBackend(msg.backend);
  const model = await tfl.models.modelFromJSON({
    modelTopology: msg.modelTopology as tf.io.ModelArtifacts["modelTopology"],
  } as never);
  const vars = trainableVariables(model);
  const total = vars.reduce((n, v) => n + v.size, 0);
  if (total !== msg.parameters) {
    throw new ConfigError(
      `replica ${msg.rank}: model has ${total} trainable parameters, the coordinator ${msg.parameters}`,
    );
  }
  return {
    rank: msg.rank,
    model,
    task: taskFromSpec(msg.task),
    vars,
    weights: new Float32Array(msg.weights),
    slot: new Float32Array(msg.gradients, (msg.rank - 1) * msg.parameters * 4, msg.parameters),
  };
}

/** Copies the coordinator's weights (shared memory, `model.weights` order) into the model. */
function loadWeights(r: Replica): void {
  let off = 0;
  const values = r.model.weights.map((w) => {
    const size = w.shape.reduce((p: number, q) => p * (q ?? 1), 1);
    const t = tf.tensor(r.weights.subarray(off, off + size), w.shape as number[]);
    off += size;
    return t;
  });
  r.model.setWeights(values);
  tf.dispose(values);
}

function step(r: Replica, msg: StepMessage): FromWorker {
  loadWeights(r);
  const batch = { x: msg.x, y: msg.y, size: msg.size };
  let sizes: number[] = [];
  const stats = tf.tidy(() => {
    const g = microBatchGradients(r.model, r.task, batch, {
      microBatchSize: msg.microBatchSize,
      perVariable: msg.perVariable,
    });
    sizes = g.sizes;
    let off = 0;
    for (const v of r.vars) {
      const d = g.grad[v.name].dataSync() as Float32Array;
      r.slot.set(d, off);
      off += d.length;
    }
    return tf.concat([
      tf.stack([g.loss, ...g.microBatchSqNorms]),
      ...(g.microBatchSqNormsByVariable ?? []),
    ]);
  });
  const v = stats.dataSync();
  stats.dispose();
  const k = sizes.length;
  const V = r.vars.length;
  return {
    type: "stepped",
    rank: r.rank,
    loss: v[0],
    sizes,
    sqNorms: Array.from(v.subarray(1, 1 + k)),
    sqNormsByVariable: msg.perVariable
      ? Array.from({ length: k }, (_, i) =>
          Array.from(v.subarray(1 + k + V * i, 1 + k + V * (i + 1))),
        )
      : undefined,
  };
}

let replica: Replica | null = null;
const port = parentPort;
if (port != null) {
  port.on("message", async (msg: ToWorker) => {
    try {
      if (msg.type === "init") {
        replica = await setup(msg);
        port.postMessage({
          type: "ready",
          rank: msg.rank,
          parameters: msg.parameters,
        } satisfies FromWorker);
      } else if (msg.type === "step") {
        if (replica == null) throw new ConfigError("step before init");
        port.postMessage(step(replica, msg));
      } else if (msg.type === "stop") {
        replica?.model.dispose();
        port.close();
      }
    } catch (e) {
      port.postMessage({
        type: "error",
        rank: replica?.rank ?? -1,
        message: (e as Error).message,
      } satisfies FromWorker);
    }
  });
}
