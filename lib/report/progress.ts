/**
 * The progress reporter the jobs install into `trainLoop` (as loop hooks): a progress bar on a
 * terminal (cli-progress), one line per evaluation otherwise (logs, notebooks, CI).
 */
import { Presets, SingleBar } from "cli-progress";
import type { LoopHooks } from "../train/loop";

/** Where the reporter writes and how. */
export interface ProgressOptions {
  /** Draw a bar (default: whether stderr is a terminal). */
  tty?: boolean;
  /** Where lines go without a bar (default console.log). */
  log?: (line: string) => void;
}

/**
 * Loop hooks that report a run's progress: with a terminal, a bar with step, B, loss and the
 * last test accuracy; without one, a line per evaluation (step, epoch, B, train loss, test loss,
 * test accuracy, training seconds).
 * @example trainLoop({ ...args, hooks: progressReporter() })
 */
export function progressReporter(opts: ProgressOptions = {}): LoopHooks {
  const tty = opts.tty ?? process.stderr.isTTY === true;
  const log = opts.log ?? console.log;
  let bar: SingleBar | null = null;
  let acc = "-";
  return {
    onStart(info) {
      if (!tty) return;
      bar = new SingleBar(
        {
          format: `${info.runName} [{bar}] {percentage}% | step {step} | B {B} | loss {loss} | acc {acc} | {duration_formatted}`,
        },
        Presets.shades_classic,
      );
      bar.start(info.examplesBudget, info.examples, { step: info.step, B: "-", loss: "-", acc });
    },
    onRow(row) {
      if (row.testAccuracy != null) {
        acc = (100 * row.testAccuracy).toFixed(2) + "%";
        if (bar == null) {
          log(
            `${row.run}: step ${row.step}, epoch ${row.epoch.toFixed(2)}, B ${row.batchSize}, train loss ${row.trainLoss.toFixed(4)}, test loss ${(row.testLoss ?? NaN).toFixed(4)}, test accuracy ${acc}, ${row.wallClock.toFixed(1)} s`,
          );
        }
      }
      bar?.update(row.examples, {
        step: row.step,
        B: row.batchSize,
        loss: row.trainLoss.toFixed(4),
        acc,
      });
    },
    onEnd() {
      bar?.stop();
      bar = null;
    },
  };
}
