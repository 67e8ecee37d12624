/**
 * Command-line options generated from a job's zod schema: each schema key gets one flag whose
 * parser (number, integer, list, key=value, choices, boolean `--no-…`) comes from the key's zod
 * type, and the table of flags is checked against the schema's keys when the program starts, so
 * an option is spelled once (in the schema) plus its flag and help text.
 */
import { Command, InvalidArgumentError, Option } from "commander";
import { z } from "zod";

/** Flag and help text of one schema key; `flag` like `--lr <rate>`, or `--no-progress`. */
export type FlagSpec = readonly [flag: string, help: string];

function unwrap(t: z.ZodTypeAny): z.ZodTypeAny {
  while (t instanceof z.ZodDefault || t instanceof z.ZodOptional || t instanceof z.ZodEffects) {
    t = t instanceof z.ZodEffects ? t.innerType() : t._def.innerType;
  }
  return t;
}

function numberParser(flag: string, int: boolean) {
  return (v: string): number => {
    const x = Number(v);
    if (v.trim() === "" || !Number.isFinite(x) || (int && !Number.isInteger(x))) {
      throw new InvalidArgumentError(
        `${flag} must be ${int ? "an integer" : "a number"}, got '${v}'`,
      );
    }
    return x;
  };
}

function keyValue(flag: string) {
  return (v: string, prev: Record<string, string> | undefined): Record<string, string> => {
    const i = v.indexOf("=");
    if (i <= 0) throw new InvalidArgumentError(`${flag} must look like key=value, got '${v}'`);
    return { ...(prev ?? {}), [v.slice(0, i).trim()]: v.slice(i + 1).trim() };
  };
}

function optionFor(schemaType: z.ZodTypeAny, spec: FlagSpec): Option {
  const [flag, help] = spec;
  const name = flag.split(/[ ,]/)[0];
  const opt = new Option(flag, help);
  const t = unwrap(schemaType);
  if (t instanceof z.ZodNumber) {
    return opt.argParser(numberParser(name, t.isInt));
  }
  if (t instanceof z.ZodEnum) return opt.choices(t.options as string[]);
  if (t instanceof z.ZodUnion) {
    // e.g. an integer or the literal "auto": a literal is taken as is, anything else as a number
    const options = t.options as z.ZodTypeAny[];
    const literals = options
      .filter((o): o is z.ZodLiteral<unknown> => o instanceof z.ZodLiteral)
      .map((o) => String(o.value));
    const num = options.find((o) => o instanceof z.ZodNumber) as z.ZodNumber | undefined;
    const parse = numberParser(name, num?.isInt ?? false);
    return opt.argParser((v: string) => {
      if (literals.includes(v)) return v;
      if (num == null) {
        throw new InvalidArgumentError(`${name} must be one of ${literals.join(", ")}, got '${v}'`);
      }
      try {
        return parse(v);
      } catch {
        throw new InvalidArgumentError(
          `${name} must be ${num.isInt ? "an integer" : "a number"} or ${literals.join(", ")}, got '${v}'`,
        );
      }
    });
  }
  if (t instanceof z.ZodRecord) return opt.argParser(keyValue(name));
  if (t instanceof z.ZodArray) {
    const parse = numberParser(
      name,
      unwrap(t.element) instanceof z.ZodNumber && (unwrap(t.element) as z.ZodNumber).isInt,
    );
    return opt.argParser((v: string) => v.split(",").map((x) => parse(x.trim())));
  }
  return opt;
}

/**
 * Adds one option per schema key to `cmd` and returns a function that reads back the options
 * the user typed (only those: defaults stay the schema's), keyed by schema key.
 * @throws Error at start-up when `flags` misses a schema key or names one the schema lacks.
 */
export function addSchemaOptions(
  cmd: Command,
  schema: z.AnyZodObject,
  flags: Record<string, FlagSpec | null>,
): (opts: Record<string, unknown>) => Record<string, unknown> {
  const keys = Object.keys(schema.shape);
  const missing = keys.filter((k) => !(k in flags));
  const extra = Object.keys(flags).filter((k) => !keys.includes(k));
  if (missing.length > 0 || extra.length > 0) {
    throw new Error(
      `CLI flags out of step with the schema: missing ${missing.join(", ") || "none"}; unknown ${extra.join(", ") || "none"}`,
    );
  }
  const attr: Record<string, string> = {};
  for (const k of keys) {
    const spec = flags[k];
    if (spec == null) continue; // not a command-line option
    const opt = optionFor(schema.shape[k] as z.ZodTypeAny, spec);
    attr[k] = opt.attributeName();
    cmd.addOption(opt);
  }
  return (opts) =>
    Object.fromEntries(
      Object.entries(attr)
        .filter(([, a]) => opts[a] !== undefined && cmd.getOptionValueSource(a) === "cli")
        .map(([k, a]) => [k, opts[a]]),
    );
}
