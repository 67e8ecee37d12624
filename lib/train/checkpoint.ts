/**
 * Checkpoints: everything a training run needs to continue exactly where it stopped.
 *
 * Layout of a checkpoint directory `dir`:
 *
 * ```
 * dir/LATEST                 name of the newest complete checkpoint (written atomically)
 * dir/ckpt-000123/           one checkpoint (step 123)
 *   model.json, weights.bin  model in the tfjs layers format (topology + weights manifest)
 *   optimizer.json/.bin      optimizer class, config and slot variables (by variable index)
 *   state.json               loop state: schedule, sampler, noise estimator, counters, config
 *   runlog.json              the run log so far
 * ```
 *
 * A checkpoint is written into `ckpt-<step>.tmp-<pid>`, renamed to `ckpt-<step>`, and only then
 * named in `LATEST` (write to a temporary file, then rename): a crash at any point leaves the
 * previous checkpoint intact and named. Older checkpoints are deleted after `LATEST` moves.
 */
import * as fs from "fs";
import * as path from "path";
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import type { LoopState, RunLogRow } from "./types";
import { CheckpointError } from "../core/errors";

export { CheckpointError };

/** What a checkpoint holds besides the model and optimizer. */
export interface CheckpointMeta {
  /** Format version of this layout. */
  version: 1;
  /** The loop state. */
  state: LoopState;
  /** The run's configuration (compared on resume). */
  config: Record<string, unknown>;
  /** Names and shapes of the model's weights, in order (compared on resume). */
  modelSignature: { name: string; shape: number[] }[];
}

const LATEST = "LATEST";

function writeFileAtomic(file: string, data: string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  const fd = fs.openSync(tmp, "w");
  try {
    fs.writeSync(fd, data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}

/** Shapes of a model's weights, in `model.weights` order; names with tfjs's unique suffixes removed. */
export function modelSignature(model: tfl.LayersModel): { name: string; shape: number[] }[] {
  return model.weights.map((w) => ({
    name: weightKind(w.originalName),
    shape: w.shape.map((d) => d ?? -1),
  }));
}

/**
 * A weight's name without the per-process layer counter tfjs-layers adds (`conv2d_Conv2D3/kernel`
 * → `conv2d/kernel`), so the same architecture compares equal however many models the process
 * built before it (also applied to names saved by older checkpoints).
 * @param name - A weight's `originalName`, e.g. `dense_Dense12/bias`.
 * @returns The name without the counter, e.g. `dense/bias`.
 * @example weightKind("conv2d_Conv2D3/kernel"); // "conv2d/kernel"
 */
export function weightKind(name: string): string {
  return name.replace(/_[A-Za-z0-9]+?\d+\//, "/").replace(/\d+$/, "");
}

async function modelArtifacts(model: tfl.LayersModel): Promise<tf.io.ModelArtifacts> {
  let saved: tf.io.ModelArtifacts | null = null;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } };
    }),
  );
  if (saved == null) throw new CheckpointError("model.save produced no artifacts");
  return saved;
}

function toBytes(data: tf.io.WeightData | undefined): Uint8Array {
  if (data == null) return new Uint8Array(0);
  if (Array.isArray(data)) return new Uint8Array(tf.io.concatenateArrayBuffers(data));
  return new Uint8Array(data as ArrayBuffer);
}

/**
 * Writes a checkpoint of `model`, `optimizer`, the loop state, run log and config into a new
 * subdirectory of `dir`, then points `dir/LATEST` at it and removes older ones.
 * @returns the checkpoint's directory.
 * @throws Error on I/O failure (the previous checkpoint stays valid).
 */
export async function saveCheckpoint(
  dir: string,
  args: {
    model: tfl.LayersModel;
    optimizer: tf.Optimizer;
    state: LoopState;
    rows: RunLogRow[];
    config: Record<string, unknown>;
  },
): Promise<string> {
  fs.mkdirSync(dir, { recursive: true });
  const name = `ckpt-${String(args.state.step).padStart(7, "0")}`;
  const final = path.join(dir, name);
  const tmp = `${final}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp);

  // 1. Model, in the tfjs layers format.
  const art = await modelArtifacts(args.model);
  const modelJson = {
    modelTopology: art.modelTopology,
    format: "layers-model",
    generatedBy: `TensorFlow.js tfjs-layers v${tfl.version_layers}`,
    convertedBy: null,
    weightsManifest: [{ paths: ["weights.bin"], weights: art.weightSpecs ?? [] }],
  };
  fs.writeFileSync(path.join(tmp, "model.json"), JSON.stringify(modelJson));
  fs.writeFileSync(path.join(tmp, "weights.bin"), toBytes(art.weightData));

  // 2. Optimizer: slot variables keyed by the index of the variable they belong to, so a
  //    process that builds the model with different tfjs-layers name counters can restore them.
  const varIndex = new Map(
    args.model.trainableWeights.map((w, i) => [(w.read() as tf.Variable).name, i]),
  );
  const named = await args.optimizer.getWeights();
  const renamed = named.map(({ name: n, tensor }) => {
    const slash = n.lastIndexOf("/");
    const base = slash >= 0 ? n.slice(0, slash) : n;
    const slot = slash >= 0 ? n.slice(slash + 1) : "";
    const idx = varIndex.get(base);
    return { name: idx == null ? n : `#${idx}/${slot}`, tensor };
  });
  const enc = await tf.io.encodeWeights(renamed);
  fs.writeFileSync(
    path.join(tmp, "optimizer.json"),
    JSON.stringify({
      className: args.optimizer.getClassName(),
      config: args.optimizer.getConfig(),
      specs: enc.specs,
    }),
  );
  fs.writeFileSync(path.join(tmp, "optimizer.bin"), toBytes(enc.data));

  // 3. Loop state, config, run log.
  const meta: CheckpointMeta = {
    version: 1,
    state: args.state,
    config: args.config,
    modelSignature: modelSignature(args.model),
  };
  fs.writeFileSync(path.join(tmp, "state.json"), JSON.stringify(meta));
  fs.writeFileSync(path.join(tmp, "runlog.json"), JSON.stringify(args.rows));

  // 4. Publish: rename the directory, then point LATEST at it, then prune older ones.
  fs.rmSync(final, { recursive: true, force: true });
  fs.renameSync(tmp, final);
  writeFileAtomic(path.join(dir, LATEST), name);
  for (const entry of fs.readdirSync(dir)) {
    if (entry.startsWith("ckpt-") && entry !== name) {
      fs.rmSync(path.join(dir, entry), { recursive: true, force: true });
    }
  }
  return final;
}

/** A checkpoint read back from disk (tensors are owned by the caller until applied). */
export interface LoadedCheckpoint {
  dir: string;
  meta: CheckpointMeta;
  rows: RunLogRow[];
  /** Model weights in `model.weights` order. */
  weights: tf.Tensor[];
  /** Optimizer class name and slot variables keyed `#<trainable index>/<slot>` (or raw names). */
  optimizer: { className: string; config: unknown; weights: { name: string; tensor: tf.Tensor }[] };
}

/** True when `dir` holds a complete checkpoint (a `LATEST` file naming an existing one). */
export function hasCheckpoint(dir: string): boolean {
  const latest = path.join(dir, LATEST);
  if (!fs.existsSync(latest)) return false;
  return fs.existsSync(path.join(dir, fs.readFileSync(latest, "utf8").trim(), "state.json"));
}

function readJson(file: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    throw new CheckpointError(`cannot read ${file}: ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new CheckpointError(`${file} is not valid JSON: ${(e as Error).message}`);
  }
}

/**
 * Reads the newest complete checkpoint in `dir`.
 * @throws CheckpointError if there is none, or a file is missing or malformed (naming it).
 */
export function loadCheckpoint(dir: string): LoadedCheckpoint {
  const latest = path.join(dir, LATEST);
  if (!fs.existsSync(latest))
    throw new CheckpointError(`no checkpoint in ${dir} (missing ${latest})`);
  const ckpt = path.join(dir, fs.readFileSync(latest, "utf8").trim());
  const meta = readJson(path.join(ckpt, "state.json")) as CheckpointMeta;
  if (meta?.version !== 1 || meta.state == null || meta.config == null) {
    throw new CheckpointError(
      `${path.join(ckpt, "state.json")}: not a batchwise checkpoint (version 1)`,
    );
  }
  const rows = readJson(path.join(ckpt, "runlog.json")) as RunLogRow[];
  const modelJson = readJson(path.join(ckpt, "model.json")) as {
    weightsManifest: { weights: tf.io.WeightsManifestEntry[] }[];
  };
  const specs = modelJson.weightsManifest?.[0]?.weights;
  if (!Array.isArray(specs))
    throw new CheckpointError(`${path.join(ckpt, "model.json")}: no weightsManifest`);
  const bin = (f: string): ArrayBuffer => {
    const b = fs.readFileSync(path.join(ckpt, f));
    return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
  };
  let weightMap: tf.NamedTensorMap;
  try {
    weightMap = tf.io.decodeWeights(bin("weights.bin"), specs);
  } catch (e) {
    throw new CheckpointError(`${path.join(ckpt, "weights.bin")}: ${(e as Error).message}`);
  }
  const weights = specs.map((s) => weightMap[s.name]);
  const opt = readJson(path.join(ckpt, "optimizer.json")) as {
    className: string;
    config: unknown;
    specs: tf.io.WeightsManifestEntry[];
  };
  let optMap: tf.NamedTensorMap;
  try {
    optMap = tf.io.decodeWeights(bin("optimizer.bin"), opt.specs);
  } catch (e) {
    tf.dispose(weights);
    throw new CheckpointError(`${path.join(ckpt, "optimizer.bin")}: ${(e as Error).message}`);
  }
  return {
    dir: ckpt,
    meta,
    rows,
    weights,
    optimizer: {
      className: opt.className,
      config: opt.config,
      weights: opt.specs.map((s) => ({ name: s.name, tensor: optMap[s.name] })),
    },
  };
}

/**
 * Checks that a checkpoint belongs to this model and configuration.
 * @throws CheckpointError naming the first differing weight or the differing config keys.
 */
export function checkCompatible(
  loaded: LoadedCheckpoint,
  model: tfl.LayersModel,
  config: Record<string, unknown>,
  ignoreKeys: readonly string[] = [],
): void {
  const a = loaded.meta.modelSignature;
  const b = modelSignature(model);
  if (a.length !== b.length) {
    throw new CheckpointError(
      `checkpoint ${loaded.dir} is for a different model: ${a.length} weight tensors, this model has ${b.length}`,
    );
  }
  for (let i = 0; i < a.length; i++) {
    if (weightKind(a[i].name) !== b[i].name || a[i].shape.join("x") !== b[i].shape.join("x")) {
      throw new CheckpointError(
        `checkpoint ${loaded.dir} is for a different model: weight ${i} is ${a[i].name} [${a[i].shape}], this model has ${b[i].name} [${b[i].shape}]`,
      );
    }
  }
  const keys = new Set([...Object.keys(loaded.meta.config), ...Object.keys(config)]);
  const diff = [...keys].filter(
    (k) =>
      !ignoreKeys.includes(k) &&
      JSON.stringify(loaded.meta.config[k]) !== JSON.stringify(config[k]),
  );
  if (diff.length > 0) {
    const detail = diff
      .map(
        (k) =>
          `${k}: checkpoint ${JSON.stringify(loaded.meta.config[k])}, now ${JSON.stringify(config[k])}`,
      )
      .join("; ");
    throw new CheckpointError(
      `cannot resume ${loaded.dir} with a different configuration (${detail})`,
    );
  }
}

/**
 * Restores model weights and optimizer slots from a loaded checkpoint (and disposes the
 * loaded tensors).
 * @throws CheckpointError if the optimizer class differs.
 */
export async function restoreInto(
  loaded: LoadedCheckpoint,
  model: tfl.LayersModel,
  optimizer: tf.Optimizer,
): Promise<void> {
  if (loaded.optimizer.className !== optimizer.getClassName()) {
    tf.dispose([...loaded.weights, ...loaded.optimizer.weights.map((w) => w.tensor)]);
    throw new CheckpointError(
      `checkpoint ${loaded.dir} was written with optimizer ${loaded.optimizer.className}, this run uses ${optimizer.getClassName()}`,
    );
  }
  model.setWeights(loaded.weights);
  tf.dispose(loaded.weights);
  const vars = model.trainableWeights.map((w) => (w.read() as tf.Variable).name);
  const named = loaded.optimizer.weights.map(({ name, tensor }) => {
    const m = /^#(\d+)\/(.*)$/.exec(name);
    return { name: m ? `${vars[Number(m[1])]}/${m[2]}` : name, tensor };
  });
  await optimizer.setWeights(named);
  // setWeights wraps each tensor in a new variable sharing its data; drop our reference.
  tf.dispose(named.map((w) => w.tensor));
}
