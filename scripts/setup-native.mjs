#!/usr/bin/env node
// npm run setup:native [-- --gpu [--cuda-libs auto|yes|no]] [-- --torch] [-- --quiet]
//                      [-- --python PYTHON]
//
// Builds a native backend: tfjs-node's binding (its C++ sources ship in the npm package)
// compiled against the TensorFlow C library that TensorFlow's own pip wheel carries, instead
// of the libtensorflow 2.9.1 archive that tfjs-node's install script downloads (which fails
// offline, and is CUDA 11.2 only). Two builds, side by side, neither touching the other:
//
//   build        npm package                 wheel                   venv ($env)
//   (default)    @tensorflow/tfjs-node       tensorflow-cpu==2.20.0  .venv ($BATCHWISE_VENV)
//   --gpu        @tensorflow/tfjs-node-gpu   tensorflow==2.20.0      .venv-gpu ($BATCHWISE_GPU_VENV)
//
// giving the backends `tensorflow` and `tensorflow-gpu`. The CUDA-capable `tensorflow` wheel
// runs on its CPU kernels where there is no NVIDIA GPU (start-up says so in one line), so the
// --gpu build is built and tested on CPU machines too (CI does). Steps:
//
//   1. the build's virtual environment with its pinned wheel; with --gpu also the wheel's
//      `and-cuda` extra (the CUDA 12 / cuDNN 9 libraries from PyPI, ≈ 4 GB, pinned in
//      PINS.cudaLibs) when `--cuda-libs yes`, or `auto` (the default) and nvidia-smi lists a
//      GPU; CPU machines do without them;
//   2. checks that the wheel's shared libraries export every TF_*/TFE_* function the binding
//      calls (nm -D), and names the missing ones if not;
//   3. lays out deps/include and deps/lib inside the npm package as symbolic links into the
//      wheel (no copies; libtensorflow.so -> libtensorflow_cc.so.2), where binding.gyp looks,
//      and deps/nvidia -> the venv's nvidia/ when the CUDA libraries are there (the wheel's
//      libraries find them by RUNPATH $ORIGIN/../nvidia/*/lib, and $ORIGIN is deps/lib);
//   4. compiles the addon with npm's own node-gyp against this Node's headers (offline), into
//      the package's lib/napi-v8 (each package has its own build/ and stamp);
//   5. loads it in a fresh Node, runs one op, and prints the backend it enables.
//
// With --torch it also installs PyTorch (pinned, CPU) into the CPU build's environment, for
// the PyTorch rows of bench/step.ts (not with --gpu).
//
// Idempotent: each step is skipped when its result is already there (the addon is rebuilt
// when the wheel, its location, tfjs-node or Node version changes; a stamp records them).
// `npm install` alone does not need any of this: without the addon batchwise falls back to
// wasm.
import { spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { setupTools } from "./setup-common.mjs";

/** Pinned versions: the wheels, and the npm packages whose binding is built. */
export const PINS = {
  tensorflowCpu: "tensorflow-cpu==2.20.0",
  tensorflowGpu: "tensorflow==2.20.0",
  /**
   * The `and-cuda` extra of tensorflow 2.20.0, each at the lower bound that wheel declares
   * (the CUDA 12.5 / cuDNN 9.3 it was built with); installed only for a GPU (step 1).
   */
  cudaLibs: [
    "nvidia-cublas-cu12==12.5.3.2",
    "nvidia-cuda-cupti-cu12==12.5.82",
    "nvidia-cuda-nvcc-cu12==12.5.82",
    "nvidia-cuda-nvrtc-cu12==12.5.82",
    "nvidia-cuda-runtime-cu12==12.5.82",
    "nvidia-cudnn-cu12==9.3.0.75",
    "nvidia-cufft-cu12==11.2.3.61",
    "nvidia-curand-cu12==10.3.6.82",
    "nvidia-cusolver-cu12==11.6.3.83",
    "nvidia-cusparse-cu12==12.5.1.3",
    "nvidia-nccl-cu12==2.25.1",
    "nvidia-nvjitlink-cu12==12.5.82",
  ],
  torch: "torch==2.13.0",
  tfjsNode: "4.22.0",
};

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(join(root, "package.json"));

const USAGE =
  "usage: npm run setup:native [-- --gpu [--cuda-libs auto|yes|no]] [-- --torch] [-- --quiet] [-- --python PYTHON]";
let args;
try {
  ({ values: args } = parseArgs({
    options: {
      gpu: { type: "boolean", default: false },
      "cuda-libs": { type: "string", default: "auto" },
      torch: { type: "boolean", default: false },
      python: { type: "string", default: process.env.PYTHON ?? "python3" },
      quiet: { type: "boolean", default: false },
    },
  }));
} catch (e) {
  // node:util's messages name the option (Unknown option '--gpus', Option '--python <value>'
  // argument missing); add what is accepted.
  process.stderr.write(`setup:native: error: ${e.message}
${USAGE}
`);
  process.exit(2);
}

const { log, fail, run } = setupTools("setup:native", args.quiet);

// 0. What to build. With an NVIDIA GPU the CUDA build is offered, not chosen.
const gpu = args.gpu;
const cudaLibsArg = args["cuda-libs"];
if (!["auto", "yes", "no"].includes(cudaLibsArg))
  fail(`--cuda-libs: expected auto, yes or no, got '${cudaLibsArg}'`);
if (cudaLibsArg !== "auto" && !gpu) fail("--cuda-libs: only with --gpu (the CUDA build)");
if (args.torch && gpu)
  fail(
    "--torch: PyTorch goes into the CPU build's venv (bench/step.ts reads it); run `npm run setup:pytorch` without --gpu",
  );
const pkgName = gpu ? "@tensorflow/tfjs-node-gpu" : "@tensorflow/tfjs-node";
const nvidiaGpu = spawnSync("nvidia-smi", ["-L"], { encoding: "utf8" }).status === 0;
if (!gpu && nvidiaGpu) {
  log("an NVIDIA GPU is present: `npm run setup:native -- --gpu` builds the CUDA backend too");
}
let pkgDir;
try {
  pkgDir = dirname(require.resolve(`${pkgName}/package.json`));
} catch {
  fail(`${pkgName} is not installed: run npm install first`);
}
const pkgVersion = JSON.parse(readFileSync(join(pkgDir, "package.json"), "utf8")).version;
if (pkgVersion !== PINS.tfjsNode)
  fail(`${pkgName} is ${pkgVersion}, expected ${PINS.tfjsNode} (package.json pins it)`);

// 1. The virtual environment and the wheel. One venv per build: the two wheels both provide
// the `tensorflow` package, so one venv cannot hold both builds' libraries.
const cpuVenv = resolve(root, process.env.BATCHWISE_VENV ?? ".venv");
const venv = gpu ? resolve(root, process.env.BATCHWISE_GPU_VENV ?? ".venv-gpu") : cpuVenv;
if (gpu && venv === cpuVenv)
  fail(
    `BATCHWISE_GPU_VENV: ${venv} is the CPU build's venv; the CUDA build needs its own (its tensorflow wheel would replace tensorflow-cpu there)`,
  );
const py = join(venv, "bin", "python");
if (!existsSync(py)) {
  log(`creating the virtual environment ${venv}`);
  run(args.python, ["-m", "venv", venv]);
}
/** The installed version of the distribution `dist` in the venv, or null when it is absent. */
function installed(dist) {
  const out = spawnSync(
    py,
    ["-c", `import importlib.metadata as m; print(m.version(${JSON.stringify(dist)}))`],
    { encoding: "utf8" },
  );
  return out.status === 0 ? out.stdout.trim() : null;
}
function ensureWheel(spec, dist, conflicting) {
  const want = spec.split("==")[1];
  if (installed(dist) === want) {
    log(`${dist} ${want} already installed`);
    return;
  }
  if (conflicting && installed(conflicting) != null) {
    log(`removing ${conflicting} (it provides the same tensorflow package)`);
    run(py, ["-m", "pip", "uninstall", "-y", "-q", conflicting]);
  }
  log(`installing ${spec} into ${venv}`);
  run(py, ["-m", "pip", "install", "-q", "--disable-pip-version-check", spec]);
}
if (gpu) ensureWheel(PINS.tensorflowGpu, "tensorflow", "tensorflow-cpu");
else ensureWheel(PINS.tensorflowCpu, "tensorflow-cpu", "tensorflow");
if (args.torch) ensureWheel(PINS.torch, "torch");
if (gpu) {
  const want = cudaLibsArg === "yes" || (cudaLibsArg === "auto" && nvidiaGpu);
  const missingLibs = want
    ? PINS.cudaLibs.filter((spec) => installed(spec.split("==")[0]) !== spec.split("==")[1])
    : [];
  if (!want) {
    log(
      `${cudaLibsArg === "no" ? "--cuda-libs no" : "no NVIDIA GPU (nvidia-smi lists none)"}: the CUDA libraries (tensorflow's and-cuda extra) are not installed, the build runs on TensorFlow's CPU kernels; --cuda-libs yes installs them`,
    );
  } else if (missingLibs.length === 0) {
    log(`the CUDA libraries (${PINS.cudaLibs.length} nvidia-* wheels) already installed`);
  } else {
    log(`installing the CUDA libraries (tensorflow's and-cuda extra, pinned) into ${venv}`);
    const extra = PINS.tensorflowGpu.replace("==", "[and-cuda]==");
    run(py, ["-m", "pip", "install", "-q", "--disable-pip-version-check", extra, ...PINS.cudaLibs]);
  }
}

// Where the wheel put TensorFlow (without importing it: that takes seconds and logs).
const tfDir = run(
  py,
  [
    "-c",
    "import importlib.util as u; print(u.find_spec('tensorflow').submodule_search_locations[0])",
  ],
  { stdio: "pipe" },
).trim();
const tfVersion = installed(gpu ? "tensorflow" : "tensorflow-cpu");
const libs = {
  cc: join(tfDir, "libtensorflow_cc.so.2"),
  framework: join(tfDir, "libtensorflow_framework.so.2"),
};
for (const f of Object.values(libs)) if (!existsSync(f)) fail(`the wheel has no ${f}`);
const include = join(tfDir, "include");
for (const h of ["tensorflow/c/c_api.h", "tensorflow/c/eager/c_api.h"]) {
  if (!existsSync(join(include, h))) fail(`the wheel has no header ${h} under ${include}`);
}

// 2. Every TF_*/TFE_* function the binding calls must be exported by the wheel's libraries.
// (TF_TString_* are inline functions of tensorflow/core/platform/ctstring.h; TF_Auto* and
// TFE_AutoOp are the binding's own RAII classes.)
const used = new Set();
for (const f of readdirSync(join(pkgDir, "binding"))) {
  const src = readFileSync(join(pkgDir, "binding", f), "utf8");
  for (const m of src.matchAll(/\b(TFE?_[A-Z][A-Za-z0-9_]*)\s*\(/g)) used.add(m[1]);
}
const local = [...used].filter((s) => /^(TF_TString_|TF_Auto|TFE_Auto)/.test(s));
const exported = new Set();
for (const f of Object.values(libs)) {
  const out = run("nm", ["-D", "--defined-only", f], { stdio: "pipe", maxBuffer: 1 << 28 });
  for (const line of out.split("\n")) {
    const sym = line.trim().split(/\s+/)[2];
    if (sym && /^TFE?_/.test(sym)) exported.add(sym.replace(/@.*/, ""));
  }
}
const missing = [...used].filter((s) => !exported.has(s) && !local.includes(s)).sort();
if (missing.length > 0) {
  fail(
    `the wheel's libraries do not export ${missing.length} function(s) the binding calls: ${missing.join(", ")}`,
  );
}
log(
  `symbols: the binding calls ${used.size - local.length} TF_/TFE_ functions; all exported by ${tfVersion}'s libraries`,
);

// 3. deps/include and deps/lib as links into the wheel (binding.gyp's include and link paths;
// the addon's rpath is $ORIGIN/../../deps/lib). The dynamic loader takes $ORIGIN of a library
// from the path it opened, not the link's target, so the wheel's own RUNPATH entries
// ($ORIGIN/../nvidia/cudnn/lib, ...) are looked up under deps/: deps/nvidia points at the
// venv's CUDA libraries when they are installed.
const deps = join(pkgDir, "deps");
const nvidiaDir = join(dirname(tfDir), "nvidia");
const links = [
  [join(deps, "include"), include],
  [join(deps, "lib", "libtensorflow.so"), libs.cc],
  [join(deps, "lib", "libtensorflow_cc.so.2"), libs.cc],
  [join(deps, "lib", "libtensorflow_framework.so"), libs.framework],
  [join(deps, "lib", "libtensorflow_framework.so.2"), libs.framework],
  [join(deps, "nvidia"), existsSync(nvidiaDir) ? nvidiaDir : null],
];
mkdirSync(join(deps, "lib"), { recursive: true });
for (const [at, to] of links) {
  rmSync(at, { force: true, recursive: false });
  if (to != null) symlinkSync(to, at);
}

// 4. Build, unless the stamp says this addon was built from the same inputs.
const addon = join(pkgDir, "lib", "napi-v8", "tfjs_binding.node");
const stampFile = join(pkgDir, "lib", "batchwise-native.json");
const stamp = JSON.stringify({
  wheel: `${gpu ? "tensorflow" : "tensorflow-cpu"}==${tfVersion}`,
  tfDir,
  tfjsNode: pkgVersion,
  node: process.versions.modules,
});
const upToDate =
  existsSync(addon) && existsSync(stampFile) && readFileSync(stampFile, "utf8") === stamp;
if (upToDate) {
  log(`addon up to date: ${addon}`);
} else {
  // npm bundles node-gyp; the headers of the running Node (nodedir) keep it offline.
  const npmCli =
    process.env.npm_execpath ??
    join(dirname(process.execPath), "..", "lib", "node_modules", "npm", "bin", "npm-cli.js");
  const gypJs = join(dirname(npmCli), "..", "node_modules", "node-gyp", "bin", "node-gyp.js");
  if (!existsSync(gypJs)) fail(`node-gyp not found at ${gypJs} (it comes with npm)`);
  const nodedir = resolve(dirname(process.execPath), "..");
  if (!existsSync(join(nodedir, "include", "node", "node_api.h"))) {
    fail(
      `Node's headers are not under ${nodedir}/include/node (install the headers of Node ${process.version})`,
    );
  }
  log(`compiling the binding (node-gyp, ${pkgName} ${pkgVersion}, TensorFlow ${tfVersion})`);
  run(
    process.execPath,
    [
      gypJs,
      "rebuild",
      `--nodedir=${nodedir}`,
      "--module_name=tfjs_binding",
      `--module_path=${dirname(addon)}`,
      "--napi_build_version=8",
      "-j",
      "max",
    ],
    { cwd: pkgDir, stdio: "pipe" },
  );
  if (!existsSync(addon)) fail(`node-gyp finished but ${addon} is missing`);
  writeFileSync(stampFile, stamp);
}

// 5. Verify in a fresh process through batchwise's own backend selection, with the user's
// environment (so what it prints at start-up is what every run prints).
const backendName = gpu ? "tensorflow-gpu" : "tensorflow";
const check = spawnSync(
  process.execPath,
  [
    "--import",
    "tsx",
    "-e",
    `const b = require("./lib/backend"); const tf = require("@tensorflow/tfjs-core");
     b.initBackend(${JSON.stringify(backendName)}).then((info) => {
       const y = tf.matMul(tf.tensor2d([[1, 2]]), tf.tensor2d([[3], [4]])).dataSync()[0];
       if (y !== 11) throw new Error("matMul gave " + y);
       console.log(b.describeBackend(info));
     });`,
  ],
  { cwd: root, encoding: "utf8" },
);
if (check.status !== 0)
  fail(`the built addon does not load:\n${(check.stderr || check.stdout).slice(-3000)}`);
const picks = gpu
  ? "--backend tensorflow-gpu forces it; auto picks it first where a CUDA GPU is visible, else after the tensorflow build"
  : "batchwise's auto backend choice now picks it";
log(`verified: ${check.stdout.trim()} — ${picks}`);
if (check.stderr.trim() !== "") log(`start-up also printed on stderr:\n${check.stderr.trimEnd()}`);
