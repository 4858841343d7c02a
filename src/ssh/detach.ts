/**
 * Detached services (`service(node, cmd, { detach: true })`): started under setsid + nohup,
 * outside the session's process group, output to a remote log file, pid recorded. The job
 * ends once the process is spawned and ready; the run never stops it (it is in no process
 * group the run tracks) and the debrief lists it as left running.
 */
import { randomBytes } from "node:crypto";
import { AiorchError } from "../errors.ts";
import { AbstractJob, type JobContext, type JobDescription } from "../job.ts";
import { ByteCollector, TailBuffer } from "./lines.ts";
import { quoteArg } from "./quote.ts";
import {
  checkService,
  passCheck,
  READY_INTERVAL_MS,
  type ServiceOptions,
  servicePrefix,
} from "./service-ready.ts";
import type { CommandNode } from "./types.ts";

/** A process a run started and left running (the result of a detached service). */
export class LeftRunning {
  /** `user@host[:port]` */
  readonly host: string;
  readonly pid: number;
  /** remote file receiving its output */
  readonly log: string;

  constructor(host: string, pid: number, log: string) {
    this.host = host;
    this.pid = pid;
    this.log = log;
  }

  /** The debrief's line: `left running on HOST (pid N, log FILE)`. */
  get leftRunning(): string {
    return `left running on ${this.host} (pid ${this.pid}, log ${this.log})`;
  }

  toString(): string {
    return this.leftRunning;
  }
}

/** The job made by `service(node, command, { detach: true })`. */
export class DetachedServiceJob extends AbstractJob<LeftRunning> {
  readonly node: CommandNode;
  readonly command: string;
  private readonly opts: ServiceOptions;

  constructor(node: CommandNode, command: string, opts: ServiceOptions) {
    checkService(command, opts);
    if (opts.forever)
      throw new AiorchError(
        "INVALID_ARGUMENT",
        "service: a detached service is not forever (its job ends once the process is spawned)",
        { option: "forever" },
      );
    const {
      ready: _r,
      readyInterval: _i,
      detach: _d,
      log: _l,
      readyTimeout: _t,
      ...jobOpts
    } = opts;
    super({ ...jobOpts, label: opts.label ?? `service ${command}@${node.shortName}` });
    this.node = node;
    this.command = command;
    this.opts = opts;
  }

  override get kind(): string {
    return "Service";
  }

  async run(ctx: JobContext): Promise<LeftRunning> {
    const name = this.label.replace(/[^A-Za-z0-9_.-]+/g, "_").slice(0, 40);
    const log =
      this.opts.log !== undefined
        ? quoteArg(this.opts.log)
        : `"$HOME"/.aiorch-remote/detached/${name}-${randomBytes(4).toString("hex")}.log`;
    const mkdir = this.opts.log === undefined ? 'mkdir -p "$HOME"/.aiorch-remote/detached && ' : "";
    // the log path is fixed before any cd; setsid: its own session, out of the run's groups
    const line =
      `log=${log}; ${mkdir}${servicePrefix(this.opts, ctx)}` +
      `nohup setsid sh -c ${quoteArg(this.command)} > "$log" 2>&1 < /dev/null & ` +
      `echo "$!"; echo "$log"`;
    const out = new ByteCollector();
    const err = new TailBuffer(512);
    const status = await this.node.exec({
      command: line,
      ctx,
      signal: ctx.signal,
      onStdout: (c) => out.push(c),
      onStderr: (c) => err.push(c),
    });
    const [pidText = "", path = ""] = out.bytes().toString("utf8").split("\n");
    const pid = Number(pidText);
    if (status.exitCode !== 0 || !Number.isInteger(pid) || pid <= 0)
      throw new AiorchError(
        "COMMAND_FAILED",
        `detached service "${this.label}" could not start on ${this.node.name}: ${err.lastLine() || `exit ${status.exitCode ?? status.signal}`}`,
        { label: this.label, host: this.node.host, command: this.command },
      );
    const left = new LeftRunning(this.node.name, pid, path);
    ctx.log(left.leftRunning);
    await this.whenReady(ctx, path);
    return left;
  }

  /** Its readiness check, within `readyTimeout`; a failure leaves the process running. */
  private async whenReady(ctx: JobContext, log: string): Promise<void> {
    const { ready, readyTimeout } = this.opts;
    if (ready === undefined) return;
    const bound = new AbortController();
    const timer =
      readyTimeout !== undefined
        ? setTimeout(() => bound.abort(new Error("readyTimeout")), readyTimeout)
        : undefined;
    const signal = AbortSignal.any([ctx.signal, bound.signal]);
    try {
      await passCheck({
        node: this.node,
        ready,
        ctx: Object.create(ctx, { signal: { value: signal } }) as JobContext,
        interval: this.opts.readyInterval ?? READY_INTERVAL_MS,
        log,
      });
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      throw new AiorchError(
        "NOT_READY",
        `detached service "${this.label}" not ready${readyTimeout !== undefined && bound.signal.aborted ? ` within ${readyTimeout} ms` : ""}: ${why}`,
        { label: this.label, host: this.node.host, cause: e },
      );
    } finally {
      clearTimeout(timer);
    }
  }

  override details(): string {
    return `${this.node.name}\n${this.command} (detached)`;
  }

  override describe(): JobDescription {
    return { kind: "service", node: this.node.describe(), command: this.command, detach: true };
  }
}
