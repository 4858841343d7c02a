/**
 * Executing one command on a node: build the command line (deferred args, env, cwd),
 * stream output lines to the run's event stream, capture stdout (binary-safe), apply the
 * command's timeout, and judge the exit against `allowedExits`.
 */
import { readFile, stat } from "node:fs/promises";
import { basename } from "node:path";
import type { AiorchError } from "../errors.ts";
import { emitOutput } from "../context.ts";
import type { JobContext } from "../job.ts";
import {
  type Arg,
  type Command,
  type CommandOptions,
  commandLine,
  commandLabel,
  type ExitSpec,
  renderArg,
  shellWord,
  type Vars,
} from "./commands.ts";
import type { ExecStatus } from "./connection.ts";
import { CommandFailedError, CommandTimeoutError, SshFileError } from "./errors.ts";
import { ByteCollector, LineSplitter, TailBuffer } from "./lines.ts";
import { addSecrets, isSecretName, shownEnv } from "../redact.ts";
import { quoteArg } from "./quote.ts";
import { CommandStopper, type StopHolder } from "./stop.ts";
import type { CommandNode, StagedFile } from "./types.ts";

/** What every command did, whatever it captured. */
export interface CommandResultBase {
  /** exit code, null when killed by a signal or for push/pull failures */
  exitCode: number | null;
  /** signal name (`TERM`) when killed by one */
  signal: string | null;
  /** files copied, for push/pull */
  files?: number;
  durationMs: number;
}

/** Stdout captured as text (`capture` with the default `encoding: "utf8"`), or nothing captured. */
export interface TextCapture {
  encoding?: "utf8";
  /** stdout when `capture` is set, decoded as UTF-8, one trailing newline dropped */
  stdout?: string;
  /** the same bytes before decoding */
  stdoutBytes?: Buffer;
}

/** Stdout captured as bytes (`capture` with `encoding: "buffer"`). */
export interface BytesCapture {
  encoding: "buffer";
  /** never a decoded copy: read `stdoutBytes` */
  stdout?: undefined;
  /** every byte the command wrote to stdout, as is (no newline dropped, nothing decoded) */
  stdoutBytes: Buffer;
}

/**
 * What a command did: narrow on `encoding` to read a byte capture,
 * `if (o.encoding === "buffer") o.stdoutBytes` (a `Buffer`).
 */
export type CommandResult = CommandResultBase & (TextCapture | BytesCapture);

/** Outcome of one command of a job. */
export type CommandOutcome = CommandResult & {
  index: number;
  /** the command's label, deferred arguments rendered */
  label: string;
  ok: boolean;
  /** why it failed */
  error?: AiorchError;
};

/** @internal what a command runs with */
export interface ExecContext extends StopHolder {
  node: CommandNode;
  ctx: JobContext;
}

/** True when `status` is 0 or listed in `allowed` (codes, `TERM`, `SIGTERM`). */
export function isAllowedExit(
  status: ExecStatus,
  allowed: readonly ExitSpec[] | undefined,
): boolean {
  if (status.signal === null && status.exitCode === 0) return true;
  for (const a of allowed ?? []) {
    if (typeof a === "number" && status.signal === null && status.exitCode === a) return true;
    if (typeof a === "string" && status.signal !== null && a.replace(/^SIG/, "") === status.signal)
      return true;
  }
  return false;
}

/** `exited 100` / `was killed by signal TERM` */
export function describeExit(status: ExecStatus): string {
  return status.signal !== null
    ? `was killed by signal ${status.signal}`
    : `exited ${status.exitCode ?? "?"}`;
}

/**
 * The `cd …; export …; ` prefix, and the same as shown in messages: env values never
 * shown (`API_TOKEN=***`); values under secret-looking names become declared secrets, so
 * the command's own output echoing them is masked too.
 */
function prefix(opts: CommandOptions, vars: Vars): { run: string; shown: string } {
  if (opts.cwd === undefined && opts.env === undefined) return NO_PREFIX;
  const cd = opts.cwd !== undefined ? `cd ${quoteArg(opts.cwd)} || exit 1; ` : "";
  const env = Object.entries(opts.env ?? {});
  addSecrets(env.filter(([k]) => isSecretName(k)).map(([, v]) => renderArg(v, vars)));
  const words = env.map(([k, v]) => `${k}=${shellWord(v, vars)}`);
  return {
    run: cd + (words.length ? `export ${words.join(" ")}; ` : ""),
    shown: cd + shownEnv(env.map(([k]) => k)),
  };
}

const NO_PREFIX = { run: "", shown: "" };

/** The line with stdin/stdout/stderr on /dev/null (a newline ends a trailing comment or `&`). */
function detached(line: string): string {
  return `{ ${line}
} </dev/null >/dev/null 2>&1`;
}

/** Run a shell command line on the node with the command's options. */
async function runLine(
  x: ExecContext,
  line: string,
  label: string,
  opts: CommandOptions,
): Promise<CommandOutcomeBase> {
  const { node, ctx } = x;
  const started = Date.now();
  const host = node.shortName;
  // splitters and the stderr tail are made on the first chunk: most commands print little
  let out: LineSplitter | undefined;
  let err: LineSplitter | undefined;
  let tail: TailBuffer | undefined;
  const captured = opts.capture !== undefined ? new ByteCollector() : undefined;
  const stopper = new CommandStopper(x, opts.timeout);
  try {
    // methods, not named arrows: no per-command `__name` under tsx
    const pre = prefix(opts, ctx.vars);
    const body = opts.ignoreOutputs ? detached(line) : line;
    const status = await node.exec({
      command: pre.run + body,
      display: pre.shown + body,
      ctx,
      signal: stopper.stop.signal,
      closeSignal: stopper.stop.signal,
      onStart(k) {
        stopper.started(k);
      },
      onStdout(c) {
        out ??= new LineSplitter((l, b) => emitOutput(ctx, "stdout", l, host, b));
        out.push(c);
        captured?.push(c);
      },
      onStderr(c) {
        err ??= new LineSplitter((l, b) => emitOutput(ctx, "stderr", l, host, b));
        err.push(c);
        tail ??= new TailBuffer(2048);
        tail.push(c);
      },
    });
    out?.end();
    err?.end();
    const durationMs = Date.now() - started;
    const result: CommandOutcomeBase = {
      exitCode: status.exitCode,
      signal: status.signal,
      durationMs,
      ok: true,
      ...captureOf(captured, opts),
    };
    const facts = {
      host: node.host,
      user: node.user,
      command: label,
      exitCode: status.exitCode,
      signal: status.signal,
    };
    if (stopper.timedOut) {
      result.ok = false;
      result.error = new CommandTimeoutError(
        `"${label}" timed out after ${opts.timeout} ms on ${node.name}`,
        {
          ...facts,
          timeoutMs: opts.timeout as number,
        },
      );
    } else if (!isAllowedExit(status, opts.allowedExits)) {
      const last = tail?.lastLine() ?? "";
      result.ok = false;
      result.error = new CommandFailedError(
        `"${label}" ${describeExit(status)} on ${node.name}${last ? ` (stderr: ${last.slice(0, 200)})` : ""}`,
        { ...facts, stderrTail: last },
      );
    }
    // a variable is text for shell words: a byte capture stays in the outcome only
    if (opts.capture !== undefined && result.encoding !== "buffer")
      ctx.vars[opts.capture] = result.stdout ?? "";
    return result;
  } catch (e) {
    if (stopper.timedOut)
      throw new CommandTimeoutError(
        `"${label}" timed out after ${opts.timeout} ms on ${node.name}`,
        {
          host: node.host,
          user: node.user,
          command: label,
          timeoutMs: opts.timeout as number,
          cause: e,
        },
      );
    throw e;
  } finally {
    stopper.done();
  }
}

type CommandOutcomeBase = CommandResultBase &
  (TextCapture | BytesCapture) & { ok: boolean; error?: AiorchError };

/** The captured stdout: exact bytes, or text with one trailing newline dropped. */
function captureOf(
  captured: ByteCollector | undefined,
  opts: CommandOptions,
): TextCapture | BytesCapture {
  if (!captured || opts.capture === undefined) return {};
  const all = captured.bytes();
  if (opts.encoding === "buffer") return { encoding: "buffer", stdoutBytes: all };
  const bytes = all.length > 0 && all[all.length - 1] === 10 ? all.subarray(0, -1) : all;
  return { stdoutBytes: bytes, stdout: bytes.toString("utf8") };
}

async function readLocal(path: string, node: CommandNode, what: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (e) {
    throw new SshFileError(
      `${what} ${path} not found (${(e as NodeJS.ErrnoException).code ?? String(e)})`,
      {
        host: node.host,
        user: node.user,
        file: path,
        cause: e,
      },
    );
  }
}

/** Stage a script and its includes, run it, remove them (whatever happens). */
async function runStaged(
  x: ExecContext,
  files: StagedFile[],
  args: string,
  label: string,
  opts: CommandOptions,
): Promise<CommandOutcomeBase> {
  const staged = await x.node.stage({ files, signal: x.signal, ctx: x.ctx });
  try {
    const script = `${staged.dir}/${files[0]?.name ?? "script"}`;
    return await runLine(x, `${quoteArg(script)}${args}`, label, opts);
  } finally {
    await staged.cleanup().catch(() => undefined);
  }
}

async function includes(
  x: ExecContext,
  paths: readonly string[] | undefined,
): Promise<StagedFile[]> {
  return Promise.all(
    (paths ?? []).map(async (p) => ({
      name: basename(p),
      data: await readLocal(p, x.node, "include file"),
      // the file's own permission bits (an executable helper stays executable)
      mode: (await stat(p)).mode & 0o777,
    })),
  );
}

/** ` 'a' 'b'`: arguments rendered and quoted, each after a space */
function argList(args: readonly Arg[], vars: Vars): string {
  return args.map((a) => ` ${shellWord(a, vars)}`).join("");
}

/** Execute one command; command-level failures are returned as `ok: false` with `error`. */
export async function executeCommand(
  x: ExecContext,
  command: Command,
  index: number,
): Promise<CommandOutcome> {
  const vars = x.ctx.vars;
  // a run command's label is its command line unless given: render the line once
  const line = command.type === "run" ? commandLine(command.argv, vars) : "";
  const label =
    command.type === "run" && command.options.label === undefined
      ? line
      : commandLabel(command, vars);
  const started = Date.now();
  let base: CommandOutcomeBase;
  switch (command.type) {
    case "run":
      base = await runLine(x, line, label, command.options);
      break;
    case "runScript": {
      const data = await readLocal(command.path, x.node, "runScript: script");
      const files = [
        { name: basename(command.path), data, mode: 0o755 },
        ...(await includes(x, command.options.includes)),
      ];
      base = await runStaged(x, files, argList(command.args, vars), label, command.options);
      break;
    }
    case "runString": {
      const name = command.options.remoteName ?? "script";
      const files = [
        { name, data: Buffer.from(command.body), mode: 0o755 },
        ...(await includes(x, command.options.includes)),
      ];
      base = await runStaged(x, files, argList(command.args, vars), label, command.options);
      break;
    }
    case "push":
    case "pull": {
      const { signal, ctx } = x;
      const files = await withTimeout(x, command.options.timeout, label, (stop) =>
        command.type === "push"
          ? x.node.push({ locals: command.locals, remote: command.remote, signal, ctx, stop })
          : x.node.pull({ remotes: command.remotes, local: command.local, signal, ctx, stop }),
      );
      base = { exitCode: 0, signal: null, files, durationMs: Date.now() - started, ok: true };
      break;
    }
  }
  return { index, label, ...base };
}

async function withTimeout<T>(
  x: ExecContext,
  ms: number | undefined,
  label: string,
  fn: (stop: AbortSignal | undefined) => Promise<T>,
): Promise<T> {
  if (!ms) return fn(undefined);
  let timer: NodeJS.Timeout | undefined;
  // on expiry the transfer itself stops (its SFTP session closes, freeing its slot)
  const stop = new AbortController();
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const err = new CommandTimeoutError(`"${label}" timed out after ${ms} ms on ${x.node.name}`, {
        host: x.node.host,
        user: x.node.user,
        command: label,
        timeoutMs: ms,
      });
      stop.abort(err);
      reject(err);
    }, ms);
  });
  try {
    return await Promise.race([fn(stop.signal), expired]);
  } finally {
    clearTimeout(timer);
  }
}
