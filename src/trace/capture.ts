import { AiorchError } from "../errors.ts";
import { isPlainData } from "../json.ts";
import { addSecrets, hasSecrets, isSecretName, maskSecrets } from "../redact.ts";
import type { JsonValue, TraceError } from "./types.ts";

/**
 * The recorder's view of the one redaction policy (src/redact.ts): values found under
 * secret names are declared secrets of the process, masked in every sink.
 */
export class Redactor {
  /** Declare a secret value (short values and `<placeholders>` are ignored). */
  add(value: string): void {
    if (!/^<[a-z ]+>$/.test(value)) addSecrets([value]);
  }

  /** `text` with every declared secret replaced by `***`. */
  mask(text: string): string {
    return maskSecrets(text);
  }

  /** 1 when any secret is declared (callers skip masking otherwise) */
  get size(): number {
    return hasSecrets() ? 1 : 0;
  }
}

/** True for keys holding secrets (`password`, `passphrase`, `apiKey`, `GITHUB_PAT`…). */
export function isSecretKey(key: string): boolean {
  return isSecretName(key);
}

/**
 * A JSON copy of a job description: values of secret keys replaced by `{ $redacted: true }`
 * (their string values given to `redactor`), functions as `{ $function: source }`, other non-JSON values as
 * `{ $value: String(x) }`, cycles cut.
 */
export function sanitizeDescription(value: unknown, redactor: Redactor): JsonValue {
  const seen = new Set<object>();
  const walk = (x: unknown, depth: number): JsonValue => {
    if (x === null || typeof x === "boolean") return x;
    if (typeof x === "string") return redactor.mask(x);
    if (typeof x === "number") return Number.isFinite(x) ? x : String(x);
    if (typeof x === "function") return { $function: redactor.mask(String(x)) };
    if (typeof x !== "object" || depth > 20 || seen.has(x)) return { $value: String(x) };
    seen.add(x);
    try {
      if (Array.isArray(x)) return x.map((y) => walk(y, depth + 1));
      const proto = Object.getPrototypeOf(x);
      if (proto !== Object.prototype && proto !== null) {
        // an object with its own describe() (an SshNode used as a gateway…)
        const d = (x as { describe?: () => unknown }).describe;
        if (typeof d === "function") return walk(d.call(x), depth + 1);
      }
      const out: Record<string, JsonValue> = {};
      for (const [k, v] of Object.entries(x)) {
        if (v === undefined) continue;
        if (isSecretKey(k)) {
          collectSecrets(v, redactor);
          out[k] = { $redacted: true };
          continue;
        }
        out[k] = walk(v, depth + 1);
      }
      return out;
    } finally {
      seen.delete(x);
    }
  };
  return walk(value, 0);
}

function collectSecrets(v: unknown, redactor: Redactor): void {
  if (typeof v === "string") redactor.add(v);
  else if (Array.isArray(v)) for (const x of v) collectSecrets(x, redactor);
  else if (v && typeof v === "object")
    for (const x of Object.values(v)) collectSecrets(x, redactor);
}

/** Why a result was not recorded as is. */
export type ResultNote = "not-json" | "too-large" | "projected";

/**
 * `value` as JSON when it is plain data (null, booleans, finite numbers, strings, arrays and
 * plain objects) whose JSON text fits in `maxBytes`. Other objects (class instances, errors
 * inside) are projected through `JSON.stringify` and noted `projected`; values that cannot
 * be (cycles, functions) are noted `not-json`, too large ones `too-large`.
 */
export function toJsonValue(
  value: unknown,
  { maxBytes, redactor }: { maxBytes: number; redactor: Redactor },
):
  | { value: JsonValue; note?: "projected" }
  | { value?: undefined; note: "not-json" | "too-large" } {
  // a 47 MB capture must not become a 47 MB JSON text (or a Buffer's array of numbers)
  if (jsonBytesOver(value, maxBytes)) return { note: "too-large" };
  const plain = isPlainData(value, 0);
  let text: string | undefined;
  try {
    text = JSON.stringify(value, plain ? undefined : projectValue);
  } catch {
    return { note: "not-json" };
  }
  if (text === undefined) return { note: "not-json" };
  if (Buffer.byteLength(text) > maxBytes) return { note: "too-large" };
  const json =
    plain && !redactor.size ? (value as JsonValue) : (JSON.parse(redactor.mask(text)) as JsonValue);
  return plain ? { value: json } : { value: json, note: "projected" };
}

/**
 * True when the JSON text of `value` surely exceeds `max` bytes, found without building it:
 * strings count their length, buffers and typed arrays two bytes per byte (their JSON is an
 * array of numbers), and the walk stops as soon as the bound is passed.
 */
/** @internal true when `value` as JSON takes more than about `max` bytes (counted without building it) */
export function jsonBytesOver(value: unknown, max: number): boolean {
  let total = 0;
  const seen = new Set<object>();
  const walk = (x: unknown, depth: number): boolean => {
    if (typeof x === "string") total += x.length + 2;
    else if (typeof x === "number" || typeof x === "boolean" || x === null) total += 4;
    else if (ArrayBuffer.isView(x)) total += x.byteLength * 2;
    else if (typeof x === "object" && depth < 100 && !seen.has(x)) {
      seen.add(x);
      for (const [k, v] of Object.entries(x)) {
        total += k.length + 4;
        if (total > max || walk(v, depth + 1)) return true;
      }
    }
    return total > max;
  };
  return walk(value, 0);
}

/** JSON.stringify replacer: errors as name/message/code, bigints as strings. */
function projectValue(_key: string, v: unknown): unknown {
  if (typeof v === "bigint") return String(v);
  if (v instanceof Error) {
    const code = (v as { code?: unknown }).code;
    return { name: v.name, message: v.message, ...(code === undefined ? {} : { code }) };
  }
  return v;
}

/** An exception as recorded: name, message, AiorchError code and facts; secrets masked. */
export function toTraceError(err: unknown, redactor: Redactor): TraceError {
  if (err instanceof Error) {
    const out: TraceError = { name: err.name, message: redactor.mask(err.message) };
    if (err instanceof AiorchError) {
      out.code = err.code;
      const facts: Record<string, JsonValue> = {};
      for (const [k, v] of Object.entries(err)) {
        if (k === "code" || k === "shortMessage" || k === "name" || k === "message") continue;
        const j = toJsonValue(v, { maxBytes: 4096, redactor });
        if (j.value !== undefined) facts[k] = j.value;
      }
      if (Object.keys(facts).length > 0) out.facts = facts;
    }
    return out;
  }
  return { name: typeof err, message: redactor.mask(String(err)) };
}
