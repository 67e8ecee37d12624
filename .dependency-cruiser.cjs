/**
 * The layers of lib/ (docs/design.md §2), enforced by dependency-cruiser in `npm test`
 * (`npm run lint:deps`). Bottom to top; a folder may import its own layer and the layers below,
 * never one above. lib/index.ts is the public barrel on top of everything.
 */
const LAYERS = [
  ["core"],
  ["data", "models", "optim", "backend"],
  ["grad"],
  ["parallel"],
  ["noise"],
  ["schedules"],
  ["theory"],
  ["train"],
  ["report", "analysis", "probes", "cluster"],
  ["jobs"],
];

const upward = LAYERS.slice(0, -1).map((layer, i) => ({
  name: `layer-${layer.join("-")}`,
  comment: `lib/{${layer.join(",")}} may import only its own layer and those below it (docs/design.md §2)`,
  severity: "error",
  from: { path: `^lib/(${layer.join("|")})/` },
  to: {
    path: `^lib/(${LAYERS.slice(i + 1)
      .flat()
      .join("|")})/`,
  },
}));

module.exports = {
  forbidden: [
    ...upward,
    {
      name: "no-circular",
      comment: "no import cycles anywhere",
      severity: "error",
      from: {},
      to: { circular: true },
    },
    {
      name: "lib-stays-a-library",
      comment: "nothing in lib imports the CLI, benches, scripts or tests",
      severity: "error",
      from: { path: "^lib/" },
      to: { path: "^(cli|bench|scripts|test)/" },
    },
    {
      name: "barrel-only-for-users",
      comment: "lib/index.ts re-exports everything; code inside lib imports the module it needs",
      severity: "error",
      from: { path: "^lib/" },
      to: { path: "^lib/index\\.ts$" },
    },
    {
      name: "unknown-lib-folder",
      comment: "every folder of lib belongs to a layer (add new ones to LAYERS)",
      severity: "error",
      from: { path: "^lib/", pathNot: `^lib/(${LAYERS.flat().join("|")})/|^lib/index\\.ts$` },
      to: {},
    },
    {
      name: "not-to-unresolvable",
      comment:
        "every import resolves (pure-rand's lib/ paths are type-only imports that TypeScript's node10 resolution finds; the runtime requires go through its exports subpaths, see lib/data/sampler.ts)",
      severity: "error",
      from: {},
      to: { couldNotResolve: true, pathNot: "^pure-rand/lib/" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "require", "node", "default"],
      extensions: [".ts", ".js", ".mjs", ".cjs", ".json"],
    },
  },
};
