/**
 * Atomic file writes for the report layer: write to a temporary name in the target folder,
 * then rename over the target, so a crash never leaves a half-written file under the real name.
 */
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { ConfigError } from "../core/errors";

/**
 * Writes a file atomically: `write(tmp)` fills a temporary file beside `target` (same folder, so
 * the rename cannot cross file systems), then the temporary file is renamed onto `target`.
 * Creates the parent folder. On any error the temporary file is removed and the error rethrown.
 *
 * @param target destination path; its parent folder is created if missing.
 * @param write callback that writes the complete file at the temporary path it is given.
 * @returns the absolute path of `target`.
 * @throws TypeError if `target` is not a non-empty string; rethrows what `write` or the file
 *   system throws.
 * @example
 * atomicWrite("out/a.txt", (tmp) => fs.writeFileSync(tmp, "hello"));
 */
export function atomicWrite(target: string, write: (tmpPath: string) => void): string {
  if (typeof target !== "string" || target.length === 0) {
    throw new ConfigError(`target: must be a non-empty path, got ${JSON.stringify(target)}`);
  }
  const abs = path.resolve(target);
  fs.mkdirSync(path.dirname(abs), { recursive: true });
  const tmp = path.join(
    path.dirname(abs),
    `.${path.basename(abs)}.tmp-${process.pid}-${randomBytes(6).toString("hex")}`,
  );
  try {
    write(tmp);
    fs.renameSync(tmp, abs);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  return abs;
}
