/**
 * The GPU run kit on a CPU machine: scripts/gpu/build-kit builds the archive within 64 MiB,
 * and the archive, unpacked elsewhere, runs its own self-check with its own Node.js: no
 * WebGPU adapter here, so it says so in one line and checks the wasm backend instead.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const root = path.join(__dirname, "..", "..");

test("build-kit makes a ≤ 64 MiB archive whose self-check runs in CPU mode and selects wasm", () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "batchwise-kit-"));
  const archive = path.join(tmp, "gpu-kit.tar.gz");
  const built = spawnSync(
    "bash",
    [path.join(root, "scripts", "gpu", "build-kit"), "--out", archive],
    {
      cwd: root,
      encoding: "utf8",
    },
  );
  assert.equal(built.status, 0, built.stderr);
  const m = /wrote .*: ([\d.]+) MiB \(limit 64 MiB\)/.exec(built.stdout);
  assert.ok(m, `size line in: ${built.stdout}`);
  assert.ok(fs.statSync(archive).size <= 64 * 1024 * 1024, "archive within 64 MiB");
  // Run from a folder outside the repository with a minimal environment: the kit uses its own
  // node/bin/node and finds its files from its own folder.
  const out = path.join(tmp, "out");
  const r = spawnSync(
    "bash",
    [
      path.join(root, "scripts", "gpu", "run-kit.sh"),
      archive,
      "--out",
      out,
      "--cpu-mode",
      "--limit",
      "300",
    ],
    {
      cwd: tmp,
      encoding: "utf8",
      env: { PATH: "/usr/bin:/bin", HOME: tmp },
    },
  );
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const lines = r.stdout.split("\n");
  assert.ok(
    lines.some((l) =>
      /^webgpu unavailable \(.*no WebGPU adapter.*\); using wasm with the kernel pack$/.test(l),
    ),
    "one line saying why webgpu is not used",
  );
  assert.match(
    r.stdout,
    new RegExp(`run-kit: kit .*, node ${process.version.replace(/\./g, "\\.")}`),
  );
  const res = JSON.parse(fs.readFileSync(path.join(out, "results.json"), "utf8"));
  assert.equal(res.mode, "cpu");
  assert.equal(res.backend.name, "wasm");
  assert.equal(res.errors.length, 0, res.errors.join("; "));
  assert.ok(
    res.kernels.length >= 7 && res.kernels.every((k: { ok: boolean }) => k.ok),
    "kernel checks pass",
  );
  assert.ok(res.bench.length === 1 && res.bench[0].msPerStep > 0, "a bench row");
  assert.ok(fs.existsSync(path.join(out, "checks.log")));
});
