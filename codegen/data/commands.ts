import type { ArgModel, CommandModel, CommandOptionsModel } from "../model.ts";
import type { Checker, DataPath } from "./checker.ts";

/** Commands of a data scenario job: a string (a command line) or one of these keys. */
const BASE_OPTS = ["label", "timeout"];
const PROC_OPTS = [...BASE_OPTS, "allowedExits", "env", "cwd", "capture", "encoding"];
const COMMANDS: Record<string, readonly string[]> = {
  run: ["run", ...PROC_OPTS],
  script: ["script", "args", "includes", ...PROC_OPTS],
  string: ["string", "args", "includes", "remoteName", ...PROC_OPTS],
  push: ["push", "to", ...BASE_OPTS],
  pull: ["pull", "to", ...BASE_OPTS],
};

/** Read and check a job's `commands:` list. */
export function readCommands(c: Checker, v: unknown, path: DataPath): CommandModel[] {
  const list = c.list(v, path);
  if (list.length === 0) c.fail(path, "give at least one command");
  return list.map((raw, i) => {
    const p = [...path, i];
    if (typeof raw === "string") return { type: "run", argv: [raw] };
    const o = c.object(raw, p, Object.keys(raw ?? {}));
    const types = Object.keys(COMMANDS).filter((t) => o[t] !== undefined);
    if (types.length !== 1)
      c.fail(
        p,
        types.length
          ? `give only one of ${types.join(", ")}`
          : `a command needs one of ${Object.keys(COMMANDS).join(", ")}`,
      );
    const type = types[0]!;
    c.object(raw, p, COMMANDS[type]!);
    const options = readOptions(c, o, p);
    const opts = Object.keys(options).length ? { options } : {};
    const args = () =>
      o.args === undefined
        ? []
        : c.list(o.args, [...p, "args"]).map((a, k) => readArg(c, a, [...p, "args", k]));
    switch (type) {
      case "run": {
        return { type: "run", argv: readArgv(c, o.run, [...p, "run"]), ...opts };
      }
      case "script":
        return {
          type: "runScript",
          path: c.string(o.script, [...p, "script"]),
          args: args(),
          ...opts,
        };
      case "string":
        return {
          type: "runString",
          body: c.string(o.string, [...p, "string"], { empty: true }),
          args: args(),
          ...opts,
        };
      case "push":
        return {
          type: "push",
          locals: c.strings(o.push, [...p, "push"]),
          remote: c.string(o.to, [...p, "to"]),
          ...opts,
        };
      default:
        return {
          type: "pull",
          remotes: c.strings(o.pull, [...p, "pull"]),
          local: c.string(o.to, [...p, "to"]),
          ...opts,
        };
    }
  });
}

function readOptions(c: Checker, o: Record<string, unknown>, p: DataPath): CommandOptionsModel {
  const out: CommandOptionsModel = {};
  if (o.label !== undefined) out.label = c.string(o.label, [...p, "label"], { empty: true });
  if (o.timeout !== undefined) out.timeout = c.number(o.timeout, [...p, "timeout"]);
  if (o.cwd !== undefined) out.cwd = c.string(o.cwd, [...p, "cwd"]);
  if (o.capture !== undefined) out.capture = c.string(o.capture, [...p, "capture"]);
  if (o.encoding !== undefined) {
    out.encoding = c.oneOf(o.encoding, [...p, "encoding"], ["utf8", "buffer"] as const);
    if (o.capture === undefined)
      c.fail([...p, "encoding"], '"encoding" applies to a capture: give capture too', "key");
  }
  if (o.remoteName !== undefined) out.remoteName = c.string(o.remoteName, [...p, "remoteName"]);
  if (o.includes !== undefined) out.includes = c.strings(o.includes, [...p, "includes"]);
  if (o.allowedExits !== undefined)
    out.allowedExits = readAllowedExits(c, o.allowedExits, [...p, "allowedExits"]);
  if (o.env !== undefined) out.env = readEnv(c, o.env, [...p, "env"]);
  return out;
}

/** `allowedExits: [1, TERM]`: exit codes and signal names. */
export function readAllowedExits(c: Checker, v: unknown, p: DataPath): (number | string)[] {
  return c
    .list(v, p)
    .map((x, k) =>
      typeof x === "number" ? c.number(x, [...p, k], { integer: true }) : c.string(x, [...p, k]),
    );
}

/** `env: { NAME: value | { var } | { fromEnv } }` with shell variable names. */
export function readEnv(c: Checker, v: unknown, p: DataPath): Record<string, ArgModel> {
  const env = c.object(v, p, Object.keys(v ?? {}));
  const out: Record<string, ArgModel> = {};
  for (const [name, x] of Object.entries(env)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
      c.fail([...p, name], `"${name}" is not a shell variable name`, "key");
    out[name] = readArg(c, x, [...p, name], true);
  }
  return out;
}

/** `run:` a command line (string) or its words (first as is, the rest shell-quoted). */
export function readArgv(c: Checker, v: unknown, p: DataPath): ArgModel[] {
  const argv = typeof v === "string" ? [v] : c.list(v, p).map((a, k) => readArg(c, a, [...p, k]));
  if (argv.length === 0) c.fail(p, "give a command");
  return argv;
}

/** A command word: a string, a number, `{ var: name }` (or `{ fromEnv: name }` in env). */
export function readArg(c: Checker, v: unknown, p: DataPath, env = false): ArgModel {
  if (typeof v === "string" || (typeof v === "number" && Number.isFinite(v))) return v;
  const allowed = env ? ["var", "fromEnv"] : ["var"];
  const o = c.object(v, p, allowed);
  const k = allowed.find((x) => o[x] !== undefined);
  if (!k) c.fail(p, `expected a string, a number or { ${allowed.join(" | ")}: name }`);
  const name = c.string(o[k], [...p, k]);
  return k === "var" ? { var: name } : { fromEnv: name };
}
