import { fixedSchedule, type FixedSchedule } from "./fixed";
import { requireInt } from "./types";

/**
 * Constant batch size: B_k = B for every update k.
 * @param batchSize B, integer ≥ 1.
 * @throws ScheduleConfigError if B is not an integer ≥ 1.
 * @example constantSchedule({ batchSize: 128 }).update(s, obs).batchSize // 128
 */
export function constantSchedule(opts: { batchSize: number }): FixedSchedule {
  requireInt("batchSize", opts.batchSize, 1);
  const B = opts.batchSize;
  return fixedSchedule("constant", () => ({ batchSize: B, lrFactor: 1 }));
}
