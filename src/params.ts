/**
 * Scenario parameters, argparse-like: each declared with a default (string, number,
 * boolean, or a list of strings or numbers), optionally a description and the allowed
 * values. `--param name=value` strings are parsed against the declaration: lists from
 * `1,2,5`, choices refused with the allowed values, booleans also as bare flags
 * (`--param dry`). Shared by the DSL and the CLI (module-level `export const params`).
 */
import { AiorchError } from "./errors.ts";

/** A single value a parameter may default to. */
export type ParamScalar = string | number | boolean;
/** What a parameter may default to: a scalar or a list of strings or numbers. */
export type ParamValue = ParamScalar | readonly string[] | readonly number[];

/**
 * A parameter with a description and, optionally, the values it accepts.
 * @example { default: "safe", choices: ["fast", "safe"], description: "how to deploy" }
 */
export interface ParamDescriptor {
  default: ParamValue;
  /** one line for `aiorch run FILE --help` */
  description?: string;
  /** the only values accepted (each element, for a list) */
  choices?: readonly (string | number)[];
}

/** Declared parameters: name → default, or a {@link ParamDescriptor}. */
export type ParamSpec = Readonly<Record<string, ParamValue | ParamDescriptor>>;

/** The kind of a parameter, from its default. */
export type ParamKind = "string" | "number" | "boolean" | "string[]" | "number[]";

/** One parameter as `--help` lists it. */
export interface ParamInfo {
  name: string;
  kind: ParamKind;
  default: ParamValue;
  description?: string;
  choices?: readonly (string | number)[];
}

/** @internal the raw value of a bare `--param name` (a flag) */
export const PARAM_FLAG = "\u0000flag";

const TRUE = new Set(["true", "1", "yes", "on"]);
const FALSE = new Set(["false", "0", "no", "off"]);

function isDescriptor(x: unknown): x is ParamDescriptor {
  return typeof x === "object" && x !== null && !Array.isArray(x) && "default" in x;
}

function kindOf(name: string, v: unknown): ParamKind {
  if (typeof v === "string" || typeof v === "boolean") return typeof v as ParamKind;
  if (typeof v === "number" && Number.isFinite(v)) return "number";
  if (Array.isArray(v)) {
    if (v.every((x) => typeof x === "number" && Number.isFinite(x)) && v.length > 0)
      return "number[]";
    if (v.every((x) => typeof x === "string")) return "string[]";
  }
  throw new AiorchError(
    "INVALID_ARGUMENT",
    `parameter "${name}": the default must be a string, number, boolean or a list of strings or numbers, got ${JSON.stringify(v)}`,
    { option: "params" },
  );
}

/** Read a declaration into one info per parameter; a bad declaration throws, naming it. */
export function describeParamSpec(spec: ParamSpec): ParamInfo[] {
  return Object.entries(spec).map(([name, d]) => {
    const desc = isDescriptor(d) ? d : undefined;
    const value = desc ? desc.default : (d as ParamValue);
    const info: ParamInfo = { name, kind: kindOf(name, value), default: value };
    if (desc?.description !== undefined) info.description = desc.description;
    if (desc?.choices !== undefined) {
      info.choices = [...desc.choices];
      const list = Array.isArray(value) ? value : [value];
      for (const v of list)
        if (!info.choices.includes(v as string | number))
          throw new AiorchError(
            "INVALID_ARGUMENT",
            `parameter "${name}": default ${JSON.stringify(v)} is not one of ${info.choices.map((c) => JSON.stringify(c)).join(", ")}`,
            { option: "params" },
          );
    }
    return info;
  });
}

function usage(msg: string): AiorchError {
  return new AiorchError("USAGE", msg, { option: "--param" });
}

function scalar(info: ParamInfo, text: string, kind: "string" | "number"): string | number {
  let v: string | number = text;
  if (kind === "number") {
    v = Number(text);
    if (text.trim() === "" || !Number.isFinite(v))
      throw usage(
        `parameter "${info.name}" expects ${info.kind === "number" ? "a number" : "numbers"}, got ${JSON.stringify(text)}`,
      );
  }
  if (info.choices && !info.choices.includes(v))
    throw usage(
      `parameter "${info.name}" must be one of ${info.choices.join(", ")}, got ${JSON.stringify(text)}`,
    );
  return v;
}

/** Parse one `--param` string for its parameter; a bad value names the parameter. */
export function parseParam(info: ParamInfo, text: string): ParamValue {
  if (text === PARAM_FLAG) {
    if (info.kind === "boolean") return true;
    throw usage(`parameter "${info.name}" expects a value: --param ${info.name}=VALUE`);
  }
  switch (info.kind) {
    case "boolean": {
      const v = text.trim().toLowerCase();
      if (TRUE.has(v)) return true;
      if (FALSE.has(v)) return false;
      throw usage(`parameter "${info.name}" expects true or false, got ${JSON.stringify(text)}`);
    }
    case "string[]":
    case "number[]": {
      const items = text.split(",").map((s) => s.trim());
      if (text.trim() === "") return [];
      const kind = info.kind === "number[]" ? "number" : "string";
      return items.map((s) => scalar(info, s, kind)) as string[] | number[];
    }
    default:
      return scalar(info, text, info.kind);
  }
}

/**
 * Resolve parameters: each declared one takes its `--param` value parsed for its kind,
 * else its default. With `strict`, a value for an undeclared name is a `USAGE` error
 * naming it and the known ones.
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
        throw usage(
          `unknown parameter "${name}" for scenario "${scenario}"` +
            (known.size ? ` (it takes: ${[...known].join(", ")})` : " (it takes none)"),
        );
  const out: Record<string, ParamValue> = {};
  for (const info of describeParamSpec(spec)) {
    const value = Object.hasOwn(raw, info.name) ? raw[info.name] : undefined;
    out[info.name] = value === undefined ? info.default : parseParam(info, value);
  }
  return out;
}

function typeText(p: ParamInfo): string {
  if (p.choices) {
    const alts = p.choices.join(" | ");
    return p.kind.endsWith("[]") ? `list of ${alts}` : alts;
  }
  return p.kind === "boolean"
    ? "flag"
    : p.kind.endsWith("[]")
      ? `${p.kind.slice(0, -2)} list`
      : p.kind;
}

function valueText(v: ParamValue): string {
  return Array.isArray(v) ? v.join(",") : JSON.stringify(v);
}

/**
 * The parameters section of `aiorch run FILE --help`: name, type, default, description.
 * @example formatParamHelp({ params: describeParamSpec({ n: 3 }) })
 */
export function formatParamHelp({
  params,
  others = [],
}: {
  params: readonly ParamInfo[];
  /** names declared by included scenarios */
  others?: readonly string[];
}): string {
  if (params.length === 0 && others.length === 0) return "Parameters: none\n";
  const rows = params.map((p) => [
    p.kind === "boolean"
      ? `--param ${p.name}`
      : `--param ${p.name}=${p.kind.endsWith("[]") ? "A,B" : "VALUE"}`,
    typeText(p),
    `default ${valueText(p.default)}`,
    p.description ?? "",
  ]);
  const width = (i: number) => Math.max(...rows.map((r) => (r[i] as string).length));
  const lines = rows.map((r) =>
    `  ${r.map((c, i) => (i < 3 ? c.padEnd(width(i)) : c)).join("  ")}`.trimEnd(),
  );
  if (others.length) lines.push(`  (from included scenarios: ${others.join(", ")})`);
  return `Parameters:\n${lines.join("\n")}\n`;
}
