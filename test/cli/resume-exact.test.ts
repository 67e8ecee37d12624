/**
 * Bit-exact resume of the main job: the quick job killed with SIGKILL after its first
 * checkpoint and resumed with --resume writes the same run log as an uninterrupted job, batch
 * sizes, training losses and test accuracies equal as written (tolerance 0), on the backend
 * `npm run main` picks (auto) and on wasm, with replicas chosen from a throughput table (the
 * killed job reuses the reference job's machine.json, so both make the same K choices), with a
 * fixed K = 2 and without replicas (K = 1).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const root = path.resolve(__dirname, "..", "..");
const JOB = ["--import", "tsx", "cli/main.ts", "compare"];

/** The run log's columns as written (strings: tolerance 0 means the same digits). */
function runLog(dir: string): Record<string, string>[] {
  const [header, ...lines] = fs
    .readFileSync(path.join(dir, "runlog.csv"), "utf8")
    .split("\n")
    .filter((l) => l !== "");
  const keys = header.split(",");
  return lines.map((l) => Object.fromEntries(l.split(",").map((v, i) => [keys[i], v])));
}

function job(env: NodeJS.ProcessEnv, ...args: string[]) {
  return spawnSync(process.execPath, [...JOB, ...args], {
    cwd: root,
    encoding: "utf8",
    env: { ...process.env, ...env },
    timeout: 300_000,
  });
}

/** Starts the job, waits for `checkpoint` (under `out`) to exist plus `extraMs`, kills it -9. */
async function killAfterCheckpoint(
  env: NodeJS.ProcessEnv,
  out: string,
  checkpoint: string,
  extraMs: number,
  ...args: string[]
): Promise<void> {
  const p = spawn(process.execPath, [...JOB, "--quick", "--no-progress", "--out", out, ...args], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: "ignore",
  });
  const exited = new Promise<NodeJS.Signals | null>((resolve) =>
    p.on("exit", (_code, signal) => resolve(signal)),
  );
  const deadline = Date.now() + 240_000;
  const latest = path.join(out, "checkpoints", checkpoint, "LATEST");
  while (!fs.existsSync(latest) && p.exitCode == null && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
  }
  await new Promise((r) => setTimeout(r, extraMs));
  p.kill("SIGKILL");
  assert.equal(await exited, "SIGKILL", "the job was still running when killed");
}

const cases: {
  name: string;
  env: NodeJS.ProcessEnv;
  run: string;
  args: string[];
  /**
   * Give the killed job the reference job's throughput table: the goodput schedule's curve (and
   * K with --replicas auto) come from it, and two measurements on a loaded machine can differ.
   */
  sameMachine?: boolean;
}[] = [
  // npm run main's backend (tensorflow where npm run setup:native built it), replicas "auto",
  // killed in run 1 after the checkpoint at update 200 (the job's default cadence).
  {
    name: "auto backend, replicas auto, killed in the constant run",
    env: {},
    run: "run-0",
    args: [],
    sameMachine: true,
  },
  // wasm, killed in the second run (checkpoints every 50 updates, so one lies mid-run).
  {
    name: "wasm, K = 2, killed in the second run",
    env: { BATCHWISE_BACKEND: "wasm" },
    run: "run-1",
    args: ["--epochs", "1", "--checkpoint-every", "50", "--replicas", "2"],
    sameMachine: true,
  },
  {
    name: "wasm, no replicas, killed in the second run",
    env: { BATCHWISE_BACKEND: "wasm" },
    run: "run-1",
    args: ["--epochs", "1", "--checkpoint-every", "50", "--replicas", "1"],
    sameMachine: true,
  },
];

for (const c of cases) {
  test(`main job killed with SIGKILL and resumed: the same run log, tolerance 0 (${c.name})`, async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "batchwise-resume-"));
    try {
      const refDir = path.join(tmp, "ref");
      const ref = job(c.env, "--quick", "--no-progress", "--out", refDir, ...c.args);
      assert.equal(ref.status, 0, ref.stderr);

      const dir = path.join(tmp, "killed");
      const machine = c.sameMachine ? ["--machine", path.join(refDir, "machine.json")] : [];
      await killAfterCheckpoint(c.env, dir, c.run, 300, ...c.args, ...machine);
      assert.ok(!fs.existsSync(path.join(dir, "runlog.csv")), "the killed job did not finish");
      // As the README says: --resume and the folder; the options come from the checkpoint.
      const resumed = job(c.env, "--resume", dir, "--no-progress");
      assert.equal(resumed.status, 0, resumed.stderr);

      const a = runLog(refDir);
      const b = runLog(dir);
      assert.equal(b.length, a.length);
      for (let i = 0; i < a.length; i++) {
        for (const k of ["run", "step", "batch_size", "replicas", "train_loss", "test_accuracy"]) {
          assert.equal(b[i][k], a[i][k], `row ${i} (${a[i].run}, step ${a[i].step}): ${k}`);
        }
      }
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
}
