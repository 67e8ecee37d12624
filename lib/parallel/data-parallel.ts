/**
 * Data-parallel training on one machine, for any tfjs-layers model: the thread that owns the
 * model is replica 0 and K − 1 worker threads (lib/parallel/replica-worker.ts, each with its own
 * tfjs backend) are the others. One update with K replicas:
 *
 * 1. the coordinator writes the model's weights into shared memory and sends each worker its
 *    contiguous shard of the batch (the examples themselves, so any data source works);
 * 2. every replica computes the mean gradient g_r of its shard, micro-batch by micro-batch;
 * 3. the coordinator averages G_B = Σ_r (b_r/B)·g_r in rank order and applies it with the
 *    caller's optimizer, on the caller's model.
 *
 * The workers hold no optimizer state, so checkpoints, evaluation and any optimizer (Adam, LAMB,
 * AdaScale …) are those of the single-thread path. Every micro-batch of every replica is a
 * "small batch" of McCandlish et al.'s estimator (2018, App. A.1) and G_B the "big" one, so
 * {@link DataParallel.step} returns the record `trainStep` returns.
 *
 * Determinism: for a fixed K and micro-batch size the sums run in a fixed order, so a run (and
 * its resumption) is bit-reproducible; a different K changes the rounding of G_B (not its value).
 * Departure: batch-norm moving statistics are updated from replica 0's shard only (the workers'
 * are overwritten every update); dropout masks differ per worker.
 */
import * as path from "path";
import { Worker } from "worker_threads";
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { currentBackend } from "../backend";
import { BackendError, ConfigError } from "../core/errors";
import type { StepBatch } from "../data/source";
import { sqNormsByVariable, trainableVariables, valuesPerExample } from "../grad/batch";
import { microBatchGradients } from "../grad/micro-batch";
import type { Task } from "../grad/task";
import type { StepResult } from "../grad/types";
import { setLearningRate } from "../optim/learning-rate";
import type { FromWorker, StepReply, TaskSpec, ToWorker } from "./protocol";

/** Options of {@link startDataParallel}. */
export interface DataParallelOptions {
  /** Largest number of replicas K_max (integer ≥ 2): K_max − 1 workers are started. */
  maxReplicas: number;
  /** Backend of the workers (default: the coordinator's, `currentBackend()`). */
  backend?: string;
}

/** Options of one {@link DataParallel.step}. */
export interface ParallelStepOptions {
  /** Replicas K of this update, integer in [1, K_max] and ≤ B. */
  replicas: number;
  /** Largest micro-batch per replica (examples), integer ≥ 1. */
  microBatchSize: number;
  /** Learning rate of this update (> 0), set on the optimizer before applying. */
  learningRate: number;
  /** Also return the norms split by trainable variable (per-layer noise scales). */
  perVariable?: boolean;
}

/** A started pool of replicas bound to one model. */
export interface DataParallel {
  /** K_max. */
  readonly maxReplicas: number;
  /** Trainable parameters of the model. */
  readonly parameters: number;
  /**
   * One synchronous data-parallel update of the coordinator's model on `batch`, applied with
   * `optimizer` (any tf.Optimizer; its learning rate is set to `opts.learningRate`).
   * @returns loss (mean over B), the micro-batch sizes and |g_i|² of every replica in rank
   *   order, |G_B|² of the average; with `perVariable` the same split by variable.
   * @throws ConfigError if K is out of range or larger than B; BackendError if a worker fails.
   */
  step(optimizer: tf.Optimizer, batch: StepBatch, opts: ParallelStepOptions): Promise<StepResult>;
  /** Stops the workers (idempotent). */
  close(): Promise<void>;
}

/** Splits B into K contiguous shards of near-equal size (the first B mod K get one more). */
export function shardSizes(batchSize: number, replicas: number): number[] {
  const base = Math.floor(batchSize / replicas);
  const extra = batchSize - base * replicas;
  return Array.from({ length: replicas }, (_, i) => base + (i < extra ? 1 : 0));
}

/**
 * The examples [offset, offset + size) of a batch: views into it (`copy` false, for this
 * thread), or arrays of their own (`copy` true, to transfer to a worker).
 */
function sliceBatch(
  task: Task,
  batch: StepBatch,
  offset: number,
  size: number,
  copy: boolean,
): StepBatch {
  const per = valuesPerExample(task);
  const cut = <T extends Float32Array | Int32Array>(a: T, from: number, to: number): T =>
    (copy ? a.slice(from, to) : a.subarray(from, to)) as T;
  return {
    x: cut(batch.x, offset * per, (offset + size) * per),
    y: cut(batch.y, offset * task.yPerExample, (offset + size) * task.yPerExample),
    size,
  };
}

function taskSpec(task: Task): TaskSpec {
  return { kind: task.kind, xShape: [...task.xShape], numClasses: task.numClasses };
}

/**
 * Starts K_max − 1 replica workers for `model` and waits until each has rebuilt it.
 *
 * @param model - Any tfjs-layers model whose topology serialises (`model.toJSON`); custom layers
 *   must be registered in lib/models. Its weights must be float32.
 * @param task - A task built by `classificationTask` or `languageModelTask` (the workers rebuild
 *   it from its kind, input shape and classes).
 * @throws ConfigError if `maxReplicas` is not an integer ≥ 2 or a weight is not float32;
 *   BackendError if no backend is initialised or a worker fails to start (with its message).
 */
export async function startDataParallel(
  model: tfl.LayersModel,
  task: Task,
  opts: DataParallelOptions,
): Promise<DataParallel> {
  const K = opts.maxReplicas;
  if (!Number.isInteger(K) || K < 2) {
    throw new ConfigError(`maxReplicas must be an integer >= 2, got ${K}`);
  }
  const backend = opts.backend ?? currentBackend()?.name;
  if (backend == null) throw new BackendError("startDataParallel: initialise a backend first");
  const bad = model.weights.find((w) => w.dtype !== "float32");
  if (bad != null) {
    throw new ConfigError(
      `data-parallel replicas need float32 weights; ${bad.name} is ${bad.dtype}`,
    );
  }
  const vars = trainableVariables(model);
  const names = vars.map((v) => v.name);
  const parameters = vars.reduce((n, v) => n + v.size, 0);
  const allValues = model.weights.reduce(
    (n, w) => n + w.shape.reduce((p: number, q) => p * (q ?? 1), 1),
    0,
  );
  const weightsBuffer = new SharedArrayBuffer(allValues * 4);
  const gradients = new SharedArrayBuffer((K - 1) * parameters * 4);
  const weightsView = new Float32Array(weightsBuffer);
  const slots = Array.from(
    { length: K - 1 },
    (_, i) => new Float32Array(gradients, i * parameters * 4, parameters),
  );
  // The worker is TypeScript: bootstrap it through tsx's CommonJS hook (a .ts file passed to
  // new Worker() directly is not transpiled, even under `node --import tsx`).
  const file = path.join(__dirname, "replica-worker.ts");
  const boot = `require("tsx/cjs"); require(${JSON.stringify(file)});`;
  const workers = Array.from({ length: K - 1 }, () => new Worker(boot, { eval: true }));
  const pending = new Map<
    number,
    { resolve: (m: FromWorker) => void; reject: (e: Error) => void }
  >();
  /** Why a worker is gone (exited or crashed): later steps fail at once instead of waiting. */
  const gone = new Map<number, string>();
  const waitFor = (rank: number) =>
    new Promise<FromWorker>((resolve, reject) => {
      const why = gone.get(rank);
      if (why != null) reject(new BackendError(`replica ${rank}: ${why}`));
      else pending.set(rank, { resolve, reject });
    });
  workers.forEach((w, i) => {
    const rank = i + 1;
    const fail = (message: string, dead = false) => {
      if (dead) gone.set(rank, message);
      const p = pending.get(rank);
      pending.delete(rank);
      p?.reject(new BackendError(`replica ${rank}: ${message}`));
    };
    w.on("message", (m: FromWorker) => {
      if (m.type === "error") return fail(m.message);
      const p = pending.get(rank);
      pending.delete(rank);
      p?.resolve(m);
    });
    w.on("error", (e) => fail(e.message, true));
    w.on("exit", (code) => fail(`exited with code ${code}`, true));
  });
  const send = (rank: number, m: ToWorker, transfer: ArrayBuffer[] = []) =>
    workers[rank - 1].postMessage(m, transfer);
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    workers.forEach((w) => w.removeAllListeners("exit"));
    await Promise.all(workers.map((w) => w.terminate()));
  };
  try {
    const ready = workers.map((_, i) => waitFor(i + 1));
    const modelTopology = model.toJSON(null, false);
    workers.forEach((_, i) =>
      send(i + 1, {
        type: "init",
        rank: i + 1,
        modelTopology,
        task: taskSpec(task),
        backend,
        weights: weightsBuffer,
        gradients,
        parameters,
      }),
    );
    await Promise.all(ready);
  } catch (e) {
    await close();
    throw e;
  }

  return {
    maxReplicas: K,
    parameters,
    close,
    async step(optimizer, batch, o) {
      const k = o.replicas;
      const B = batch.size;
      if (!Number.isInteger(k) || k < 1 || k > K) {
        throw new ConfigError(`replicas must be an integer in [1, ${K}], got ${k}`);
      }
      if (k > B) throw new ConfigError(`batch size ${B} is smaller than the replicas K=${k}`);
      if (closed) throw new BackendError("the data-parallel workers were closed");
      const sizes = shardSizes(B, k);
      const perVariable = o.perVariable ?? false;
      // 1. weights → shared memory (one read per weight), shards → workers
      let at = 0;
      for (const w of k > 1 ? model.weights : []) {
        const v = w.read().dataSync() as Float32Array;
        weightsView.set(v, at);
        at += v.length;
      }
      const replies = sizes.slice(1).map((_, i) => waitFor(i + 1));
      let offset = sizes[0];
      for (let r = 1; r < k; r++) {
        const shard = sliceBatch(task, batch, offset, sizes[r], true);
        offset += sizes[r];
        send(
          r,
          {
            type: "step",
            x: shard.x,
            y: shard.y,
            size: shard.size,
            microBatchSize: o.microBatchSize,
            perVariable,
          },
          [shard.x.buffer as ArrayBuffer, shard.y.buffer as ArrayBuffer],
        );
      }
      // 2. replica 0's shard here, meanwhile
      let ownSizes: number[] = [];
      const ownShard = () =>
        tf.tidy(() => {
          const g = microBatchGradients(model, task, sliceBatch(task, batch, 0, sizes[0], false), {
            microBatchSize: o.microBatchSize,
            perVariable,
          });
          ownSizes = g.sizes;
          return {
            grads: vars.map((v) => tf.keep(g.grad[v.name])),
            stats: tf.keep(
              tf.concat([
                tf.stack([g.loss, ...g.microBatchSqNorms]),
                ...(g.microBatchSqNormsByVariable ?? []),
              ]),
            ),
          };
        });
      let own: ReturnType<typeof ownShard>;
      try {
        own = ownShard();
      } catch (e) {
        // let the workers finish this step before the error propagates (no reply is left pending)
        await Promise.allSettled(replies);
        throw e;
      }
      // every reply settles before a failure propagates (no rejection is left unhandled)
      const settled = await Promise.allSettled(replies);
      const failed = settled.find((r): r is PromiseRejectedResult => r.status === "rejected");
      if (failed != null) {
        tf.dispose([...own.grads, own.stats]);
        throw failed.reason;
      }
      const rs = settled.map((r) => (r as PromiseFulfilledResult<FromWorker>).value as StepReply);
      // 3. G_B = Σ_r (b_r/B)·g_r in rank order, applied by the caller's optimizer
      const head = tf.tidy(() => {
        const named: tf.NamedTensorMap = {};
        let off = 0;
        vars.forEach((v, j) => {
          let sum = tf.mul(own.grads[j], sizes[0] / B);
          rs.forEach((_, i) => {
            const slot = tf.tensor(slots[i].subarray(off, off + v.size), v.shape);
            sum = tf.add(sum, tf.mul(slot, sizes[i + 1] / B));
          });
          named[v.name] = sum;
          off += v.size;
        });
        setLearningRate(optimizer, o.learningRate);
        const byVariable = sqNormsByVariable(named, names);
        optimizer.applyGradients(named);
        const big = tf.reshape(tf.sum(byVariable), [1]);
        return perVariable ? tf.concat([big, byVariable]) : big;
      });
      const [ownStats, headStats] = [own.stats.dataSync(), head.dataSync()];
      tf.dispose([...own.grads, own.stats, head]);
      const k0 = ownSizes.length;
      const V = vars.length;
      const ownByVariable = Array.from({ length: k0 }, (_, i) =>
        Array.from(ownStats.subarray(1 + k0 + V * i, 1 + k0 + V * (i + 1))),
      );
      const out: StepResult = {
        loss:
          (sizes[0] / B) * ownStats[0] + rs.reduce((a, r, i) => a + (sizes[i + 1] / B) * r.loss, 0),
        gradSqNorm: headStats[0],
        microBatchSizes: [...ownSizes, ...rs.flatMap((r) => r.sizes)],
        microBatchSqNorms: [
          ...Array.from(ownStats.subarray(1, 1 + k0)),
          ...rs.flatMap((r) => r.sqNorms),
        ],
      };
      if (perVariable) {
        out.variableNames = names;
        out.gradSqNormByVariable = Array.from(headStats.subarray(1, 1 + V));
        out.microBatchSqNormsByVariable = [
          ...ownByVariable,
          ...rs.flatMap((r) => r.sqNormsByVariable ?? []),
        ];
      }
      return out;
    },
  };
}
