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
  describeService,
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
  private left: LeftRunning | undefined;

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

  /**
   * The process this job left running, whatever the job's end: set once it is spawned, kept
   * when its readiness check fails, times out or the run is cancelled meanwhile (the run
   * never stops it), cleared when it was seen to have exited. The debrief lists it.
   */
  get leftRunning(): LeftRunning | undefined {
    return this.left;
  }

  override leftRunningText(): string | undefined {
    return this.left?.leftRunning;
  }

  async run(ctx: JobContext): Promise<LeftRunning> {
    this.left = undefined;
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
    this.left = left;
    ctx.log(left.leftRunning);
    const why = await this.whenReady(ctx, path);
    if (why === undefined) return left;
    // not ready: the process is not stopped; say whether it still runs
    const alive = await this.isAlive(pid, ctx);
    if (alive === false) this.left = undefined;
    throw new AiorchError(
      "NOT_READY",
      `${why.message}; ${alive === false ? `its process (pid ${pid}) has exited on ${this.node.name}` : left.leftRunning}`,
      {
        label: this.label,
        host: this.node.host,
        cause: why.cause,
        // the debrief lists it from here: the job failed, the process runs on
        ...(alive === false ? {} : { leftRunning: left.leftRunning }),
      },
    );
  }

  /** Whether `pid` still runs: false when seen gone, undefined when it could not be checked. */
  private async isAlive(pid: number, ctx: JobContext): Promise<boolean | undefined> {
    try {
      const status = await this.node.exec({
        // a zombie (under an init that does not reap, as in containers) has exited too;
        // without procfs, kill -0
        command:
          `if [ -r /proc/${pid}/stat ]; then case "$(sed 's/.*) //' /proc/${pid}/stat)" in ` +
          `Z*|X*) exit 1;; esac; exit 0; fi; [ -d /proc/self ] && exit 1; kill -0 ${pid} 2>/dev/null`,
        ctx,
        // the run may be ending: a short probe of its own
        signal: AbortSignal.timeout(3000),
        onStdout: () => undefined,
        onStderr: () => undefined,
      });
      return status.exitCode === 0 ? true : status.exitCode === 1 ? false : undefined;
    } catch {
      return undefined;
    }
  }

  /** Its readiness check, within `readyTimeout`: why it did not pass, or undefined. */
  private async whenReady(
    ctx: JobContext,
    log: string,
  ): Promise<{ message: string; cause: unknown } | undefined> {
    const { ready, readyTimeout } = this.opts;
    if (ready === undefined) return undefined;
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
      return undefined;
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      return {
        message: `detached service "${this.label}" not ready${readyTimeout !== undefined && bound.signal.aborted ? ` within ${readyTimeout} ms` : ""}: ${why}`,
        cause: e,
      };
    } finally {
      clearTimeout(timer);
    }
  }

  override details(): string {
    return `${this.node.name}\n${this.command} (detached)`;
  }

  override describe(): JobDescription {
    return {
      kind: "service",
      node: this.node.describe(),
      ...describeService(this.command, this.opts),
    };
  }
}
