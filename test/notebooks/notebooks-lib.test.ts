/**
 * The notebook tooling's pure parts (scripts/notebooks-lib.ts), and the committed notebooks
 * themselves: no outputs, the quick/full switch first, the declared chart count, the kernel,
 * and code that only calls lib/.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
  chromiumArgs,
  committedProblems,
  countChartMarkers,
  countDrawnCharts,
  declaredCharts,
  describeCell,
  jupyterPathEnv,
  KERNEL_NAME,
  kernelSpec,
  listNotebooks,
  readNotebook,
  stderrOutputs,
  writeKernelSpec,
  type Notebook,
  type NotebookCell,
} from "../../scripts/notebooks-lib";

const ROOT = path.resolve(__dirname, "..", "..");

const code = (source: string, extra: Partial<NotebookCell> = {}): NotebookCell => ({
  cell_type: "code",
  source,
  metadata: {},
  outputs: [],
  execution_count: null,
  ...extra,
});
const md = (source: string): NotebookCell => ({ cell_type: "markdown", source, metadata: {} });

function notebook(cells: NotebookCell[], charts: number | null = 1): Notebook {
  return {
    cells,
    metadata: {
      kernelspec: {
        name: KERNEL_NAME,
        display_name: "TypeScript (batchwise)",
        language: "typescript",
      },
      ...(charts === null ? {} : { batchwise: { charts } }),
    },
    nbformat: 4,
    nbformat_minor: 4,
  };
}

const good = () =>
  notebook([
    md("# title"),
    code('const QUICK = process.env.BATCHWISE_FULL !== "1";'),
    code('import * as bw from "./lib";\nimport * as an from "./lib/analysis";'),
    code(
      "const xs = [1, 2].map((x) => x * 2);\nbw.showPlot(bw.lineFigure({ title: 't', xTitle: 'x', yTitle: 'y', series: [] }));",
    ),
  ]);

test("committedProblems accepts a clean notebook", () => {
  assert.deepEqual(committedProblems(good()), []);
});

test("committedProblems names each problem and the cell", () => {
  const nb = good();
  nb.cells[3] = code("bw.showPlot(fig);", {
    outputs: [{ output_type: "stream", name: "stdout", text: "x" }],
    execution_count: 4,
  });
  nb.cells.push(code("function helper() { return 1; }"));
  nb.cells.push(code('import * as tf from "@tensorflow/tfjs-core";\nconst m = require("fs");'));
  nb.cells.push(code("class Estimator {}"));
  const p = committedProblems(nb);
  assert.ok(
    p.some((s) => /cell 3 \(`bw\.showPlot\(fig\);`\) has outputs/.test(s)),
    p.join("\n"),
  );
  assert.ok(p.some((s) => /cell 3 .* has an execution count/.test(s)));
  assert.ok(p.some((s) => /cell 4 .* defines a function or class/.test(s)));
  assert.ok(p.some((s) => /cell 5 .* imports "@tensorflow\/tfjs-core"/.test(s)));
  assert.ok(p.some((s) => /cell 5 .* imports "fs"/.test(s)));
  assert.ok(p.some((s) => /cell 6 .* defines a function or class/.test(s)));
});

test("committedProblems wants the kernel, the chart count and the mode switch first", () => {
  const nb = good();
  (nb.metadata.kernelspec as { name: string }).name = "tslab";
  delete nb.metadata.batchwise;
  nb.cells[1] = code("const quick = true;");
  const p = committedProblems(nb);
  assert.ok(p.some((s) => s.includes('kernelspec.name is "tslab"')));
  assert.ok(p.some((s) => s.includes("metadata.batchwise.charts")));
  assert.ok(p.some((s) => s.includes("the first code cell must choose the mode")));
  // Arrow functions in expressions are glue, not library code.
  assert.deepEqual(committedProblems(good()), []);
});

test("chart markers, drawn charts and stderr outputs are counted", () => {
  const marker = '<div class="batchwise-chart" data-batchwise-chart="1">';
  const nb = notebook([
    code("a", {
      outputs: [
        { output_type: "display_data", data: { "text/html": [marker, "<div></div>"] } },
        { output_type: "display_data", data: { "text/html": marker + marker, "text/plain": "x" } },
        { output_type: "stream", name: "stderr", text: ["Error: boom\n", "  at x\n"] },
      ],
    }),
    code("b", { outputs: [{ output_type: "error", ename: "TypeError", evalue: "bad" }] }),
  ]);
  assert.equal(countChartMarkers(nb), 3);
  assert.deepEqual(stderrOutputs(nb), [
    { cell: 0, text: "Error: boom\n  at x\n" },
    { cell: 1, text: "TypeError: bad" },
  ]);
  const dom = '<div class="plot-container plotly"></div><div class="plot-container plotly">';
  assert.equal(countDrawnCharts(dom), 2);
  assert.equal(countDrawnCharts("<html></html>"), 0);
});

test("describeCell and declaredCharts", () => {
  const nb = notebook([md("# t"), code("\n\n  const fit = bw.fitBCrit(points);  \nmore")], 3);
  assert.equal(describeCell(nb, 1), "cell 1 (`const fit = bw.fitBCrit(points);`)");
  assert.equal(describeCell(nb, null), "before the first cell");
  assert.equal(
    describeCell(notebook([code("x".repeat(100))]), 0),
    `cell 0 (\`${"x".repeat(77)}...\`)`,
  );
  assert.equal(declaredCharts(nb), 3);
  assert.equal(declaredCharts(notebook([], null)), null);
});

test("the kernelspec runs the launcher with the given node; JUPYTER_PATH finds it", () => {
  const spec = kernelSpec("/p", "/usr/bin/node") as { argv: string[]; language: string };
  assert.deepEqual(spec.argv, [
    "/usr/bin/node",
    path.join("/p", "scripts", "notebooks", "tslab-kernel.js"),
    "kernel",
    "--config-path",
    "{connection_file}",
  ]);
  assert.equal(spec.language, "typescript");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bw-kernel-"));
  try {
    const file = writeKernelSpec(dir, "/usr/bin/node");
    assert.equal(
      file,
      path.join(dir, "build/jupyter/share/jupyter/kernels", KERNEL_NAME, "kernel.json"),
    );
    assert.deepEqual(JSON.parse(fs.readFileSync(file, "utf8")).argv[0], "/usr/bin/node");
    assert.equal(
      jupyterPathEnv(dir, { JUPYTER_PATH: "/x" }),
      [path.join(dir, "build/jupyter/share/jupyter"), "/x"].join(path.delimiter),
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  assert.ok(fs.existsSync(path.join(ROOT, "scripts", "notebooks", "tslab-kernel.js")));
});

test("chromiumArgs renders a file headlessly without network services", () => {
  const a = chromiumArgs("build/x.html", "/tmp/profile", 5000);
  for (const flag of [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--dump-dom",
    "--user-data-dir=/tmp/profile",
    "--virtual-time-budget=5000",
  ]) {
    assert.ok(a.includes(flag), flag);
  }
  assert.equal(a[a.length - 1], `file://${path.resolve("build/x.html")}`);
});

test("the committed notebooks: six, numbered, clean, each declaring its charts", () => {
  const files = listNotebooks(ROOT);
  assert.deepEqual(
    files.map((f) => path.basename(f).slice(0, 3)),
    ["01-", "02-", "03-", "04-", "05-", "06-"],
  );
  for (const f of files) {
    const nb = readNotebook(f);
    assert.deepEqual(committedProblems(nb), [], path.basename(f));
    assert.ok((declaredCharts(nb) ?? 0) >= 1, `${path.basename(f)} declares no charts`);
  }
});
