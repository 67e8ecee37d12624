#!/usr/bin/env node
/**
 * The batchwise tslab kernel: the kernelspec written by `npm run notebooks:kernel` starts this
 * file (with the node that wrote it) instead of a bare `tslab`. Before handing over to tslab's
 * own `main()` it
 *
 * 1. changes to the project root: tslab compiles with the kernel's working folder as the
 *    TypeScript root, and Jupyter starts kernels in the notebook's folder, where
 *    `import … from "../lib"` fails ("not under rootDir"); from the root, notebooks import
 *    `./lib`;
 * 2. type-checks with the project's strictness: tslab compiles cells and every .ts file they
 *    import with fixed options (no `strict`, no DOM lib), under which lib/ does not type-check
 *    (zod's inferred types need strictNullChecks; lib/backend uses the WebAssembly globals the
 *    DOM lib declares). The TypeScript module tslab loads exposes its functions as getters, so
 *    the options are merged in through a wrapper module placed in the require cache;
 * 3. turns off TypeScript's watching of the files cells import: its watcher debounces with
 *    timers that collide with tslab's own single-timer scheme ("Unexpected pending rebuildTimer"
 *    thrown from an fs.watch callback), and tfjs-backend-wasm rethrows uncaught exceptions, so
 *    a lib/ file saved during a session killed the kernel. Edits to lib/ need a kernel restart
 *    anyway: the running code is the module Node loaded and cached;
 * 4. registers tsx's CommonJS hook, so that `require("./lib")` resolves the folder's index.ts
 *    at run time (tslab's own loader only maps `./x` to `./x.js` of its compiled output);
 * 5. when BATCHWISE_NOTEBOOK_ERRORS names a file, appends every unhandled promise rejection and
 *    uncaught exception to it as a JSON line `{time, kind, message}`: tslab prints these to the
 *    output of whichever request is current, which for an un-awaited promise is usually one
 *    that has already finished, so the message reaches no cell. The notebook check
 *    (scripts/notebooks.ts run) reads the file and names the cell by the time. One rejection
 *    is tslab's, not a cell's: its heartbeat loop (dist/jupyter.js) echoes on a zeromq socket
 *    without awaiting, and when Jupyter shuts the kernel down mid-echo the send rejects with
 *    "Socket is closed" (seen once in a loaded CI-like run, after the last cell had finished);
 *    that one is not recorded.
 *
 * Depends on tslab internals (dist/main.js, its TypeScript package): tslab is pinned exactly
 * in package.json.
 */
/* eslint-disable @typescript-eslint/no-require-imports -- a CommonJS launcher, run by node directly */
"use strict";
const fs = require("fs");
const path = require("path");

const root = path.resolve(__dirname, "..", "..");
process.chdir(root);

const tslabDir = path.dirname(require.resolve("tslab/package.json", { paths: [root] }));
const tsPath = require.resolve("@tslab/typescript-for-tslab", { paths: [tslabDir] });
const ts = require(tsPath);

/** Compiler options of tsconfig.json that tslab's fixed set lacks. */
const EXTRA_LIBS = ["lib.dom.d.ts"];
const wrapper = {};
for (const key of Object.keys(ts)) {
  if (key !== "createWatchCompilerHost") {
    Object.defineProperty(wrapper, key, { enumerable: true, get: () => ts[key] });
  }
}
Object.defineProperty(wrapper, "createWatchCompilerHost", {
  enumerable: true,
  value: function createWatchCompilerHost(rootFiles, options, ...rest) {
    const lib = Array.from(new Set([...(options.lib || []), ...EXTRA_LIBS]));
    return ts.createWatchCompilerHost(rootFiles, { ...options, strict: true, lib }, ...rest);
  },
});
require.cache[tsPath].exports = wrapper;

const inert = () => ({ close() {} });
ts.sys.watchFile = inert;
ts.sys.watchDirectory = inert;

require(require.resolve("tsx/cjs/api", { paths: [root] })).register();

const errorsFile = process.env.BATCHWISE_NOTEBOOK_ERRORS;
if (errorsFile) {
  const record = (kind, e) => {
    const message = e instanceof Error ? String(e.stack || e) : String(e);
    const line = JSON.stringify({ time: Date.now() / 1000, kind, message });
    fs.appendFileSync(errorsFile, line + "\n");
  };
  const tslabShutdownRace = (e) =>
    e instanceof Error &&
    e.message === "Socket is closed" &&
    String(e.stack || "").includes(path.join("tslab", "dist", "jupyter.js"));
  process.on("unhandledRejection", (reason) => {
    if (!tslabShutdownRace(reason)) record("unhandled promise rejection", reason);
  });
  process.on("uncaughtException", (err) => record("uncaught exception", err));
}

require(path.join(tslabDir, "dist", "main.js")).main();
