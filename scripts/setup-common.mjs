// The helpers the set-up scripts share (scripts/setup-native.mjs, scripts/setup-notebooks.mjs):
// prefixed messages, failing with a message, and running a command that must succeed.
import { spawnSync } from "node:child_process";

/**
 * @param {string} tag the prefix of every message (`setup:native`).
 * @param {boolean} quiet capture the commands' output (shown only when one fails).
 */
export function setupTools(tag, quiet) {
  const log = (msg) => process.stdout.write(`${tag}: ${msg}\n`);
  const fail = (msg) => {
    process.stderr.write(`${tag}: error: ${msg}\n`);
    process.exit(1);
  };
  /** Runs `cmd argv`; exits with its output's tail when it cannot start or fails; returns stdout. */
  const run = (cmd, argv, opts = {}) => {
    const r = spawnSync(cmd, argv, {
      stdio: quiet ? "pipe" : "inherit",
      encoding: "utf8",
      maxBuffer: 1 << 26,
      ...opts,
    });
    if (r.error) fail(`${cmd} could not start: ${r.error.message}`);
    if (r.status !== 0)
      fail(
        `${cmd} ${argv.join(" ")} exited with ${r.status}${r.stderr ? `\n${r.stderr.slice(-2000)}` : ""}`,
      );
    return r.stdout;
  };
  return { log, fail, run };
}
