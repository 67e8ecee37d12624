/**
 * Messages between the replica coordinator (lib/parallel/replicas.ts) and its workers
 * (lib/parallel/worker.ts). Plain, structured-cloneable data.
 */

/** The models a replica can build (by name, with the builder's options). */
export interface ModelSpec {
  builder: "smallCnn" | "gapCnn" | "mlp";
  inputShape: number[];
  numClasses: number;
  seed: number;
  hidden?: number[];
}

/** The data a replica reads (each worker loads it itself). */
export interface DataSpec {
  kind: "fashion-mnist" | "random";
  /** Use the first n training examples (0 = all); for "random", the number of examples. */
  trainSubset: number;
}

/** Sent once to start a worker. */
export interface InitMessage {
  type: "init";
  rank: number;
  replicas: number;
  model: ModelSpec;
  data: DataSpec;
  optimizer: { name: "adam" | "sgd"; learningRate: number };
  /** Shared gradient slots, replicas × parameters float32. */
  gradients: SharedArrayBuffer;
  /** Int32 cells for the barrier: [arrived, generation]. */
  barrier: SharedArrayBuffer;
  /** Number of float32 values per gradient slot (the model's trainable parameters). */
  parameters: number;
  backend: string;
}

/** Sent for every model update: the global batch's example indices for this replica. */
export interface StepMessage {
  type: "step";
  /** This replica's shard of the global batch. */
  indices: Int32Array;
  /** Global batch size B (sum over replicas). */
  batchSize: number;
  learningRate: number;
}

/** A worker's answer to a step. */
export interface StepReply {
  type: "stepped";
  rank: number;
  /** Mean loss over this replica's shard. */
  loss: number;
  /** |g_r|² of this replica's mean gradient (a "small batch" for the noise scale). */
  sqNorm: number;
  /** |G_B|² of the averaged gradient (identical on every replica). */
  bigSqNorm: number;
  /** Shard size. */
  size: number;
}

export type ToWorker = InitMessage | StepMessage | { type: "weights" } | { type: "stop" };
export type FromWorker =
  | { type: "ready"; rank: number; parameters: number }
  | StepReply
  | { type: "weights"; rank: number; values: Float32Array }
  | { type: "error"; rank: number; message: string };
