/**
 * Parsing configuration objects with zod schemas into a {@link ConfigError} that names every
 * bad option and its value — the one place the library turns a zod failure into a message.
 */
import type { z } from "zod";
import { ConfigError } from "./errors";

/**
 * Parses `input` with `schema`; on failure throws a ConfigError listing every problem as
 * `<key>: <zod message> (got <value>)`, unknown keys as `unknown option(s): a, b`.
 *
 * @param schema - A zod schema (typically a `.strict()` object with defaults).
 * @param input - The caller's options.
 * @param what - Prefix of the message, e.g. `"invalid configuration"`.
 * @returns The parsed value (defaults filled in), frozen.
 * @throws ConfigError as above.
 * @example parseOptions(loopConfigSchema, { examplesBudget: 0 }, "trainLoop config")
 */
export function parseOptions<T extends z.ZodTypeAny>(
  schema: T,
  input: unknown,
  what = "invalid configuration",
): Readonly<z.output<T>> {
  const r = schema.safeParse(input);
  if (!r.success) {
    const msgs = r.error.issues.map((i) => {
      if (i.code === "unrecognized_keys") return `unknown option(s): ${i.keys.join(", ")}`;
      const key = i.path.join(".");
      const value = (input as Record<string, unknown> | null)?.[String(i.path[0])];
      return `${key}: ${i.message} (got ${JSON.stringify(value)})`;
    });
    throw new ConfigError(`${what}: ${msgs.join("; ")}`);
  }
  const data = r.data as z.output<T>;
  return typeof data === "object" && data != null ? Object.freeze(data) : data;
}
