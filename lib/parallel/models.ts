/** Builds a replica's model from a {@link ModelSpec} (the same seed gives the same weights). */
import * as tfl from "@tensorflow/tfjs-layers";
import { gapCnn, mlp, smallCnn } from "../models/small";
import { ModelSpec } from "./protocol";
import { ConfigError } from "../core/errors";

/**
 * @throws Error for an unknown builder name.
 */
export function buildReplicaModel(spec: ModelSpec): tfl.LayersModel {
  const opts = { inputShape: spec.inputShape, numClasses: spec.numClasses, seed: spec.seed };
  switch (spec.builder) {
    case "smallCnn":
      return smallCnn(opts);
    case "gapCnn":
      return gapCnn(opts);
    case "mlp":
      return mlp({ ...opts, hidden: spec.hidden });
    default:
      throw new ConfigError(
        `model.builder: unknown value '${String((spec as { builder: unknown }).builder)}' (valid: smallCnn, gapCnn, mlp)`,
      );
  }
}
