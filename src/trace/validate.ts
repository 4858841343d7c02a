/**
 * A trace read back is untrusted input (traces are passed around, opened by reports,
 * turned into code): every field is checked for its type and range before any use, and the
 * first problem is one `TRACE` error with its JSON path, `run.startedAt: expected a number,
 * got a string`. Unknown fields are ignored; known ones must have the documented shape.
 */
import { AiorchError } from "../errors.ts";
import type {
  JsonValue,
  Trace,
  TraceError,
  TraceLine,
  TraceNode,
  TraceOutput,
  TraceRun,
  TraceScheduler,
} from "./types.ts";

type Obj = Record<string, unknown>;

/** The problem found, with the JSON path where it is. */
class ShapeError extends Error {
  constructor(path: string, expected: string, got: unknown) {
    super(`${path}: expected ${expected}, got ${kindOf(got)}`);
  }
}

function kindOf(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "number") return Number.isFinite(v) ? `the number ${v}` : String(v);
  if (typeof v === "string") return v.length > 40 ? "a string" : `the string ${JSON.stringify(v)}`;
  if (typeof v === "object") return "an object";
  return typeof v === "undefined" ? "nothing" : `a ${typeof v}`;
}

const at = (path: string, key: string | number): string =>
  typeof key === "number"
    ? `${path}[${key}]`
    : /^[A-Za-z_$][\w$]*$/.test(key)
      ? `${path ? `${path}.` : ""}${key}`
      : `${path}[${JSON.stringify(key)}]`;

function obj(v: unknown, path: string): Obj {
  if (typeof v !== "object" || v === null || Array.isArray(v))
    throw new ShapeError(path, "an object", v);
  return v as Obj;
}

function arr(v: unknown, path: string): unknown[] {
  if (!Array.isArray(v)) throw new ShapeError(path, "an array", v);
  // holes (possible in data given to checkTrace, never in JSON) would be skipped by map()
  for (let i = 0; i < v.length; i++)
    if (!(i in v)) throw new ShapeError(at(path, i), "a value", undefined);
  return v;
}

function str(v: unknown, path: string): string {
  if (typeof v !== "string") throw new ShapeError(path, "a string", v);
  return v;
}

function bool(v: unknown, path: string): boolean {
  if (typeof v !== "boolean") throw new ShapeError(path, "true or false", v);
  return v;
}

/** A finite number, `>= min` when given (times, durations and sizes are never negative). */
function num(v: unknown, path: string, min?: number): number {
  if (typeof v !== "number" || !Number.isFinite(v)) throw new ShapeError(path, "a number", v);
  if (min !== undefined && v < min) throw new ShapeError(path, `a number >= ${min}`, v);
  return v;
}

function oneOf<T extends string>(v: unknown, path: string, values: readonly T[]): T {
  if (typeof v !== "string" || !values.includes(v as T))
    throw new ShapeError(path, `one of ${values.map((x) => JSON.stringify(x)).join(", ")}`, v);
  return v as T;
}

/** Check `o[key]` with `check` when present (undefined is absent). */
function opt<T>(o: Obj, key: string, path: string, check: (v: unknown, p: string) => T): void {
  if (o[key] !== undefined) check(o[key], at(path, key));
}

function strings(v: unknown, path: string): string[] {
  return arr(v, path).map((x, i) => str(x, at(path, i)));
}

/** Any JSON value (depth-bounded: a hostile file cannot blow the stack). */
function json(v: unknown, path: string, depth = 0): JsonValue {
  if (depth > 100) throw new ShapeError(path, "JSON nested at most 100 deep", v);
  if (v === null || typeof v === "string" || typeof v === "boolean") return v;
  if (typeof v === "number") return num(v, path);
  if (Array.isArray(v)) {
    v.forEach((x, i) => json(x, at(path, i), depth + 1));
    return v as JsonValue[];
  }
  if (typeof v === "object") {
    for (const [k, x] of Object.entries(v)) json(x, at(path, k), depth + 1);
    return v as JsonValue;
  }
  throw new ShapeError(path, "a JSON value", v);
}

function traceError(v: unknown, path: string): TraceError {
  const o = obj(v, path);
  str(o.name, at(path, "name"));
  str(o.message, at(path, "message"));
  opt(o, "code", path, str);
  opt(o, "facts", path, (f, p) => json(obj(f, p), p));
  return o as unknown as TraceError;
}

function line(v: unknown, path: string): TraceLine {
  const o = obj(v, path);
  num(o.at, at(path, "at"));
  oneOf(o.stream, at(path, "stream"), ["stdout", "stderr", "log"]);
  str(o.line, at(path, "line"));
  opt(o, "host", path, str);
  return o as unknown as TraceLine;
}

function output(v: unknown, path: string): TraceOutput {
  const o = obj(v, path);
  arr(o.lines, at(path, "lines")).forEach((l, i) => line(l, at(at(path, "lines"), i)));
  bool(o.truncated, at(path, "truncated"));
  num(o.droppedLines, at(path, "droppedLines"), 0);
  num(o.droppedBytes, at(path, "droppedBytes"), 0);
  return o as unknown as TraceOutput;
}

function run(v: unknown, path: string): TraceRun {
  const o = obj(v, path);
  for (const k of ["startedAt", "endedAt", "elapsed"]) num(o[k], at(path, k), 0);
  bool(o.ok, at(path, "ok"));
  oneOf(o.reason, at(path, "reason"), [
    "ok",
    "timeout",
    "critical",
    "cancelled",
    "interrupted",
    "error",
    "unfinished",
  ]);
  opt(o, "signal", path, str);
  opt(o, "timeout", path, (x, p) => num(x, p, 0));
  opt(o, "window", path, (x, p) => num(x, p, 0));
  opt(o, "error", path, traceError);
  return o as unknown as TraceRun;
}

/** A command argument as recorded: a string, a number, `{ deferred: source }`, `{ raw: words }`. */
function arg(v: unknown, path: string): void {
  if (typeof v === "string") return;
  if (typeof v === "number") return void num(v, path);
  const o = obj(v, path);
  if (o.raw !== undefined && o.deferred === undefined) str(o.raw, at(path, "raw"));
  else str(o.deferred, at(path, "deferred"));
}

function commandOptions(v: unknown, path: string): void {
  const o = obj(v, path);
  for (const k of ["label", "cwd", "capture", "remoteName"]) opt(o, k, path, str);
  opt(o, "encoding", path, (x, p) => {
    if (x !== "utf8" && x !== "buffer") throw new ShapeError(p, '"utf8" or "buffer"', x);
  });
  opt(o, "timeout", path, (x, p) => num(x, p, 0));
  opt(o, "includes", path, strings);
  opt(o, "allowedExits", path, (x, p) =>
    arr(x, p).forEach((e, i) => (typeof e === "number" ? num(e, at(p, i)) : str(e, at(p, i)))),
  );
  opt(o, "env", path, env);
}

/** `env` as recorded: shell variable names, values `{ $redacted: true }` or arguments. */
function env(x: unknown, p: string): void {
  for (const [name, value] of Object.entries(obj(x, p))) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
      throw new ShapeError(at(p, name), "a shell variable name", name);
    const e = value as Obj | null;
    if (e && typeof e === "object" && !Array.isArray(e) && e.$redacted === true) continue;
    arg(value, at(p, name));
  }
}

/** A service as recorded (describeService): its command, readiness and options. */
function service(o: Obj, path: string): void {
  node(o.node, at(path, "node"));
  str(o.command, at(path, "command"));
  opt(o, "ready", path, (x, p) => {
    const r = obj(x, p);
    if (r.output !== undefined) {
      str(r.output, at(p, "output"));
      opt(r, "flags", p, str);
      try {
        new RegExp(r.output as string, (r.flags as string | undefined) ?? "");
      } catch {
        throw new ShapeError(at(p, "output"), "a valid regular expression", r.output);
      }
    } else if (r.run !== undefined) {
      arr(r.run, at(p, "run")).forEach((a, i) => arg(a, at(at(p, "run"), i)));
      opt(r, "allowedExits", p, (y, q) =>
        arr(y, q).forEach((e, i) => (typeof e === "number" ? num(e, at(q, i)) : str(e, at(q, i)))),
      );
    } else if (r.function !== true)
      throw new ShapeError(p, "{ output }, { run } or { function: true }", x);
  });
  for (const k of ["readyTimeout", "readyInterval", "stopTimeout"])
    opt(o, k, path, (x, p) => num(x, p, 0));
  for (const k of ["cwd", "log"]) opt(o, k, path, str);
  opt(o, "stopSignal", path, (x, p) => {
    if (typeof x !== "string" || !/^(SIG)?[A-Z0-9]+$/.test(x))
      throw new ShapeError(p, "a signal name", x);
  });
  opt(o, "detach", path, bool);
  opt(o, "env", path, env);
}

function command(v: unknown, path: string): void {
  const o = obj(v, path);
  const type = oneOf(o.type, at(path, "type"), ["run", "runScript", "runString", "push", "pull"]);
  const args = (k: string) => arr(o[k], at(path, k)).forEach((a, i) => arg(a, at(at(path, k), i)));
  if (type === "run") args("argv");
  if (type === "runScript") str(o.path, at(path, "path"));
  if (type === "runString") str(o.body, at(path, "body"));
  if (type === "runScript" || type === "runString") args("args");
  if (type === "push") {
    strings(o.locals, at(path, "locals"));
    str(o.remote, at(path, "remote"));
  }
  if (type === "pull") {
    strings(o.remotes, at(path, "remotes"));
    str(o.local, at(path, "local"));
  }
  opt(o, "options", path, commandOptions);
}

function node(v: unknown, path: string, depth = 0): void {
  const o = obj(v, path);
  if (o.type === "local") {
    opt(o, "shell", path, str);
    return;
  }
  oneOf(o.type, at(path, "type"), ["ssh", "local"]);
  str(o.host, at(path, "host"));
  opt(o, "port", path, (x, p) => num(x, p, 1));
  for (const k of ["user", "knownHosts"]) opt(o, k, path, str);
  opt(o, "keys", path, strings);
  opt(o, "hostKeys", path, (x, p) => oneOf(x, p, ["verify", "accept-new", "off"]));
  opt(o, "connectTimeout", path, (x, p) => num(x, p, 0));
  opt(o, "maxSessions", path, (x, p) => num(x, p, 1));
  opt(o, "agent", path, bool);
  if (o.gateway !== undefined) {
    if (depth > 20) throw new ShapeError(at(path, "gateway"), "at most 20 gateways", o.gateway);
    node(o.gateway, at(path, "gateway"), depth + 1);
  }
  json(o, path);
}

function work(v: unknown, path: string): void {
  const o = obj(v, path);
  const kind = str(o.kind, at(path, "kind"));
  if (kind === "function") {
    str(o.module, at(path, "module"));
    str(o.name, at(path, "name"));
    opt(o, "args", path, (x, p) => arr(x, p).forEach((a, i) => json(a, at(p, i))));
  } else if (kind === "commands") {
    node(o.node, at(path, "node"));
    const p = at(path, "commands");
    arr(o.commands, p).forEach((c, i) => command(c, at(p, i)));
  } else if (kind === "service") {
    service(o, path);
  } else if (kind === "replay") {
    const p = at(path, "replay");
    const r = obj(o.replay, p);
    num(r.duration, at(p, "duration"), 0);
    oneOf(r.outcome, at(p, "outcome"), ["ok", "error", "cancelled"]);
    opt(r, "result", p, json);
    opt(r, "error", p, traceError);
    opt(r, "output", p, (x, q) => arr(x, q).forEach((l, i) => line(l, at(q, i))));
  } else json(o, path);
}

const STATES = ["idle", "scheduled", "running", "done", "cancelled"] as const;

function treeNode(v: unknown, path: string, labels: Set<string>, depth: number): TraceNode {
  const o = obj(v, path);
  const type = oneOf(o.type, at(path, "type"), ["job", "scheduler"]);
  const label = str(o.label, at(path, "label"));
  if (label === "") throw new ShapeError(at(path, "label"), "a non-empty label", label);
  if (labels.has(label))
    throw new ShapeError(at(path, "label"), "a label unique in the trace", label);
  labels.add(label);
  opt(o, "generatedLabel", path, bool);
  bool(o.critical, at(path, "critical"));
  opt(o, "criticalSet", path, bool);
  bool(o.forever, at(path, "forever"));
  strings(o.requires, at(path, "requires"));
  oneOf(o.state, at(path, "state"), STATES);
  for (const k of ["startedAt", "endedAt", "duration"]) opt(o, k, path, (x, p) => num(x, p, 0));
  opt(o, "error", path, traceError);
  if (type === "scheduler") {
    scheduler(o, path, labels, depth);
  } else {
    str(o.kind, at(path, "kind"));
    work(o.work, at(path, "work"));
    opt(o, "result", path, json);
    opt(o, "resultNote", path, (x, p) => oneOf(x, p, ["projected", "not-json", "too-large"]));
    output(o.output, at(path, "output"));
  }
  return o as unknown as TraceNode;
}

function scheduler(o: Obj, path: string, labels: Set<string>, depth: number): TraceScheduler {
  if (depth > 50) throw new ShapeError(path, "schedulers nested at most 50 deep", o);
  opt(o, "timeout", path, (x, p) => num(x, p, 0));
  opt(o, "window", path, (x, p) => num(x, p, 0));
  opt(o, "reason", path, (x, p) => oneOf(x, p, ["ok", "timeout", "critical", "cancelled"]));
  const p = at(path, "jobs");
  const jobs = arr(o.jobs, p).map((j, i) => treeNode(j, at(p, i), labels, depth + 1));
  // requirements name jobs of the same scheduler, never the job itself
  const siblings = new Set(jobs.map((j) => j.label));
  jobs.forEach((j, i) =>
    j.requires.forEach((r, k) => {
      if (!siblings.has(r) || r === j.label)
        throw new ShapeError(
          at(at(at(p, i), "requires"), k),
          "the label of another job of the same scheduler",
          r,
        );
    }),
  );
  return o as unknown as TraceScheduler;
}

/**
 * Check that `data` is a trace this version can read, field by field; returns it typed.
 * Throws a `TRACE` error naming the file and the JSON path of the first problem.
 *
 * @example
 * ```ts
 * import { readFileSync } from "node:fs";
 * const file = "run.trace.json";
 * const trace = validateTrace({ data: JSON.parse(readFileSync(file, "utf8")), file });
 * ```
 */
export function validateTrace({ data, file }: { data: unknown; file: string }): Trace {
  try {
    const o = obj(data, "(top)");
    str(o.createdAt, "createdAt");
    opt(o, "file", "", str);
    run(o.run, "run");
    const limits = obj(o.limits, "limits");
    for (const k of ["jobOutputBytes", "totalOutputBytes", "resultBytes"])
      num(limits[k], at("limits", k), 0);
    const root = obj(o.scenario, "scenario");
    treeNode(root, "scenario", new Set(), 0);
    if (root.type !== "scheduler") throw new ShapeError("scenario.type", '"scheduler"', root.type);
    return o as unknown as Trace;
  } catch (err) {
    if (!(err instanceof ShapeError)) throw err;
    throw new AiorchError("TRACE", `${file}: ${err.message}`, { file });
  }
}
