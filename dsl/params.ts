import { AiorchError } from "../src/errors.ts";
import type { ParamSpec, ParamValue } from "./types.ts";

const TRUE = new Set(["true", "1", "yes", "on"]);
const FALSE = new Set(["false", "0", "no", "off"]);

/**
 * Resolve a scenario's parameters: each declared one takes its `--param` value coerced to
 * the type of its default (number, boolean, string), else the default. With `strict`, a
 * value for an undeclared name is a `USAGE` error naming it and the known ones.
 */
export function resolveParams({
  scenario,
  spec,
  raw,
  known,
  strict,
}: {
  scenario: string;
  spec: ParamSpec;
  raw: Readonly<Record<string, string>>;
  /** every name declared in the scenario tree (includes' too), for the strict check */
  known: ReadonlySet<string>;
  strict: boolean;
}): Record<string, ParamValue> {
  if (strict)
    for (const name of Object.keys(raw))
      if (!known.has(name))
        throw new AiorchError(
          "USAGE",
          `unknown parameter "${name}" for scenario "${scenario}"` +
            (known.size ? ` (it takes: ${[...known].join(", ")})` : " (it takes none)"),
          { option: "--param" },
        );
  const out: Record<string, ParamValue> = {};
  for (const [name, fallback] of Object.entries(spec)) {
    const value = Object.hasOwn(raw, name) ? raw[name] : undefined;
    out[name] = value === undefined ? fallback : coerceParam({ name, value, like: fallback });
  }
  return out;
}

/** Coerce one `--param` string to the type of its default; a bad value names the parameter. */
function coerceParam({
  name,
  value,
  like,
}: {
  name: string;
  value: string;
  like: ParamValue;
}): ParamValue {
  if (typeof like === "number") {
    const n = Number(value);
    if (value.trim() === "" || !Number.isFinite(n))
      throw new AiorchError(
        "USAGE",
        `parameter "${name}" expects a number, got ${JSON.stringify(value)}`,
        { option: "--param" },
      );
    return n;
  }
  if (typeof like === "boolean") {
    const v = value.trim().toLowerCase();
    if (TRUE.has(v)) return true;
    if (FALSE.has(v)) return false;
    throw new AiorchError(
      "USAGE",
      `parameter "${name}" expects true or false, got ${JSON.stringify(value)}`,
      { option: "--param" },
    );
  }
  return value;
}
