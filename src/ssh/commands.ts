/**
 * Command specs: plain, immutable descriptions built by `run`, `runScript`, `runString`,
 * `push`, `pull`. They hold no connection and start nothing; an SshJob executes them.
 */
import { AiorchError } from "../errors.ts";
import { isEnvName, quoteArg } from "./quote.ts";
import { isRawWord, type RawWord } from "./words.ts";

/** Captured variables of the run (`ctx.vars`). */
export type Vars = Readonly<Record<string, string>>;
/** An argument computed when the command starts, from the run's captured variables. */
export type Deferred = (vars: Vars) => string | number | undefined;
/** A command argument: shell-quoted when it is not the first word of `run`, unless {@link RawWord}. */
export type Arg = string | number | Deferred | RawWord;
/** An allowed exit: a code, or a signal name (`"TERM"` or `"SIGTERM"`). */
export type ExitSpec = number | string;

/** Options every command takes. */
export interface BaseCommandOptions {
  /** label in listings @default derived from the command */
  label?: string;
  /** ms before the command is stopped (TERM, then KILL) and fails with `TIMEOUT` @default none */
  timeout?: number;
}

/** Options of commands that run a process. */
export interface CommandOptions extends BaseCommandOptions {
  /** exits that count as success besides 0 @example [1, "TERM"] */
  allowedExits?: readonly ExitSpec[];
  /** environment variables set for the command (through the shell, so no AcceptEnv needed) */
  env?: Readonly<Record<string, Arg>>;
  /** working directory @default the remote home */
  cwd?: string;
  /**
   * Capture stdout under this name: with the default `encoding: "utf8"`, as text (one
   * trailing newline dropped) in `ctx.vars[capture]` and the outcome's `stdout`.
   */
  capture?: string;
  /**
   * How `capture` keeps stdout: `"utf8"` decodes it into a variable; `"buffer"` keeps every
   * byte as is in the outcome's `stdoutBytes` (binary data, invalid UTF-8, CRLF: nothing
   * changed, no newline dropped) and sets no variable (variables are text for shell words).
   * Needs `capture`.
   * @default "utf8"
   * @example run("cat", "image.png", { capture: "png", encoding: "buffer" })
   */
  encoding?: "utf8" | "buffer";
  /**
   * Detach the command from the channel: stdin, stdout and stderr go to /dev/null, so
   * `run("server &", { ignoreOutputs: true })` returns once the shell is done instead of
   * when the background process closes its output (apssh's `ignore_outputs`). No output
   * is shown or captured.
   * @default false
   */
  ignoreOutputs?: boolean;
}

/** Options of `runScript` / `runString`. */
export interface ScriptOptions extends CommandOptions {
  /** local files uploaded next to the script (removed afterwards) */
  includes?: readonly string[];
}

/** Options of `runString`. */
export interface StringScriptOptions extends ScriptOptions {
  /** name of the remote script file @default "script" */
  remoteName?: string;
}

/** A command of an SshJob. */
export type Command = RunCommand | ScriptCommand | StringCommand | PushCommand | PullCommand;

export interface RunCommand {
  readonly type: "run";
  readonly argv: readonly Arg[];
  readonly options: CommandOptions;
}
export interface ScriptCommand {
  readonly type: "runScript";
  readonly path: string;
  readonly args: readonly Arg[];
  readonly options: ScriptOptions;
}
export interface StringCommand {
  readonly type: "runString";
  readonly body: string;
  readonly args: readonly Arg[];
  readonly options: StringScriptOptions;
}
export interface PushCommand {
  readonly type: "push";
  readonly locals: readonly string[];
  readonly remote: string;
  readonly options: BaseCommandOptions;
}
export interface PullCommand {
  readonly type: "pull";
  readonly remotes: readonly string[];
  readonly local: string;
  readonly options: BaseCommandOptions;
}

function isOptions(x: unknown): x is CommandOptions {
  return typeof x === "object" && x !== null && !Array.isArray(x) && !isRawWord(x);
}

function checkArg(a: unknown, what: string): Arg {
  if (
    typeof a === "string" ||
    typeof a === "function" ||
    isRawWord(a) ||
    (typeof a === "number" && Number.isFinite(a))
  )
    return a as Arg;
  throw new AiorchError(
    "INVALID_ARGUMENT",
    `${what}: arguments must be strings, numbers, raw() words or functions, got ${typeof a}`,
  );
}

function checkOptions<T extends BaseCommandOptions>(o: T | undefined, what: string): T {
  const opts = { ...(o ?? ({} as T)) };
  const c = opts as CommandOptions;
  if (opts.timeout !== undefined && !(typeof opts.timeout === "number" && opts.timeout > 0))
    throw new AiorchError(
      "INVALID_ARGUMENT",
      `${what}: timeout must be a positive number of ms, got ${String(opts.timeout)}`,
      {
        option: "timeout",
      },
    );
  for (const e of c.allowedExits ?? [])
    if (
      !(typeof e === "number" && Number.isInteger(e)) &&
      !(typeof e === "string" && /^(SIG)?[A-Z0-9]+$/.test(e))
    )
      throw new AiorchError(
        "INVALID_ARGUMENT",
        `${what}: allowedExits takes codes and signal names, got ${JSON.stringify(e)}`,
        {
          option: "allowedExits",
        },
      );
  for (const k of Object.keys(c.env ?? {}))
    if (!isEnvName(k))
      throw new AiorchError(
        "INVALID_ARGUMENT",
        `${what}: env name ${JSON.stringify(k)} is not a shell variable name`,
        {
          option: "env",
        },
      );
  if (c.ignoreOutputs !== undefined && typeof c.ignoreOutputs !== "boolean")
    throw new AiorchError("INVALID_ARGUMENT", `${what}: ignoreOutputs must be true or false`, {
      option: "ignoreOutputs",
    });
  if (c.ignoreOutputs && c.capture !== undefined)
    throw new AiorchError(
      "INVALID_ARGUMENT",
      `${what}: ignoreOutputs sends stdout to /dev/null, so capture ${JSON.stringify(c.capture)} would get nothing`,
      { option: "capture" },
    );
  if (c.capture !== undefined && (typeof c.capture !== "string" || c.capture === ""))
    throw new AiorchError("INVALID_ARGUMENT", `${what}: capture must be a variable name`, {
      option: "capture",
    });
  if (c.encoding !== undefined && c.encoding !== "utf8" && c.encoding !== "buffer")
    throw new AiorchError(
      "INVALID_ARGUMENT",
      `${what}: encoding must be "utf8" or "buffer", got ${JSON.stringify(c.encoding)}`,
      { option: "encoding" },
    );
  if (c.encoding !== undefined && c.capture === undefined)
    throw new AiorchError(
      "INVALID_ARGUMENT",
      `${what}: encoding ${JSON.stringify(c.encoding)} applies to a capture: give capture too`,
      { option: "encoding" },
    );
  return opts;
}

/**
 * Run a shell command line. The first argument is a command line (not quoted); every
 * further argument is shell-quoted, except {@link raw} words (`raw(">")`); a trailing
 * object gives options.
 *
 * @example
 * ```ts
 * run("apt-get", "install", "-y", "iperf3")
 * run("make", "-j4", { allowedExits: [2, "TERM"], timeout: 60_000, cwd: "src", capture: "out" })
 * run("git", "checkout", (vars) => vars.rev)
 * ```
 */
export function run(command: Arg, ...rest: [...Arg[], CommandOptions] | Arg[]): RunCommand {
  const last = rest[rest.length - 1];
  const options = isOptions(last) ? (last as CommandOptions) : undefined;
  const args = options ? rest.slice(0, -1) : rest;
  const argv = [checkArg(command, "run"), ...args.map((a) => checkArg(a, "run"))];
  return Object.freeze({ type: "run", argv, options: checkOptions(options, "run") });
}

/**
 * Upload a local script (and its includes) to a private remote directory, run it with
 * `args`, and remove the files afterwards.
 * @example runScript("./setup.sh", ["--fast"], { includes: ["./lib.sh"] })
 */
export function runScript(
  path: string,
  args: readonly Arg[] = [],
  options?: ScriptOptions,
): ScriptCommand {
  if (typeof path !== "string" || path === "")
    throw new AiorchError("INVALID_ARGUMENT", "runScript: path must be a non-empty string", {
      option: "path",
    });
  return Object.freeze({
    type: "runScript",
    path,
    args: args.map((a) => checkArg(a, "runScript")),
    options: checkOptions(options, "runScript"),
  });
}

/**
 * Run a script given as text (written to a private remote file, removed afterwards).
 * @example runString("#!/bin/sh\necho $1", ["hi"])
 */
export function runString(
  body: string,
  args: readonly Arg[] = [],
  options?: StringScriptOptions,
): StringCommand {
  if (typeof body !== "string")
    throw new AiorchError("INVALID_ARGUMENT", "runString: body must be a string", {
      option: "body",
    });
  return Object.freeze({
    type: "runString",
    body,
    args: args.map((a) => checkArg(a, "runString")),
    options: checkOptions(options, "runString"),
  });
}

/**
 * Upload files or directories (`dir/` copies the contents, `dir` the directory itself).
 * @example push(["conf/"], "/etc/app/")
 */
export function push(
  locals: string | readonly string[],
  remote: string,
  options?: BaseCommandOptions,
): PushCommand {
  const list = typeof locals === "string" ? [locals] : [...locals];
  if (list.length === 0 || typeof remote !== "string" || remote === "")
    throw new AiorchError(
      "INVALID_ARGUMENT",
      "push: give at least one local path and a remote path",
    );
  return Object.freeze({
    type: "push",
    locals: list,
    remote,
    options: checkOptions(options, "push"),
  });
}

/**
 * Download files or directories.
 * @example pull(["/var/log/app.log"], "logs/")
 */
export function pull(
  remotes: string | readonly string[],
  local: string,
  options?: BaseCommandOptions,
): PullCommand {
  const list = typeof remotes === "string" ? [remotes] : [...remotes];
  if (list.length === 0 || typeof local !== "string" || local === "")
    throw new AiorchError(
      "INVALID_ARGUMENT",
      "pull: give at least one remote path and a local path",
    );
  return Object.freeze({
    type: "pull",
    remotes: list,
    local,
    options: checkOptions(options, "pull"),
  });
}

/** Render an argument: deferred ones are called with `vars` (or shown as `{…}` without). */
export function renderArg(a: Arg, vars: Vars | undefined): string {
  if (isRawWord(a)) return a.text;
  if (typeof a !== "function") return String(a);
  if (!vars) return "{…}";
  const value = a(vars);
  if (value === undefined)
    throw new AiorchError(
      "INVALID_ARGUMENT",
      `a deferred argument (${a.toString()}) gave undefined: is the variable captured yet? ` +
        `known variables: ${Object.keys(vars).join(", ") || "none"}`,
    );
  return String(value);
}

/** The shell command line of `argv`: first word as is, the rest quoted. */
export function commandLine(argv: readonly Arg[], vars?: Vars): string {
  return argv.map((a, i) => (i === 0 ? renderArg(a, vars) : quotedArg(a, vars))).join(" ");
}

/** A quoted argument; an unrendered deferred one shows as `{…}`. */
function quotedArg(a: Arg, vars: Vars | undefined): string {
  return typeof a === "function" && !vars ? "{…}" : shellWord(a, vars ?? {});
}

/** An argument as the shell gets it: quoted, or as written for a raw() word. */
export function shellWord(a: Arg, vars: Vars): string {
  return isRawWord(a) ? a.text : quoteArg(renderArg(a, vars));
}

function firstCodeLine(body: string): string {
  const line =
    body
      .split("\n")
      .map((l) => l.trim())
      .find((l) => l !== "" && !l.startsWith("#")) ?? "";
  return line.length > 30 ? `${line.slice(0, 29)}…` : line;
}

/** A readable label for listings (`vars` renders deferred arguments when known). */
export function commandLabel(c: Command, vars?: Vars): string {
  if (c.options.label !== undefined) return c.options.label;
  const args = (xs: readonly Arg[]) =>
    xs.length ? ` ${xs.map((a) => quotedArg(a, vars)).join(" ")}` : "";
  switch (c.type) {
    case "run":
      return commandLine(c.argv, vars);
    case "runScript":
      return `${c.path}${args(c.args)}`;
    case "runString":
      return `runString: ${firstCodeLine(c.body)}${args(c.args)}`;
    case "push":
      return `push ${c.locals.join(" ")} -> ${c.remote}`;
    case "pull":
      return `pull ${c.remotes.join(" ")} -> ${c.local}`;
  }
}

const REDACTED = Object.freeze({ $redacted: true });

/** @internal env as recorded: names only, every value `{ $redacted: true }` (src/redact.ts) */
export function describeEnv(env: Readonly<Record<string, Arg>>): Record<string, unknown> {
  return Object.fromEntries(Object.keys(env).map((n) => [n, REDACTED]));
}

/** @internal an argument as recorded: as is, `{ raw }`, or `{ deferred: source }` */
export function describeArg(a: Arg): unknown {
  if (isRawWord(a)) return { raw: a.text };
  return typeof a === "function" ? { deferred: a.toString() } : a;
}

function describeOptions(
  o: CommandOptions & ScriptOptions & StringScriptOptions,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) {
    if (v === undefined) continue;
    // env values are never recorded (src/redact.ts): names only
    out[k] = k === "env" ? describeEnv(v as Record<string, Arg>) : v;
  }
  return out;
}

/** A serializable spec of a command, for traces and code generation. */
export function describeCommand(c: Command): Record<string, unknown> {
  const options = describeOptions(c.options);
  const opt = Object.keys(options).length ? { options } : {};
  switch (c.type) {
    case "run":
      return { type: "run", argv: c.argv.map(describeArg), ...opt };
    case "runScript":
      return { type: "runScript", path: c.path, args: c.args.map(describeArg), ...opt };
    case "runString":
      return { type: "runString", body: c.body, args: c.args.map(describeArg), ...opt };
    case "push":
      return { type: "push", locals: [...c.locals], remote: c.remote, ...opt };
    case "pull":
      return { type: "pull", remotes: [...c.remotes], local: c.local, ...opt };
  }
}
