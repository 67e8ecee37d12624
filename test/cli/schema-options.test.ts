import { test } from "node:test";
import assert from "node:assert/strict";
import { Command } from "commander";
import { z } from "zod";
import { addSchemaOptions } from "../../cli/schema-options";

const schema = z
  .object({
    lr: z.number().positive().default(1e-3),
    sizes: z.array(z.number().int()).default([1]),
    mode: z.enum(["a", "b"]).default("a"),
    progress: z.boolean().default(true),
  })
  .strict();
const flags = {
  lr: ["--lr <rate>", "learning rate"],
  sizes: ["--sizes <list>", "sizes"],
  mode: ["--mode <m>", "mode"],
  progress: ["--no-progress", "quiet"],
} as const;

test("schema options: parsers from the zod types; only typed options come back, by schema key", () => {
  const cmd = new Command().exitOverride();
  const read = addSchemaOptions(cmd, schema, flags);
  cmd.parse(["--lr", "0.5", "--sizes", "2,4", "--no-progress"], { from: "user" });
  assert.deepEqual(read(cmd.opts()), { lr: 0.5, sizes: [2, 4], progress: false });
  const bad = new Command().exitOverride().configureOutput({ writeErr: () => undefined });
  addSchemaOptions(bad, schema, flags);
  assert.throws(() => bad.parse(["--mode", "c"], { from: "user" }), /Allowed choices are a, b/);
  assert.throws(
    () => bad.parse(["--sizes", "2,x"], { from: "user" }),
    /--sizes must be an integer, got 'x'/,
  );
});

test("schema options: a flag table out of step with the schema fails at start-up", () => {
  assert.throws(
    () =>
      addSchemaOptions(new Command(), schema, {
        lr: flags.lr,
        sizes: flags.sizes,
        mode: flags.mode,
      }),
    /missing progress/,
  );
  assert.throws(
    () => addSchemaOptions(new Command(), schema, { ...flags, epochs: ["--epochs <n>", "x"] }),
    /unknown epochs/,
  );
});
