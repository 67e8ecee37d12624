/** Shared helpers for the dataset-layer tests (not a test file itself). */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { DatasetError } from "../../lib/core/errors";

/** A fresh temporary directory under the OS temp dir; remove it with {@link removeDir}. */
export function makeTempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `batchwise-${prefix}-`));
}

/** Removes a directory made by {@link makeTempDir}. */
export function removeDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

/** Asserts that `fn` throws a DatasetError whose message contains every one of `parts`. */
export function assertDatasetError(fn: () => unknown, ...parts: string[]): DatasetError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  return checkError(caught, parts);
}

/** Async version of {@link assertDatasetError}. */
export async function assertRejectsDatasetError(
  promise: Promise<unknown>,
  ...parts: string[]
): Promise<DatasetError> {
  let caught: unknown;
  try {
    await promise;
  } catch (e) {
    caught = e;
  }
  return checkError(caught, parts);
}

function checkError(caught: unknown, parts: string[]): DatasetError {
  assert.ok(caught !== undefined, "expected a DatasetError, nothing was thrown");
  assert.ok(caught instanceof DatasetError, `expected a DatasetError, got ${String(caught)}`);
  assert.equal(caught.name, "DatasetError");
  for (const p of parts) {
    assert.ok(caught.message.includes(p), `message ${JSON.stringify(caught.message)} lacks ${p}`);
  }
  return caught;
}
