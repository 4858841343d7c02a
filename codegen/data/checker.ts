import { isMap, isPair, isScalar, isSeq, LineCounter, type Node, parseDocument } from "yaml";
import { AiorchError } from "../../src/errors.ts";

/** A path into the data: keys and indexes. */
export type DataPath = readonly (string | number)[];

/** `jobs[2].commands[0].run` */
export function formatPath(path: DataPath): string {
  let out = "";
  for (const p of path)
    out +=
      typeof p === "number"
        ? `[${p}]`
        : /^[A-Za-z_$][\w$-]*$/.test(p)
          ? `${out ? "." : ""}${p}`
          : `[${JSON.stringify(p)}]`;
  return out || "(top level)";
}

const key = (path: DataPath): string => path.join("\u0000");

/** Parsed YAML/JSON text with the position of every key and value. */
export interface ParsedData {
  data: unknown;
  checker: Checker;
}

/**
 * Parse YAML (JSON is YAML) keeping positions: syntax errors and duplicate keys throw a
 * `SCENARIO_INVALID` error with file, line and column.
 */
export function parseWithPositions({ text, file }: { text: string; file: string }): ParsedData {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true });
  const err = doc.errors[0];
  if (err) {
    const pos = lineCounter.linePos(err.pos[0]);
    const first = err.message.split("\n")[0] ?? err.message;
    throw new AiorchError("SCENARIO_INVALID", `${file}:${pos.line}:${pos.col}: ${first}`, {
      file,
      line: pos.line,
    });
  }
  const keys = new Map<string, number>();
  const values = new Map<string, number>();
  const walk = (node: Node | null | undefined, path: (string | number)[]): void => {
    if (!node) return;
    if (node.range) values.set(key(path), node.range[0]);
    if (isMap(node)) {
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        const k = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
        const kn = pair.key as Node | null;
        if (kn?.range) keys.set(key([...path, k]), kn.range[0]);
        walk(pair.value as Node | null, [...path, k]);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => walk(item as Node | null, [...path, i]));
    }
  };
  walk(doc.contents as Node | null, []);
  return { data: doc.toJS(), checker: new Checker({ file, keys, values, lineCounter }) };
}

/** Type checks on plain data that fail with the file, line and path of the culprit. */
export class Checker {
  private readonly file: string;
  private readonly keys: ReadonlyMap<string, number>;
  private readonly values: ReadonlyMap<string, number>;
  private readonly lines: LineCounter;

  constructor(p: {
    file: string;
    keys: ReadonlyMap<string, number>;
    values: ReadonlyMap<string, number>;
    lineCounter: LineCounter;
  }) {
    this.file = p.file;
    this.keys = p.keys;
    this.values = p.values;
    this.lines = p.lineCounter;
  }

  /** Throw `SCENARIO_INVALID`: `file:line:col: path: message`, at the key or the value. */
  fail(path: DataPath, message: string, at: "key" | "value" = "value"): never {
    let offset: number | undefined;
    for (let p = path; offset === undefined && p.length >= 0; p = p.slice(0, -1)) {
      offset = (at === "key" ? this.keys.get(key(p)) : undefined) ?? this.values.get(key(p));
      if (p.length === 0) break;
    }
    const pos = offset === undefined ? undefined : this.lines.linePos(offset);
    const where = pos ? `${this.file}:${pos.line}:${pos.col}` : this.file;
    throw new AiorchError("SCENARIO_INVALID", `${where}: ${formatPath(path)}: ${message}`, {
      file: this.file,
      ...(pos ? { line: pos.line } : {}),
      option: formatPath(path),
    });
  }

  /** A mapping with only `allowed` keys and every `required` one. */
  object(
    v: unknown,
    path: DataPath,
    allowed: readonly string[],
    required: readonly string[] = [],
  ): Record<string, unknown> {
    if (typeof v !== "object" || v === null || Array.isArray(v))
      this.fail(path, `expected a mapping, got ${show(v)}`);
    const o = v as Record<string, unknown>;
    for (const k of Object.keys(o))
      if (!allowed.includes(k))
        this.fail([...path, k], `unexpected key "${k}" (allowed: ${allowed.join(", ")})`, "key");
    for (const k of required) if (!(k in o)) this.fail(path, `missing key "${k}"`);
    return o;
  }

  list(v: unknown, path: DataPath): unknown[] {
    if (!Array.isArray(v)) this.fail(path, `expected a list, got ${show(v)}`);
    return v;
  }

  string(v: unknown, path: DataPath, { empty = false } = {}): string {
    if (typeof v !== "string") this.fail(path, `expected a string, got ${show(v)}`);
    if (!empty && v === "") this.fail(path, "must not be empty");
    return v;
  }

  /** One string or a list of strings. */
  strings(v: unknown, path: DataPath): string[] {
    if (typeof v === "string") return [v];
    return this.list(v, path).map((x, i) => this.string(x, [...path, i]));
  }

  number(v: unknown, path: DataPath, { min = 0, integer = false } = {}): number {
    if (typeof v !== "number" || !Number.isFinite(v))
      this.fail(path, `expected a number, got ${show(v)}`);
    if (v < min) this.fail(path, `must be >= ${min}, got ${v}`);
    if (integer && !Number.isInteger(v)) this.fail(path, `must be an integer, got ${v}`);
    return v;
  }

  boolean(v: unknown, path: DataPath): boolean {
    if (typeof v !== "boolean") this.fail(path, `expected true or false, got ${show(v)}`);
    return v;
  }

  oneOf<T extends string>(v: unknown, path: DataPath, values: readonly T[]): T {
    if (!values.includes(v as T))
      this.fail(
        path,
        `expected one of ${values.map((x) => JSON.stringify(x)).join(", ")}, got ${show(v)}`,
      );
    return v as T;
  }
}

/** A short description of a value for messages. */
export function show(v: unknown): string {
  if (v === null || v === undefined) return "nothing";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a mapping";
  const s = JSON.stringify(v);
  return s.length > 40 ? `${s.slice(0, 39)}…` : s;
}
