import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { readRunLog } from "../../lib/report/runlog";

const root = path.resolve(__dirname, "..", "..");
function cli(...args: string[]) {
  const r = spawnSync(process.execPath, ["--import", "tsx", "cli/main.ts", ...args], {
    cwd: root,
    encoding: "utf8",
    timeout: 60_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test("--help describes the main job and its options", () => {
  const r = cli("--help");
  assert.equal(r.code, 0);
  assert.match(r.out, /compare/);
  const sub = cli("compare", "--help");
  assert.equal(sub.code, 0);
  for (const opt of [
    "--quick",
    "--epochs",
    "--batch-size",
    "--growth-every",
    "--backend",
    "--out",
  ]) {
    assert.ok(sub.out.includes(opt), `help mentions ${opt}`);
  }
});

test("unknown options and invalid values are rejected with a message naming them", () => {
  const unknown = cli("--bogus");
  assert.notEqual(unknown.code, 0);
  assert.match(unknown.err, /unknown option '--bogus'/);
  const bad = cli("--epochs", "abc");
  assert.notEqual(bad.code, 0);
  assert.match(bad.err, /--epochs must be a number, got 'abc'/);
  const neg = cli("--batch-size=-3", "--data", "/nonexistent");
  assert.notEqual(neg.code, 0);
  assert.match(neg.err, /batchSize: .*got -3/);
  const replicas = cli("--replicas", "many");
  assert.notEqual(replicas.code, 0);
  assert.match(replicas.err, /--replicas must be an integer or auto, got 'many'/);
  const machine = cli(
    "--quick",
    "--no-progress",
    "--machine",
    "/nonexistent/machine.json",
    "--out",
    fs.mkdtempSync(path.join(os.tmpdir(), "bw-m-")),
  );
  assert.notEqual(machine.code, 0);
  assert.match(machine.err, /machine: no such file \/nonexistent\/machine.json/);
  const backend = cli("--backend", "gpu");
  assert.notEqual(backend.code, 0);
  assert.match(
    backend.err,
    /Allowed choices are auto, tensorflow-gpu, tensorflow, webgpu, wasm, cpu/,
  );
});

test("a missing data directory is an error naming the file", () => {
  const r = cli("--quick", "--data", "/nonexistent/fmnist", "--no-progress");
  assert.notEqual(r.code, 0);
  assert.match(r.err, /\/nonexistent\/fmnist/);
});

test("Ctrl-C writes a checkpoint and exits 130; --resume finishes the job; a changed option is refused", async () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "batchwise-cli-"));
  const args = [
    "cli/main.ts",
    "--train-subset",
    "600",
    "--test-subset",
    "200",
    "--epochs",
    "2",
    "--growth-every",
    "0.5",
    "--checkpoint-every",
    "2",
    "--out",
    out,
    "--no-progress",
  ];
  const code = await new Promise<number | null>((resolve) => {
    const p = spawn(process.execPath, ["--import", "tsx", ...args], { cwd: root });
    let err = "";
    p.stderr.on("data", (d: Buffer) => (err += d.toString()));
    const latest = path.join(out, "checkpoints", "run-0", "LATEST");
    const timer = setInterval(() => {
      if (fs.existsSync(latest)) {
        clearInterval(timer);
        p.kill("SIGINT");
      }
    }, 50);
    p.on("exit", (c) => {
      clearInterval(timer);
      assert.match(err, /resume with: .*--resume/);
      resolve(c);
    });
  });
  assert.equal(code, 130);
  const changed = cli("--resume", out, "--epochs", "3");
  assert.notEqual(changed.code, 0);
  assert.match(changed.err, /cannot resume .* with a different configuration: epochs was 2, now 3/);
  const resumed = cli("--resume", out, "--no-progress");
  assert.equal(resumed.code, 0, resumed.err);
  assert.match(resumed.out, /constant B=64/);
  const rows = readRunLog(path.join(out, "runlog.parquet"));
  for (const run of new Set(rows.map((r) => r.run))) {
    const last = rows.filter((r) => r.run === run).at(-1);
    assert.equal(last?.examples, 1200, `${run} processed the whole budget`);
  }
});
