/**
 * Services: a long-running process (a server, a monitor…) started by a forever job and
 * stopped when the run ends. The remote shell of an exec channel leads its own process
 * group (sshd calls setsid): the service reports `$$` first (its spawn, for readiness) and
 * is stopped by signalling that whole group through the channel, children included.
 * No systemd needed. Detached services live in detach.ts, readiness in service-ready.ts.
 */
import { emitOutput } from "../context.ts";
import { AiorchError } from "../errors.ts";
import { AbstractJob, type JobContext, type JobDescription } from "../job.ts";
import type { ExecStatus } from "./connection.ts";
import { DetachedServiceJob } from "./detach.ts";
import { LineSplitter } from "./lines.ts";
import {
  checkService,
  deferred,
  describeService,
  engineReady,
  READY_INTERVAL_MS,
  type ServiceOptions,
  servicePrefix,
  spawnedOf,
} from "./service-ready.ts";
import type { CommandNode } from "./types.ts";

export type { ServiceOptions, ServiceReady } from "./service-ready.ts";

const MARKER = "__aiorch_service_pgid__";

/**
 * A forever job running `command` on `node` until the run ends, then stopping its whole
 * process group (stopSignal, KILL before the connection closes). Jobs requiring it start
 * once it is ready (see `ready`). Its result is how the process ended. With
 * `detach: true`, a job that leaves the process running (see {@link DetachedServiceJob}).
 *
 * @example
 * ```ts
 * const server = service(node, "iperf3 -s", { label: "iperf-server", ready: run("nc -z localhost 5201") });
 * const client = new SshJob(other, [run("iperf3 -c 10.0.0.7")], { required: server });
 * const web = service(node, "python3 -m http.server 8000", { detach: true, ready: /Serving HTTP/ });
 * ```
 */
export function service(
  node: CommandNode,
  command: string,
  opts: ServiceOptions & { detach: true },
): DetachedServiceJob;
export function service(node: CommandNode, command: string, opts?: ServiceOptions): ServiceJob;
export function service(
  node: CommandNode,
  command: string,
  opts: ServiceOptions = {},
): ServiceJob | DetachedServiceJob {
  return opts.detach
    ? new DetachedServiceJob(node, command, opts)
    : new ServiceJob(node, command, opts);
}

/** The job made by {@link service}. */
export class ServiceJob extends AbstractJob<ExecStatus> {
  readonly node: CommandNode;
  readonly command: string;
  private readonly opts: ServiceOptions;
  private pgid: number | undefined;
  private stopping: (() => void) | undefined;

  constructor(node: CommandNode, command: string, opts: ServiceOptions = {}) {
    checkService(command, opts);
    const { ready, readyInterval, detach: _detach, log: _log, ...jobOpts } = opts;
    const forever = opts.forever ?? true;
    super({
      ...jobOpts,
      forever,
      // ready means at least "spawned"; a finite service is ready when done
      ...(forever ? { ready: engineReady(node, ready, readyInterval ?? READY_INTERVAL_MS) } : {}),
      label: opts.label ?? `service ${command}@${node.shortName}`,
    });
    this.node = node;
    this.command = command;
    this.opts = opts;
  }

  override get kind(): string {
    return "Service";
  }

  /** The remote process group, while it runs. */
  get processGroup(): number | undefined {
    return this.pgid;
  }

  async run(ctx: JobContext): Promise<ExecStatus> {
    this.pgid = undefined;
    const host = this.node.shortName;
    // the readiness check waits for this first
    const spawned = deferred();
    spawnedOf.set(ctx, spawned.promise);
    let first = true;
    const out = new LineSplitter((line) => {
      if (first && line.startsWith(`${MARKER} `)) {
        this.pgid = Number(line.slice(MARKER.length + 1));
        first = false;
        spawned.resolve();
        return;
      }
      first = false;
      emitOutput(ctx, "stdout", line, host);
    });
    const err = new LineSplitter((line) => emitOutput(ctx, "stderr", line, host));
    let kill: ((sig: string) => void) | undefined;
    const sig = (this.opts.stopSignal ?? "TERM").replace(/^SIG/, "");
    // the end of the run: stopSignal to the process group now; the node's close sends KILL
    // after stopTimeout if it still runs, before the connection goes
    const onAbort = () => kill?.(sig);
    ctx.signal.addEventListener("abort", onAbort, { once: true });
    this.stopping = () => kill?.(sig);
    const p = this.node.exec({
      command: `${servicePrefix(this.opts, ctx)}echo ${MARKER} $$; ${this.command}`,
      ctx,
      signal: ctx.signal,
      // never closed early: the channel ends with the process group
      closeSignal: new AbortController().signal,
      stopGrace: this.opts.stopTimeout,
      onStart(k) {
        kill = k;
        if (ctx.signal.aborted) k(sig);
      },
      onStdout: (c) => out.push(c),
      onStderr: (c) => err.push(c),
    });
    try {
      const status = await p;
      out.end();
      err.end();
      return status;
    } catch (e) {
      spawned.reject(e);
      throw e;
    } finally {
      spawned.reject(new AiorchError("NOT_READY", `service "${this.label}" ended`));
      this.pgid = undefined;
      this.stopping = undefined;
      ctx.signal.removeEventListener("abort", onAbort);
    }
  }

  /** Sends stopSignal to the process group if it still runs (KILL follows at the close). */
  override async shutdown(): Promise<void> {
    this.stopping?.();
  }

  override details(): string {
    return `${this.node.name}\n${this.command}`;
  }

  override describe(): JobDescription {
    return {
      kind: "service",
      node: this.node.describe(),
      ...describeService(this.command, this.opts),
    };
  }
}
