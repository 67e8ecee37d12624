#!/usr/bin/env node
/* global WebAssembly */
// Compiles batchwise's AssemblyScript SIMD kernels (asm/kernels.ts) to
//   build/kernels.wasm         imports a plain memory (tfjs's single-threaded wasm binaries)
//   build/kernels-shared.wasm  imports a shared memory (tfjs's threaded-SIMD binary)
// and checks that each binary is safe to instantiate on tfjs's live WebAssembly.Memory:
// no data section, no start function, no memory of its own, no import but env.memory.
//
// Idempotent and fast: skips compiling when a stamp (hash of the sources, this script and
// the compiler version) matches. Prints one line. Runs as postinstall and before `npm test`.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const srcDir = join(root, "asm");
const entry = join(srcDir, "kernels.ts");
const outDir = join(root, "build");
const stampFile = join(outDir, "kernels.stamp");

const common = [
  "-O3",
  "--enable",
  "simd",
  "--runtime",
  "stub",
  "--importMemory",
  "--noExportMemory",
  "--noAssert",
  // No abort import and no message strings (which would be static data).
  "--use",
  "abort=",
];
const targets = [
  { file: "kernels.wasm", flags: [] },
  {
    file: "kernels-shared.wasm",
    flags: ["--enable", "threads", "--sharedMemory", "--maximumMemory", "65536"],
  },
];

/** Section ids of a wasm binary, in order. */
function sectionIds(bytes) {
  if (bytes.length < 8 || bytes.readUInt32LE(0) !== 0x6d736100)
    throw new Error("not a wasm binary");
  const ids = [];
  let p = 8;
  while (p < bytes.length) {
    const id = bytes[p++];
    let size = 0;
    let shift = 0;
    for (;;) {
      const b = bytes[p++];
      size += (b & 0x7f) * 2 ** shift;
      shift += 7;
      if ((b & 0x80) === 0) break;
    }
    ids.push(id);
    p += size;
  }
  return ids;
}

/** Throws unless the binary only imports env.memory and writes nothing on instantiation. */
function checkSafe(file) {
  const bytes = readFileSync(file);
  const ids = sectionIds(bytes);
  const bad = { 5: "memory", 8: "start", 11: "data", 12: "datacount" };
  for (const id of ids) {
    if (id in bad) throw new Error(`${file}: has a ${bad[id]} section`);
  }
  const mod = new WebAssembly.Module(bytes);
  const imports = WebAssembly.Module.imports(mod).map((i) => `${i.module}.${i.name}:${i.kind}`);
  if (imports.join(",") !== "env.memory:memory") {
    throw new Error(`${file}: imports ${imports.join(", ")}; expected only env.memory`);
  }
  return WebAssembly.Module.exports(mod).length;
}

function listSources(dir) {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? listSources(join(dir, e.name)) : [join(dir, e.name)]))
    .filter((f) => f.endsWith(".ts"))
    .sort();
}

const require = createRequire(import.meta.url);
let ascPackage;
try {
  ascPackage = require.resolve("assemblyscript/package.json");
} catch {
  // A production install (--omit=dev) has no compiler: do not fail the install; loading the
  // kernel pack will then report the missing build/kernels.wasm.
  console.log("build-wasm: assemblyscript is not installed (dev dependency); skipped");
  process.exit(0);
}
const ascVersion = JSON.parse(readFileSync(ascPackage, "utf8")).version;
const hash = createHash("sha256");
hash.update(`asc ${ascVersion}\n${JSON.stringify({ common, targets })}\n`);
hash.update(readFileSync(fileURLToPath(import.meta.url)));
for (const f of listSources(srcDir)) hash.update(relative(root, f) + "\n").update(readFileSync(f));
const digest = hash.digest("hex");

const outputs = targets.map((t) => join(outDir, t.file));
const upToDate =
  existsSync(stampFile) &&
  readFileSync(stampFile, "utf8").trim() === digest &&
  outputs.every((f) => existsSync(f));

if (upToDate) {
  console.log(`build-wasm: ${targets.map((t) => `build/${t.file}`).join(", ")} up to date`);
} else {
  const t0 = performance.now();
  mkdirSync(outDir, { recursive: true });
  rmSync(stampFile, { force: true });
  const { default: asc } = await import("assemblyscript/asc");
  let nExports = 0;
  for (const [k, t] of targets.entries()) {
    const errors = [];
    const sink = { write: (s) => void errors.push(String(s)) };
    const { error } = await asc.main([entry, ...common, ...t.flags, "-o", outputs[k]], {
      stdout: sink,
      stderr: sink,
    });
    if (error) {
      rmSync(outputs[k], { force: true });
      console.error(errors.join(""));
      console.error(`build-wasm: compiling ${relative(root, entry)} failed: ${error.message}`);
      process.exit(1);
    }
    try {
      nExports = checkSafe(outputs[k]);
    } catch (e) {
      rmSync(outputs[k], { force: true });
      console.error(`build-wasm: unsafe binary: ${e.message}`);
      process.exit(1);
    }
  }
  writeFileSync(stampFile, digest + "\n");
  const ms = Math.round(performance.now() - t0);
  console.log(
    `build-wasm: built ${targets.map((t) => `build/${t.file}`).join(", ")} ` +
      `(${nExports} kernels; no data/start section, imports only env.memory) in ${ms} ms`,
  );
}
