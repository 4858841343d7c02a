/**
 * `SshJob`: a job running commands in order on one node (SshNode or LocalNode).
 * Critical: stops at the first failing command and throws its error (host, command,
 * exit code/signal). Non-critical: runs every command — also after errors like a missing
 * script or an SFTP failure (fixes B33) — then, when any failed, fails with one
 * {@link SshJobFailedError} naming every failed command (its `result` has every outcome).
 * In both modes a host that cannot be reached (connect, DNS, auth, host key) fails the job.
 */
import { inspect } from "node:util";
import { AiorchError } from "../errors.ts";
import {
  AbstractJob,
  type JobContext,
  type JobDescription,
  type JobOptions,
  type JournalValue,
} from "../job.ts";
import { type Command, commandLabel, describeCommand, run } from "./commands.ts";
import { isUnreachableError, SshChannelError } from "./errors.ts";
import { type CommandOutcome, type ExecContext, executeCommand } from "./exec.ts";
import { abortReason } from "./limits.ts";
import type { CommandNode } from "./types.ts";

/** Options of {@link SshJob}: the common job options, and one for runs through workers. */
export interface SshJobOptions extends JobOptions {
  /**
   * with `aiorch run --redis`: when the worker running this job dies and another worker
   * takes it over, fail it (code `NOT_RERUN`) instead of running its commands again
   * (jobs through workers are at-least-once otherwise, see docs/scale.md) @default false
   */
  atMostOnce?: boolean;
}

/** What an SshJob returns: every command's outcome, and which failed. */
export class SshJobResult {
  /** `user@host[:port]` */
  readonly node: string;
  readonly commands: readonly CommandOutcome[];

  constructor(node: string, commands: readonly CommandOutcome[]) {
    this.node = node;
    this.commands = commands;
  }

  /** True when every command succeeded. */
  get ok(): boolean {
    return this.commands.every((c) => c.ok);
  }

  /** The failed commands. */
  get failures(): readonly CommandOutcome[] {
    return this.commands.filter((c) => !c.ok);
  }

  /** `OK`, or `failed: [2] "exit 3" exited 3 on …` */
  toString(): string {
    if (this.ok) return "OK";
    return `failed: ${this.failures.map((f) => `[${f.index}] ${f.error?.shortMessage ?? f.label}`).join(" - ")}`;
  }

  [inspect.custom](): string {
    return this.toString();
  }
}

/**
 * A non-critical SshJob ran all its commands and some failed (code `COMMAND_FAILED`): one
 * error naming every failed command (host, command, exit code or signal); `result` holds
 * every command's outcome.
 */
export class SshJobFailedError extends AiorchError {
  /** every command's outcome, the failed ones in `result.failures` */
  readonly result: SshJobResult;
  constructor(node: CommandNode, result: SshJobResult) {
    const failures = result.failures;
    const first = failures[0];
    const what = failures.map((f) => f.error?.shortMessage ?? `"${f.label}" failed`);
    super(
      "COMMAND_FAILED",
      failures.length === 1
        ? (what[0] as string)
        : `${failures.length} of ${result.commands.length} commands failed on ${node.name}: ${what.join("; ")}`,
      {
        host: node.host,
        user: node.user,
        ...(first ? { command: first.label, exitCode: first.exitCode, signal: first.signal } : {}),
        ...(failures.length > 1 ? { labels: failures.map((f) => f.label) } : {}),
        cause: first?.error,
      },
    );
    this.result = result;
  }
}

/** Something SshJob accepts as commands: a command, a command line, or a list of them. */
export type CommandsInput = Command | string | ReadonlyArray<Command | string | null | undefined>;

/** `first command +N@host`; the scheduler the job joins numbers repeats (`#2`). */
function deriveLabel(node: CommandNode, commands: readonly Command[]): string {
  const first = commands[0] ? commandLabel(commands[0]) : "(no command)";
  const short = first.length > 40 ? `${first.slice(0, 39)}…` : first;
  return `${short}${commands.length > 1 ? ` +${commands.length - 1}` : ""}@${node.shortName}`;
}

function normalize(input: CommandsInput): Command[] {
  const list =
    typeof input === "string" || !Array.isArray(input) ? [input as Command | string] : input;
  const out: Command[] = [];
  for (const c of list) {
    if (c === null || c === undefined) continue;
    if (typeof c === "string") out.push(run(c));
    else if (typeof c === "object" && typeof (c as Command).type === "string")
      out.push(c as Command);
    else
      throw new AiorchError(
        "INVALID_ARGUMENT",
        `SshJob: commands must be run(), runScript()… or strings, got ${typeof c}`,
      );
  }
  if (out.length === 0)
    throw new AiorchError("INVALID_ARGUMENT", "SshJob: give at least one command");
  return out;
}

/**
 * Commands run in order on a node.
 *
 * @example
 * ```ts
 * new SshJob(node, [run("apt-get", "install", "-y", "iperf3"), pull(["/var/log/app.log"], "logs/")],
 *            { label: "install", critical: true });
 * ```
 */
export class SshJob extends AbstractJob<SshJobResult> {
  readonly node: CommandNode;
  readonly commands: readonly Command[];
  /** see {@link SshJobOptions.atMostOnce} */
  readonly atMostOnce: boolean;

  constructor(node: CommandNode, commands: CommandsInput, opts: SshJobOptions = {}) {
    const list = normalize(commands);
    if (!node || typeof (node as CommandNode).exec !== "function")
      throw new AiorchError("INVALID_ARGUMENT", "SshJob: node must be an SshNode or a LocalNode");
    super(opts);
    this.node = node;
    this.commands = Object.freeze(list);
    this.atMostOnce = opts.atMostOnce === true;
    if (this._generatedLabel) {
      this._labelBase = deriveLabel(node, list);
      this._label = this._labelBase;
    }
  }

  override get kind(): string {
    return "SshJob";
  }

  async run(ctx: JobContext): Promise<SshJobResult> {
    const outcomes: CommandOutcome[] = [];
    // one context for all commands: it carries a stop controller reused while unused
    const x: ExecContext = { node: this.node, ctx, signal: ctx.signal };
    for (const [index, command] of this.commands.entries()) {
      if (ctx.signal.aborted) throw abortReason(ctx.signal);
      const started = Date.now();
      let outcome: CommandOutcome;
      try {
        outcome = await executeCommand(x, command, index);
      } catch (err) {
        if (isUnreachableError(err) || ctx.signal.aborted) throw err;
        const error =
          err instanceof AiorchError
            ? err
            : new SshChannelError(
                `"${commandLabel(command, ctx.vars)}" on ${this.node.name} failed: ${String(err)}`,
                {
                  host: this.node.host,
                  user: this.node.user,
                  command: commandLabel(command, ctx.vars),
                  cause: err,
                },
              );
        outcome = {
          index,
          label: commandLabel(command, ctx.vars),
          exitCode: null,
          signal: null,
          durationMs: Date.now() - started,
          ok: false,
          error,
        };
      }
      outcomes.push(outcome);
      if (!outcome.ok && this.critical && outcome.error) throw outcome.error;
    }
    const result = new SshJobResult(this.node.name, outcomes);
    // non-critical: every command ran; the job still fails, naming each failed command
    if (!result.ok) throw new SshJobFailedError(this.node, result);
    return result;
  }

  /**
   * Every command's outcome as JSON (captured stdout included, so a resumed run gives
   * later jobs the same variables); a result with a failed command is not restorable.
   */
  override journalResult(
    value: SshJobResult,
    { maxBytes }: { maxBytes: number } = { maxBytes: Infinity },
  ): JournalValue {
    if (!(value instanceof SshJobResult))
      return { unrestorable: "its result is not an SshJobResult" };
    if (!value.ok) return { unrestorable: "some of its commands failed" };
    // base64 takes 4 bytes per 3: refuse before encoding a capture the journal would not keep
    let encoded = 0;
    for (const c of value.commands) encoded += Math.ceil((c.stdoutBytes?.length ?? 0) / 3) * 4;
    if (encoded > maxBytes)
      return { unrestorable: `its captured output is larger than ${maxBytes} bytes` };
    return {
      result: {
        node: value.node,
        commands: value.commands.map((c) => ({
          index: c.index,
          label: c.label,
          exitCode: c.exitCode,
          signal: c.signal,
          durationMs: c.durationMs,
          ...(c.files === undefined ? {} : { files: c.files }),
          ...(c.stdoutBytes === undefined ? {} : { stdout: c.stdoutBytes.toString("base64") }),
          ...(c.encoding === "buffer" ? { encoding: "buffer" } : {}),
        })),
      },
    };
  }

  /** The SshJobResult back from {@link journalResult}; captured variables set again. */
  override restoreResult(json: unknown, ctx: { vars: Record<string, string> }): SshJobResult {
    const r = json as { node?: unknown; commands?: unknown };
    if (typeof r?.node !== "string" || !Array.isArray(r.commands))
      throw new AiorchError(
        "JOURNAL",
        `job "${this.label}": the journal's result is not an SSH job result`,
        {
          label: this.label,
        },
      );
    const outcomes = (r.commands as Record<string, unknown>[]).map((c, i): CommandOutcome => {
      const bytes = typeof c.stdout === "string" ? Buffer.from(c.stdout, "base64") : undefined;
      const capture = (this.commands[i]?.options as { capture?: string } | undefined)?.capture;
      // a byte capture comes back as bytes, and sets no variable (as when it ran)
      const asBytes = c.encoding === "buffer";
      if (capture !== undefined && !asBytes) ctx.vars[capture] = bytes?.toString("utf8") ?? "";
      return {
        index: i,
        label: String(c.label ?? ""),
        exitCode: typeof c.exitCode === "number" ? c.exitCode : null,
        signal: typeof c.signal === "string" ? c.signal : null,
        durationMs: typeof c.durationMs === "number" ? c.durationMs : 0,
        ok: true,
        ...(typeof c.files === "number" ? { files: c.files } : {}),
        ...(asBytes
          ? { encoding: "buffer" as const, stdoutBytes: bytes ?? Buffer.alloc(0) }
          : bytes
            ? { stdout: bytes.toString("utf8"), stdoutBytes: bytes }
            : {}),
      };
    });
    return new SshJobResult(r.node, outcomes);
  }

  /** `user@host` then one line per command. */
  override details(): string {
    return [this.node.name, ...this.commands.map((c) => commandLabel(c))].join("\n");
  }

  /** Node facts (no secrets) and command specs, for traces and code generation. */
  override describe(): JobDescription {
    return {
      kind: "commands",
      node: this.node.describe(),
      commands: this.commands.map(describeCommand),
    };
  }
}
