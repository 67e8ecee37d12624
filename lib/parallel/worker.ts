/**
 * A data-parallel replica (worker thread): its own tfjs backend, a copy of the model built
 * from the same seed, its own optimizer. Per update it computes the mean gradient of its shard,
 * writes it into its slot of a SharedArrayBuffer, waits at a barrier, averages all slots
 * (weighted by shard size: G_B = Σ_r (b_r/B) g_r) and applies the average — so every replica
 * applies the same update and the weights stay identical without ever being sent.
 */
import { parentPort } from "worker_threads";
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { initBackend } from "../backend";
import { loadFashionMnist } from "../data/fashion-mnist";
import { subset } from "../data/dataset";
import { classificationTask, Task } from "../grad/task";
import { classificationSource } from "../data/source";
import { DataSource } from "../data/source";
import { setLearningRate } from "../optim/learning-rate";
import { trainableVariables } from "../grad/batch";
import { buildReplicaModel } from "./models";
import { FromWorker, InitMessage, StepMessage, ToWorker } from "./protocol";
import { ConfigError } from "../core/errors";
import { microBatchGradients } from "../grad/micro-batch";

/** Waits until all `n` parties arrive (generation-counting barrier on Int32 cells [count, gen]). */
export function barrierWait(cells: Int32Array, n: number): void {
  const gen = Atomics.load(cells, 1);
  if (Atomics.add(cells, 0, 1) === n - 1) {
    Atomics.store(cells, 0, 0);
    Atomics.add(cells, 1, 1);
    Atomics.notify(cells, 1);
  } else {
    while (Atomics.load(cells, 1) === gen) Atomics.wait(cells, 1, gen);
  }
}

interface Replica {
  init: InitMessage;
  model: tfl.LayersModel;
  optimizer: tf.Optimizer;
  task: Task;
  data: DataSource;
  vars: tf.Variable[];
  sizes: number[];
  slots: Float32Array;
  cells: Int32Array;
  /** This step's shard size of every replica, exchanged through the first barrier. */
  shardSizes: Int32Array;
}

function randomSource(n: number, xShape: number[], classes: number): DataSource {
  const per = xShape.reduce((p, q) => p * q, 1);
  const x = new Float32Array(n * per);
  let s = 12345;
  for (let i = 0; i < x.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    x[i] = s / 4294967296;
  }
  const y = Int32Array.from({ length: n }, (_, i) => i % classes);
  return {
    n,
    batch: (idx) => {
      const xb = new Float32Array(idx.length * per);
      idx.forEach((j, r) => xb.set(x.subarray(j * per, (j + 1) * per), r * per));
      return { x: xb, y: Int32Array.from(idx, (j) => y[j]), size: idx.length };
    },
  };
}

async function setup(msg: InitMessage): Promise<Replica> {
  await initBackend(msg.backend);
  const model = buildReplicaModel(msg.model);
  const vars = trainableVariables(model);
  const sizes = vars.map((v) => v.size);
  const total = sizes.reduce((p, q) => p + q, 0);
  if (total !== msg.parameters) {
    throw new ConfigError(
      `replica ${msg.rank}: model has ${total} parameters, coordinator expected ${msg.parameters}`,
    );
  }
  const optimizer =
    msg.optimizer.name === "adam"
      ? tf.train.adam(msg.optimizer.learningRate)
      : tf.train.sgd(msg.optimizer.learningRate);
  let data: DataSource;
  if (msg.data.kind === "fashion-mnist") {
    const full = loadFashionMnist().train;
    data = classificationSource(
      msg.data.trainSubset > 0 ? subset(full, Math.min(msg.data.trainSubset, full.n)) : full,
    );
  } else {
    data = randomSource(msg.data.trainSubset, msg.model.inputShape, msg.model.numClasses);
  }
  // The layout of the shared buffer: [replicas × parameters] gradient slots, then one int32 per
  // replica holding its shard size for the current step.
  const slots = new Float32Array(msg.gradients, 0, msg.replicas * msg.parameters);
  const shardSizes = new Int32Array(msg.gradients, msg.replicas * msg.parameters * 4, msg.replicas);
  return {
    init: msg,
    model,
    optimizer,
    task: classificationTask(msg.model.inputShape, msg.model.numClasses),
    data,
    vars,
    sizes,
    slots,
    cells: new Int32Array(msg.barrier),
    shardSizes,
  };
}

function step(r: Replica, msg: StepMessage): FromWorker {
  const { rank, replicas, parameters } = r.init;
  const b = msg.indices.length;
  const batch = r.data.batch(msg.indices);
  setLearningRate(r.optimizer, msg.learningRate);
  // 1. Local mean gradient, flattened into this replica's slot (one device→host read).
  const [loss, flat] = tf.tidy(() => {
    const g = microBatchGradients(r.model, r.task, batch, { microBatchSize: b, norms: false });
    const v = tf.concat(r.vars.map((w) => tf.reshape(g.grad[w.name], [-1])));
    return [g.loss.dataSync()[0], v.dataSync() as Float32Array];
  });
  r.slots.set(flat, rank * parameters);
  r.shardSizes[rank] = b;
  // 2. All slots written.
  barrierWait(r.cells, replicas);
  // 3. Weighted average G_B = Σ (b_r/B) g_r, computed identically on every replica, with the
  //    backend's vectorised ops (the slots are copied into its memory once each).
  const B = msg.batchSize;
  const slotTensors = Array.from({ length: replicas }, (_, q) =>
    tf.tensor1d(r.slots.subarray(q * parameters, (q + 1) * parameters)),
  );
  const weights = Array.from(r.shardSizes, (size) => size / B);
  // 4. Everyone has copied the slots and sizes: they may be overwritten by the next step.
  barrierWait(r.cells, replicas);
  const norms = tf.tidy(() => {
    const avg = tf.addN(slotTensors.map((t, q) => tf.mul(t, weights[q])));
    const parts = tf.split(avg, r.sizes);
    const named: tf.NamedTensorMap = {};
    r.vars.forEach((v, i) => (named[v.name] = tf.reshape(parts[i], v.shape)));
    r.optimizer.applyGradients(named);
    return tf.stack([tf.sum(tf.square(slotTensors[rank])), tf.sum(tf.square(avg))]);
  });
  const [sqNorm, bigSqNorm] = norms.dataSync();
  tf.dispose([norms, ...slotTensors]);
  return { type: "stepped", rank, loss, sqNorm, bigSqNorm, size: b };
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
      } else if (msg.type === "weights") {
        if (replica == null) throw new ConfigError("weights before init");
        const r = replica;
        const values = tf.tidy(
          () => tf.concat(r.vars.map((v) => tf.reshape(v, [-1]))).dataSync() as Float32Array,
        );
        port.postMessage({ type: "weights", rank: r.init.rank, values } satisfies FromWorker);
      } else if (msg.type === "stop") {
        port.close();
      }
    } catch (e) {
      port.postMessage({
        type: "error",
        rank: replica?.init.rank ?? -1,
        message: (e as Error).message,
      } satisfies FromWorker);
    }
  });
}
