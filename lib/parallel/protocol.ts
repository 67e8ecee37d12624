/**
 * Messages between the data-parallel coordinator (lib/parallel/data-parallel.ts, in the thread
 * that owns the model) and its replica workers (lib/parallel/replica-worker.ts). Plain,
 * structured-cloneable data; weights and gradients travel through shared memory.
 */

/** What a worker needs to rebuild the task (lib/grad/task.ts) from its factory. */
export interface TaskSpec {
  kind: "classification" | "language-model";
  xShape: number[];
  numClasses: number;
}

/** Sent once to start a worker. */
export interface InitMessage {
  type: "init";
  /** 1 … K_max − 1 (rank 0 is the coordinator). */
  rank: number;
  /** The model's topology, `model.toJSON(null, false)` (tfjs-layers format). */
  modelTopology: unknown;
  task: TaskSpec;
  /** batchwise backend name of the coordinator (the worker starts the same one). */
  backend: string;
  /** Every weight of the model (trainable or not), flattened in `model.weights` order, float32. */
  weights: SharedArrayBuffer;
  /** The trainable variables' gradients, flattened in their order: one slot per worker. */
  gradients: SharedArrayBuffer;
  /** float32 values per gradient slot (trainable parameters). */
  parameters: number;
}

/** One update: this replica's shard of the global batch, and how to compute its gradient. */
export interface StepMessage {
  type: "step";
  x: Float32Array | Int32Array;
  y: Int32Array;
  size: number;
  /** Largest micro-batch (examples) of this replica's gradient computation. */
  microBatchSize: number;
  /** Also return the micro-batch norms split by trainable variable. */
  perVariable: boolean;
}

/** A worker's answer to a step; its mean gradient is in its slot of `gradients`. */
export interface StepReply {
  type: "stepped";
  rank: number;
  /** Mean loss over the shard. */
  loss: number;
  /** Micro-batch sizes b_i of the shard (Σ = shard size). */
  sizes: number[];
  /** |g_i|² per micro-batch. */
  sqNorms: number[];
  /** With `perVariable`: per micro-batch, |g_{i,v}|² per trainable variable. */
  sqNormsByVariable?: number[][];
}

export type ToWorker = InitMessage | StepMessage | { type: "stop" };
export type FromWorker =
  | { type: "ready"; rank: number; parameters: number }
  | StepReply
  | { type: "error"; rank: number; message: string };
