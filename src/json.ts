/** JSON values and the test for plain data, shared by traces and journals. */

/** A JSON value, as stored in a trace or a journal. */
export type JsonValue =
  | null
  | boolean
  | number
  | string
  | readonly JsonValue[]
  | { readonly [key: string]: JsonValue };

/**
 * True for plain data: null, booleans, finite numbers, strings, arrays and plain objects
 * of them (undefined properties allowed), nested at most 50 deep (so cycles are false).
 */
export function isPlainData(x: unknown, depth = 0): boolean {
  if (x === null || typeof x === "boolean" || typeof x === "string") return true;
  if (typeof x === "number") return Number.isFinite(x);
  if (typeof x !== "object" || depth > 50) return false;
  if (Array.isArray(x)) return x.every((y) => isPlainData(y, depth + 1));
  const proto = Object.getPrototypeOf(x);
  if (proto !== Object.prototype && proto !== null) return false;
  return Object.values(x).every((y) => y === undefined || isPlainData(y, depth + 1));
}
