#!/usr/bin/env node
// npm run setup:notebooks [-- --quiet] [-- --python PYTHON]
//
// Installs what the notebooks need to open in JupyterLab and to be tested in a browser:
//
//   1. the project-local virtual environment (.venv, or $BATCHWISE_VENV; the one
//      `npm run setup:native` uses, created here if it does not exist yet);
//   2. JupyterLab, plotly (whose wheel ships the `jupyterlab-plotly` extension that renders
//      the charts' application/vnd.plotly.v1+json outputs), nbclient and nbconvert, from
//      PyPI, at the versions pinned in scripts/notebooks/requirements.txt, with every
//      transitive dependency fixed by scripts/notebooks/constraints.txt (a `pip freeze` of a
//      working install);
//   3. the batchwise tslab kernelspec (build/jupyter/kernels/batchwise-tslab), which
//      `npm run notebooks` and `npm run test:jupyterlab` put on JUPYTER_PATH;
//   4. checks that JupyterLab starts and lists the plotly extension as enabled.
//
// Idempotent: pip skips what is installed at the pinned versions. The browser the test drives
// is Debian's Chromium (`apt-get install chromium`), not a download.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { setupTools } from "./setup-common.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const requirements = join(root, "scripts", "notebooks", "requirements.txt");
const constraints = join(root, "scripts", "notebooks", "constraints.txt");

const { values: args } = parseArgs({
  options: {
    python: { type: "string", default: process.env.PYTHON ?? "python3" },
    quiet: { type: "boolean", default: false },
  },
});

const { log, fail, run } = setupTools("setup:notebooks", args.quiet);

// 1. The virtual environment.
const venv = resolve(root, process.env.BATCHWISE_VENV ?? ".venv");
const py = join(venv, "bin", "python");
if (!existsSync(py)) {
  log(`creating the virtual environment ${venv}`);
  run(args.python, ["-m", "venv", venv]);
}

// 2. The pinned packages.
const pins = readFileSync(requirements, "utf8")
  .split("\n")
  .map((l) => l.replace(/#.*/, "").trim())
  .filter((l) => l !== "");
log(`installing ${pins.join(", ")} into ${venv}`);
run(py, [
  "-m",
  "pip",
  "install",
  "--disable-pip-version-check",
  ...(args.quiet ? ["-q"] : []),
  "-r",
  requirements,
  "-c",
  constraints,
]);

// 3. The kernelspec (the same file scripts/notebooks.ts writes before every run).
run(process.execPath, ["--import", "tsx", join(root, "scripts", "notebooks.ts"), "kernel"], {
  cwd: root,
});

// 4. JupyterLab starts and has the plotly renderer.
const ext = spawnSync(py, ["-m", "jupyter", "labextension", "list"], {
  encoding: "utf8",
  cwd: root,
});
// jupyter colours "enabled" and "OK" even on a pipe: drop the escape sequences.
// eslint-disable-next-line no-control-regex
const listing = `${ext.stdout ?? ""}${ext.stderr ?? ""}`.replace(/\x1b\[[0-9;]*m/g, "");
if (ext.status !== 0) fail(`jupyter labextension list failed:\n${listing.slice(-2000)}`);
const plotlyLine = listing.split("\n").find((l) => l.includes("jupyterlab-plotly"));
if (plotlyLine == null || !/enabled/.test(plotlyLine) || !/OK/.test(plotlyLine)) {
  fail(`JupyterLab does not list the jupyterlab-plotly extension as enabled and OK:\n${listing}`);
}
const version = run(py, ["-c", "import jupyterlab; print(jupyterlab.__version__)"], {
  stdio: "pipe",
}).trim();
log(`JupyterLab ${version} with ${plotlyLine.trim()}`);
log('ready: npm run notebooks opens JupyterLab; pick the kernel "TypeScript (batchwise)"');
