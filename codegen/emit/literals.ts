import type { JsonValue } from "../../src/trace/types.ts";

/** Characters escaped in every literal: controls, line/paragraph separators, BOM. */
const ALWAYS_ESCAPE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\ufeff]/g;
/** Lone surrogates cannot be written in a UTF-8 file: escape them. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

const hex4 = (c: string): string => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;

/**
 * A TypeScript string literal whose value is exactly `s`: a double-quoted literal, or a
 * template literal (more readable) when `s` spans several lines. Quotes, backticks, `${`,
 * backslashes, control characters and lone surrogates are escaped; other non-ASCII text
 * is kept as is (files are UTF-8).
 *
 * @example lit('say "hi"') // "say \"hi\""
 */
export function lit(s: string): string {
  if (typeof s !== "string") throw new TypeError(`lit: expected a string, got ${typeof s}`);
  if (s.includes("\n") && s.length > 1) return templateLit(s);
  return JSON.stringify(s).replace(ALWAYS_ESCAPE, hex4);
}

function templateLit(s: string): string {
  const body = s
    .replace(/\\/g, "\\\\")
    .replace(/`/g, "\\`")
    .replace(/\$\{/g, "\\${")
    .replace(/\r/g, "\\r")
    .replace(/\t/g, "\\t")
    .replace(ALWAYS_ESCAPE, hex4)
    .replace(LONE_SURROGATE, hex4);
  return `\`${body}\``;
}

const RESERVED = new Set(
  (
    "break case catch class const continue debugger default delete do else enum export extends " +
    "false finally for function if import in instanceof new null return super switch this throw " +
    "true try typeof var void while with as implements interface let package private protected " +
    "public static yield await async of any boolean number string symbol type undefined unknown " +
    "never object bigint require module exports process globalThis console arguments eval"
  ).split(" "),
);

/** True for a valid, unreserved identifier. */
export function isIdentifier(s: string): boolean {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(s) && !RESERVED.has(s);
}

/** A property key: bare when it is an identifier-like name, quoted otherwise. */
export function propKey(k: string): string {
  // `__proto__: x` would set the prototype; a computed key defines the property
  if (k === "__proto__") return '["__proto__"]';
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(k) ? k : lit(k);
}

/** A JSON value as a one-line TypeScript expression. */
export function jsonLit(v: JsonValue | undefined): string {
  if (v === undefined) return "undefined";
  if (v === null || typeof v === "boolean") return String(v);
  if (typeof v === "number") return Number.isFinite(v) ? numLit(v) : "null";
  if (typeof v === "string") return JSON.stringify(v).replace(ALWAYS_ESCAPE, hex4);
  if (Array.isArray(v)) return `[${v.map((x) => jsonLit(x)).join(", ")}]`;
  const entries = Object.entries(v as Record<string, JsonValue>);
  if (entries.length === 0) return "{}";
  return `{ ${entries.map(([k, x]) => `${propKey(k)}: ${jsonLit(x)}`).join(", ")} }`;
}

/** A number literal; negative zero and big values kept exact. */
export function numLit(n: number): string {
  // emitted values come from validated data: anything else is a bug, never code
  if (typeof n !== "number" || !Number.isFinite(n))
    throw new TypeError(`numLit: expected a finite number, got ${typeof n}`);
  if (Object.is(n, -0)) return "-0";
  return String(n);
}

/** `{ a: 1, b: "x" }` from pre-rendered entries; `undefined` values dropped; "" when empty. */
export function objLit(entries: Record<string, string | undefined>): string {
  const parts = Object.entries(entries)
    .filter((e): e is [string, string] => e[1] !== undefined)
    .map(([k, v]) => `${propKey(k)}: ${v}`);
  return parts.length ? `{ ${parts.join(", ")} }` : "";
}

/** {@link objLit} over several lines, one entry per line, closed at `indent`. */
export function objLitLines(entries: Record<string, string | undefined>, indent = ""): string {
  const parts = Object.entries(entries)
    .filter((e): e is [string, string] => e[1] !== undefined)
    .map(([k, v]) => `${indent}  ${propKey(k)}: ${v},\n`);
  return parts.length ? `{\n${parts.join("")}${indent}}` : "";
}

/** Allocates unique identifiers from readable bases. */
export class Names {
  private readonly used = new Set<string>();

  constructor(reserved: Iterable<string> = []) {
    for (const r of reserved) this.used.add(r);
  }

  /** `base` made an identifier (`10.0.0.7` → `node_10_0_0_7`), suffixed `_2`, `_3`… if taken. */
  fresh(base: string, fallback = "x"): string {
    let id = base
      .normalize("NFKD")
      .replace(/[^A-Za-z0-9_$]+/g, "_")
      .replace(/^_+|_+$/g, "");
    if (!id) id = fallback;
    if (/^[0-9]/.test(id)) id = `${fallback}_${id}`;
    if (RESERVED.has(id)) id = `${id}_`;
    let out = id;
    for (let n = 2; this.used.has(out); n++) out = `${id}_${n}`;
    this.used.add(out);
    return out;
  }

  /** Mark a name as taken. */
  reserve(name: string): void {
    this.used.add(name);
  }
}
