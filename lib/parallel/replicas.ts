/**
 * Data-parallel training on one machine: K replicas in worker threads, each with its own tfjs
 * backend (wasm + kernel pack here), the batch split across them, gradients averaged
 * synchronously through shared memory (lib/parallel/worker.ts). Each replica's gradient norm
 * is a "small batch" of McCandlish et al.'s estimator (2018, App. A.1) and the average the "big"
 * one, so {@link ReplicaGroup.step} returns the same record as trainStep and feeds the
 * noise-scale estimator for free.
 */
import * as path from "path";
import { Worker } from "worker_threads";
import { BackendError } from "../core/errors";
import { StepResult } from "../grad/types";
import { currentBackend, initBackend } from "../backend";
import { buildReplicaModel } from "./models";
import { DataSpec, FromWorker, ModelSpec, StepReply, ToWorker } from "./protocol";
import { ConfigError } from "../core/errors";

/** Options of {@link createReplicaGroup}. */
export interface ReplicaGroupOptions {
  /** Number of replicas K, integer ≥ 1. */
  replicas: number;
  model: ModelSpec;
  data: DataSpec;
  optimizer: { name: "adam" | "sgd"; learningRate: number };
  /** Backend of every replica (default "wasm"). */
  backend?: string;
}

/** A running group of replicas. */
export interface ReplicaGroup {
  readonly replicas: number;
  /** Trainable parameters of the model. */
  readonly parameters: number;
  /**
   * One synchronous data-parallel update on the examples `indices` (the global batch, split
   * into K near-equal contiguous shards).
   * @returns loss (weighted mean), per-replica sizes and |g_r|², and |G_B|² of the average.
   */
  step(indices: Int32Array, learningRate: number): Promise<StepResult>;
  /** The flattened weights of every replica (to check they agree). */
  weights(): Promise<Float32Array[]>;
  /** Stops the workers. */
  close(): Promise<void>;
}

/** Splits B into K contiguous shards of near-equal size (sizes differ by at most 1; empty shards allowed when B < K). */
export function shardSizes(batchSize: number, replicas: number): number[] {
  const base = Math.floor(batchSize / replicas);
  const extra = batchSize - base * replicas;
  return Array.from({ length: replicas }, (_, i) => base + (i < extra ? 1 : 0));
}

/**
 * Starts K replica workers and waits until each has built its model and loaded its data.
 * @throws Error if K is not an integer ≥ 1, or a worker fails to start (with its message).
 */
export async function createReplicaGroup(opts: ReplicaGroupOptions): Promise<ReplicaGroup> {
  const K = opts.replicas;
  if (!Number.isInteger(K) || K < 1)
    throw new ConfigError(`replicas must be an integer >= 1, got ${K}`);
  // Count the parameters on a throwaway copy (needs a backend in this thread too).
  if (currentBackend() == null) await initBackend(opts.backend ?? "wasm");
  const probe = buildReplicaModel(opts.model);
  const parameters = probe.trainableWeights.reduce(
    (n, w) => n + w.shape.reduce((p: number, q) => p * (q ?? 1), 1),
    0,
  );
  probe.dispose();
  const gradients = new SharedArrayBuffer(K * parameters * 4 + K * 4);
  const barrier = new SharedArrayBuffer(8);
  // The worker is TypeScript: bootstrap it through tsx's CommonJS hook (a .ts file passed to
  // new Worker() directly is not transpiled, even under `node --import tsx`).
  const file = path.join(__dirname, "worker.ts");
  const boot = `require("tsx/cjs"); require(${JSON.stringify(file)});`;
  const workers = Array.from({ length: K }, () => new Worker(boot, { eval: true }));
  const pending = new Map<
    number,
    { resolve: (m: FromWorker) => void; reject: (e: Error) => void }
  >();
  const waitFor = (rank: number) =>
    new Promise<FromWorker>((resolve, reject) => pending.set(rank, { resolve, reject }));
  workers.forEach((w, rank) => {
    w.on("message", (m: FromWorker) => {
      const p = pending.get(rank);
      pending.delete(rank);
      if (m.type === "error") p?.reject(new BackendError(`replica ${rank}: ${m.message}`));
      else p?.resolve(m);
    });
    w.on("error", (e) => {
      const p = pending.get(rank);
      pending.delete(rank);
      p?.reject(new BackendError(`replica ${rank}: ${e.message}`));
    });
  });
  const send = (rank: number, m: ToWorker) => workers[rank].postMessage(m);
  try {
    const ready = workers.map((_, rank) => waitFor(rank));
    workers.forEach((_, rank) =>
      send(rank, {
        type: "init",
        rank,
        replicas: K,
        model: opts.model,
        data: opts.data,
        optimizer: opts.optimizer,
        gradients,
        barrier,
        parameters,
        backend: opts.backend ?? "wasm",
      }),
    );
    await Promise.all(ready);
  } catch (e) {
    await Promise.all(workers.map((w) => w.terminate()));
    throw e;
  }
  return {
    replicas: K,
    parameters,
    async step(indices, learningRate) {
      const B = indices.length;
      const sizes = shardSizes(B, K);
      if (sizes.some((s) => s === 0))
        throw new ConfigError(`batch size ${B} is smaller than the number of replicas ${K}`);
      const replies = workers.map((_, rank) => waitFor(rank));
      let off = 0;
      sizes.forEach((s, rank) => {
        send(rank, {
          type: "step",
          indices: indices.slice(off, off + s),
          batchSize: B,
          learningRate,
        });
        off += s;
      });
      const rs = (await Promise.all(replies)) as StepReply[];
      return {
        loss: rs.reduce((acc, r) => acc + (r.size / B) * r.loss, 0),
        gradSqNorm: rs[0].bigSqNorm,
        microBatchSizes: rs.map((r) => r.size),
        microBatchSqNorms: rs.map((r) => r.sqNorm),
      };
    },
    async weights() {
      const replies = workers.map((_, rank) => waitFor(rank));
      workers.forEach((_, rank) => send(rank, { type: "weights" }));
      return ((await Promise.all(replies)) as { type: "weights"; values: Float32Array }[]).map(
        (r) => r.values,
      );
    },
    async close() {
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}
