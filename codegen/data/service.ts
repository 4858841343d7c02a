import { constants } from "node:os";
import type { ReadyModel } from "../model.ts";
import type { Checker, DataPath } from "./checker.ts";
import { show } from "./checker.ts";
import { readAllowedExits, readArgv, readEnv } from "./commands.ts";

/**
 * Services and readiness in a data scenario: `service: "cmd"` jobs with their options, and
 * `ready:` spelled as `{ run: "cmd" }` (retried until it exits 0) or `{ output: "pattern" }`
 * (a line of its output), never a bare string or a YAML-specific regex syntax.
 */

/** Keys of a job that only a service takes. */
export const SERVICE_KEYS = [
  "readyInterval",
  "detach",
  "env",
  "cwd",
  "stopSignal",
  "stopTimeout",
  "log",
] as const;

/** Flags a readiness pattern may carry (g and y have no meaning for a line match). */
const FLAGS = "imsuv";
const SIGNALS = Object.keys(constants.signals).map((s) => s.replace(/^SIG/, ""));

const READY_FORMS =
  'expected { run: "command" } (retried until it exits 0) or { output: "pattern" } (a line of its output)';

/** Read a `ready:` value; `{ run }` only when `service` (a forever job has no command to retry). */
export function readReady(
  c: Checker,
  v: unknown,
  p: DataPath,
  { service }: { service: boolean },
): ReadyModel {
  if (typeof v !== "object" || v === null || Array.isArray(v))
    c.fail(p, `${READY_FORMS}, got ${show(v)}`);
  const forms = ["run", "output"].filter((k) => k in v);
  if (forms.length !== 1)
    c.fail(p, forms.length ? "give only one of run, output" : `${READY_FORMS}, got a mapping`);
  if (forms[0] === "run") {
    if (!service)
      c.fail(
        [...p, "run"],
        'a command readiness check needs a service job (a forever job takes { output: "pattern" })',
        "key",
      );
    const o = c.object(v, p, ["run", "allowedExits"]);
    return {
      run: readArgv(c, o.run, [...p, "run"]),
      ...(o.allowedExits === undefined
        ? {}
        : { allowedExits: readAllowedExits(c, o.allowedExits, [...p, "allowedExits"]) }),
    };
  }
  const o = c.object(v, p, ["output", "flags"]);
  const source = c.string(o.output, [...p, "output"]);
  const flags = o.flags === undefined ? "" : c.string(o.flags, [...p, "flags"], { empty: true });
  for (const f of flags)
    if (!FLAGS.includes(f))
      c.fail([...p, "flags"], `unknown flag "${f}" (allowed: ${[...FLAGS].join(", ")})`);
  try {
    new RegExp(source, flags);
  } catch (err) {
    const at = /flag/i.test((err as Error).message) ? "flags" : "output";
    c.fail([...p, at], `not a valid pattern: ${(err as Error).message}`);
  }
  return { output: source, ...(flags ? { flags } : {}) };
}

/** A signal name (`TERM`, `SIGINT`…), returned without `SIG`. */
export function readSignal(c: Checker, v: unknown, p: DataPath): string {
  const name = c.string(v, p).replace(/^SIG/, "");
  if (!SIGNALS.includes(name))
    c.fail(p, `unknown signal ${show(v)} (e.g. TERM, INT, HUP, KILL, USR1)`);
  return name;
}

/** The service-only options of a job mapping. */
export function readServiceOptions(
  c: Checker,
  j: Record<string, unknown>,
  p: DataPath,
): {
  readyInterval?: number;
  detach?: boolean;
  env?: ReturnType<typeof readEnv>;
  cwd?: string;
  stopSignal?: string;
  stopTimeout?: number;
  log?: string;
} {
  const at = (k: string): DataPath => [...p, k];
  return {
    ...(j.readyInterval === undefined
      ? {}
      : { readyInterval: c.number(j.readyInterval, at("readyInterval"), { min: 1 }) }),
    ...(j.detach === undefined ? {} : { detach: c.boolean(j.detach, at("detach")) }),
    ...(j.env === undefined ? {} : { env: readEnv(c, j.env, at("env")) }),
    ...(j.cwd === undefined ? {} : { cwd: c.string(j.cwd, at("cwd")) }),
    ...(j.stopSignal === undefined
      ? {}
      : { stopSignal: readSignal(c, j.stopSignal, at("stopSignal")) }),
    ...(j.stopTimeout === undefined
      ? {}
      : { stopTimeout: c.number(j.stopTimeout, at("stopTimeout")) }),
    ...(j.log === undefined ? {} : { log: c.string(j.log, at("log")) }),
  };
}
