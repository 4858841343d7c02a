import type { JobContext } from "../job.ts";
import type { ExecStatus } from "./connection.ts";

/** A file to stage next to a script before running it. */
export interface StagedFile {
  name: string;
  data: Buffer;
  mode: number;
}

/** Options of {@link CommandNode.exec}. */
export interface NodeExecOptions {
  /** full shell command line */
  command: string;
  /** the command line as messages show it (env values masked) @default command */
  display?: string | undefined;
  onStdout(chunk: Buffer): void;
  onStderr(chunk: Buffer): void;
  /** aborts waiting for a connection or a session slot */
  signal?: AbortSignal | undefined;
  /** once running, abort to close the channel @default signal */
  closeSignal?: AbortSignal | undefined;
  /** the job context, to register the connection for closing at the end of the run */
  ctx?: JobContext | undefined;
  /** receives a function sending a signal (`TERM`, `KILL`) to the running command */
  onStart?: ((kill: (signal: string) => void) => void) | undefined;
  /** ms between TERM and KILL when the run ends while it runs @default KILL at the close */
  stopGrace?: number | undefined;
}

/**
 * What commands need from a node: {@link SshNode} and {@link LocalNode} both implement it,
 * so every command runs on either.
 */
export interface CommandNode {
  /** host name as given (`localhost` for a LocalNode) */
  readonly host: string;
  readonly user: string;
  /** `user@host[:port]`, for messages */
  readonly name: string;
  /** host for labels and output: `host` or `host:port` */
  readonly shortName: string;
  exec(opts: NodeExecOptions): Promise<ExecStatus>;
  push(opts: {
    locals: readonly string[];
    remote: string;
    signal?: AbortSignal;
    ctx?: JobContext;
    /** stops the transfer itself (a timeout): it gets its own SFTP session, closed then */
    stop?: AbortSignal | undefined;
  }): Promise<number>;
  pull(opts: {
    remotes: readonly string[];
    local: string;
    signal?: AbortSignal;
    ctx?: JobContext;
    /** stops the transfer itself (a timeout): it gets its own SFTP session, closed then */
    stop?: AbortSignal | undefined;
  }): Promise<number>;
  /** put files in a fresh private directory; `cleanup` removes them */
  stage(opts: {
    files: readonly StagedFile[];
    signal?: AbortSignal;
    ctx?: JobContext;
  }): Promise<{ dir: string; cleanup(): Promise<void> }>;
  /** serializable facts, never secrets */
  describe(): Record<string, unknown>;
  close(): Promise<void>;
}
