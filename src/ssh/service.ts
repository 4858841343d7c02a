/**
 * Services: a long-running process (a server, a monitor…) started by a forever job and
 * stopped when the run ends. The remote shell of an exec channel leads its own process
 * group (sshd calls setsid), so the service reports `$$` first and is stopped by signalling
 * that whole group (`kill -TERM -PGID`), children included. No systemd needed.
 */
import { AiorchError } from "../errors.ts";
import {
  AbstractJob,
  emitOutput,
  type JobContext,
  type JobDescription,
  type JobOptions,
} from "../job.ts";
import { type Arg, shellWord } from "./commands.ts";
import type { ExecStatus } from "./connection.ts";
import { LineSplitter } from "./lines.ts";
import { isEnvName, quoteArg } from "./quote.ts";
import type { CommandNode } from "./types.ts";

const MARKER = "__aiorch_service_pgid__";

/** Options of {@link service}. */
export interface ServiceOptions extends JobOptions {
  /** environment variables of the process */
  env?: Readonly<Record<string, Arg>>;
  /** working directory */
  cwd?: string;
  /** signal sent to the process group at stop @default "TERM" */
  stopSignal?: string;
  /**
   * ms between stopSignal and KILL @default none: KILL when the run closes the node's
   * connection, after the run's `cancelGrace` (keep a longer one within `shutdownTimeout`,
   * which bounds that close)
   */
  stopTimeout?: number;
}

/**
 * A forever job running `command` on `node` until the run ends, then stopping its whole
 * process group. Its result is how the process ended. Start order follows `required`.
 *
 * @example
 * ```ts
 * const server = service(node, "iperf3 -s", { label: "iperf-server" });
 * const client = new SshJob(other, [run("iperf3 -c 10.0.0.7")], { required: server });
 * ```
 */
export function service(node: CommandNode, command: string, opts: ServiceOptions = {}): ServiceJob {
  return new ServiceJob(node, command, opts);
}

/** The job made by {@link service}. */
export class ServiceJob extends AbstractJob<ExecStatus> {
  readonly node: CommandNode;
  readonly command: string;
  private readonly opts: ServiceOptions;
  private pgid: number | undefined;
  private stopping: (() => void) | undefined;

  constructor(node: CommandNode, command: string, opts: ServiceOptions = {}) {
    if (typeof command !== "string" || command === "")
      throw new AiorchError("INVALID_ARGUMENT", "service: command must be a non-empty string");
    for (const k of Object.keys(opts.env ?? {}))
      if (!isEnvName(k))
        throw new AiorchError("INVALID_ARGUMENT", `service: bad env name ${JSON.stringify(k)}`);
    super({
      ...opts,
      forever: opts.forever ?? true,
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
    let first = true;
    const out = new LineSplitter((line) => {
      if (first && line.startsWith(`${MARKER} `)) {
        this.pgid = Number(line.slice(MARKER.length + 1));
        first = false;
        return;
      }
      first = false;
      emitOutput(ctx, "stdout", line, host);
    });
    const err = new LineSplitter((line) => emitOutput(ctx, "stderr", line, host));
    let env = "";
    const entries = Object.entries(this.opts.env ?? {});
    if (entries.length)
      env = `export ${entries.map(([k, v]) => `${k}=${shellWord(v, ctx.vars)}`).join(" ")}; `;
    const cd = this.opts.cwd ? `cd ${quoteArg(this.opts.cwd)} || exit 1; ` : "";
    let kill: ((sig: string) => void) | undefined;
    const sig = (this.opts.stopSignal ?? "TERM").replace(/^SIG/, "");
    // the end of the run: stopSignal to the process group now; the node's close sends KILL
    // after stopTimeout if it still runs, before the connection goes
    const onAbort = () => kill?.(sig);
    ctx.signal.addEventListener("abort", onAbort, { once: true });
    this.stopping = () => kill?.(sig);
    const p = this.node.exec({
      command: `${cd}${env}echo ${MARKER} $$; ${this.command}`,
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
    } finally {
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
    return { kind: "service", node: this.node.describe(), command: this.command };
  }
}
