/**
 * One open SSH connection (an ssh2 Client) and what runs over it: exec channels queued under
 * the server's session limit, a shared SFTP session, and forwarded TCP streams for gateway
 * hops. Completion comes from protocol events (exit-status, close), never polling.
 * Opening a connection (TCP, host key, auth) lives in handshake.ts.
 */
import type { Duplex } from "node:stream";
import type { Client, ClientChannel, NegotiatedAlgorithms, SFTPWrapper } from "ssh2";
import { AiorchError } from "../errors.ts";
import { SshChannelError, SshConnectError } from "./errors.ts";
import { ProcessGroups } from "./groups.ts";
import { abortReason, Semaphore } from "./limits.ts";
import { pauseWhileBehind } from "./pressure.ts";

/** Host key policy: verify against known_hosts, record unknown keys, or no check at all. */
export type HostKeyPolicy = "verify" | "accept-new" | "off";

/** Who we connect to, for messages and checks. */
export interface Endpoint {
  host: string;
  port: number;
  user: string;
}

/** Options of {@link openConnection}. */

/** How a remote command ended. */
export interface ExecStatus {
  exitCode: number | null;
  /** signal name without `SIG` (`TERM`), or null */
  signal: string | null;
}

/** Options of {@link SshConnection.exec}. */
export interface ExecOptions {
  command: string;
  /** the command line as messages show it (env values masked) @default command */
  display?: string | undefined;
  onStdout(chunk: Buffer): void;
  onStderr(chunk: Buffer): void;
  /** aborts waiting for a session slot or the channel opening */
  signal?: AbortSignal | undefined;
  /** once running, closes the channel (after the caller sent TERM/KILL) @default signal */
  closeSignal?: AbortSignal | undefined;
  /** called once the channel is open, with a way to send a signal to the process */
  onStart?: ((kill: (signal: string) => void) => void) | undefined;
  /** ms between TERM and KILL when the connection closes while it runs @default KILL at the close */
  stopGrace?: number | undefined;
}

/** `user@host` or `user@host:port`. */
export function endpointName(e: Endpoint): string {
  return `${e.user}@${e.host}${e.port === 22 ? "" : `:${e.port}`}`;
}

/** @internal error facts of an endpoint */
export function facts(e: Endpoint) {
  return { host: e.host, user: e.user, port: e.port };
}

/** An open, authenticated connection. */
export class SshConnection {
  readonly client: Client;
  readonly endpoint: Endpoint;
  private readonly sessions: Semaphore;
  private sftpSession: Promise<SFTPWrapper> | undefined;
  private sftpRelease: (() => void) | undefined;
  private sftpUsers = 0;
  private homeDir: Promise<string> | undefined;
  private closedFlag = false;
  private lastError: Error | undefined;
  private readonly closeWaiters = new Set<() => void>();
  /** the process groups of the commands running on this connection */
  private readonly groups = new ProcessGroups();
  /** algorithms negotiated at the handshake (kex, host key, ciphers) */
  readonly algorithms: NegotiatedAlgorithms | undefined;

  constructor(
    client: Client,
    endpoint: Endpoint,
    maxSessions: number,
    algorithms?: NegotiatedAlgorithms,
  ) {
    this.client = client;
    this.algorithms = algorithms;
    this.endpoint = { host: endpoint.host, port: endpoint.port, user: endpoint.user };
    this.sessions = new Semaphore(maxSessions);
    client.on("error", (err: Error) => {
      this.lastError = err;
    });
    client.once("close", () => {
      this.closedFlag = true;
      for (const w of this.closeWaiters) w();
      this.closeWaiters.clear();
    });
  }

  get name(): string {
    return endpointName(this.endpoint);
  }

  /** True once the underlying transport has closed. */
  get closed(): boolean {
    return this.closedFlag;
  }

  private lost(what: string): SshChannelError {
    const why = this.lastError ? `: ${this.lastError.message}` : "";
    return new SshChannelError(`connection to ${this.name} lost during ${what}${why}`, {
      ...facts(this.endpoint),
      cause: this.lastError,
    });
  }

  /** Run a command on a new session channel (queued under the session limit). */
  async exec(opts: ExecOptions): Promise<ExecStatus> {
    const { signal } = opts;
    const command = opts.display ?? opts.command;
    for (;;) {
      const release =
        (signal?.aborted ? undefined : this.sessions.tryAcquire()) ??
        (await this.sessions.acquire(signal));
      let running: { done: Promise<ExecStatus> };
      try {
        if (this.closedFlag) throw this.lost(`"${command}"`);
        if (signal?.aborted) throw abortReason(signal);
        running = await this.openSession(opts);
      } catch (err) {
        const open = this.sessions.inUse - 1;
        release();
        if (!this.closedFlag && open > 0 && /open failed|prohibited/i.test(String(err))) {
          // the server allows fewer sessions than we thought (its MaxSessions): shrink, queue again
          this.sessions.setLimit(Math.min(this.sessions.limit, open));
          continue;
        }
        if (err instanceof AiorchError || this.closedFlag || signal?.aborted)
          throw this.closedFlag ? this.lost(`"${command}"`) : err;
        throw new SshChannelError(
          `cannot open a channel on ${this.name} for "${command}": ${String(err)}`,
          {
            ...facts(this.endpoint),
            command,
            cause: err,
          },
        );
      }
      try {
        return await running.done;
      } finally {
        release();
      }
    }
  }

  /** Open an exec channel; listeners go on synchronously (data, exit-status and close may come in one chunk). */
  private openSession(opts: ExecOptions): Promise<{ done: Promise<ExecStatus> }> {
    return new Promise((resolve, reject) => {
      try {
        this.client.exec(opts.command, (err, ch) =>
          err ? reject(err) : resolve({ done: this.follow(ch, opts) }),
        );
      } catch (err) {
        reject(err);
      }
    });
  }

  private follow(channel: ClientChannel, opts: ExecOptions): Promise<ExecStatus> {
    let kill: ((sig: string) => void) | undefined;
    let forced = false;
    const done = new Promise<ExecStatus>((resolve, reject) => {
      let status: ExecStatus | undefined;
      // a sink behind (an -o file, a slow stdout): stop reading, the SSH window closes
      channel.on("data", (chunk: Buffer) => {
        opts.onStdout(chunk);
        pauseWhileBehind(channel);
      });
      channel.stderr.on("data", (chunk: Buffer) => {
        opts.onStderr(chunk);
        pauseWhileBehind(channel.stderr);
      });
      channel.on("exit", (code: number | null, sig?: string) => {
        status = { exitCode: code ?? null, signal: sig ? sig.replace(/^SIG/, "") : null };
      });
      // inline arrows and a listener object, not named arrows: no per-command `__name` under tsx
      kill = (sig: string) => {
        try {
          // OpenSSH signals the session's process group (killpg): the command and its children
          channel.signal(sig.replace(/^SIG/, ""));
        } catch {
          // channel already gone
        }
      };
      const closer = opts.closeSignal ?? opts.signal;
      const onClose = {
        handleEvent(): void {
          forced = true;
          try {
            // a channel paused for a sink must still reach its close
            channel.resume();
            channel.stderr.resume();
            channel.close();
          } catch {
            // already closed
          }
        },
      };
      closer?.addEventListener("abort", onClose, { once: true });
      channel.on("close", (code?: number | null, sig?: string) => {
        closer?.removeEventListener("abort", onClose);
        if (!status && (typeof code === "number" || typeof sig === "string"))
          status = {
            exitCode: typeof code === "number" ? code : null,
            signal: sig ? sig.replace(/^SIG/, "") : null,
          };
        if (status) resolve(status);
        else if (this.closedFlag || this.lastError)
          reject(this.lost(`"${opts.display ?? opts.command}"`));
        else
          reject(
            new SshChannelError(
              `channel for "${opts.display ?? opts.command}" on ${this.name} closed without an exit status`,
              {
                ...facts(this.endpoint),
                command: opts.display ?? opts.command,
              },
            ),
          );
      });
    });
    // the connection stops it (TERM, KILL after the grace) if it still runs at close
    const signal = this.groups.add(
      kill as (sig: string) => void,
      done,
      opts.stopGrace,
      () => forced,
    );
    opts.onStart?.(signal);
    return done;
  }

  /**
   * Run `fn` with the connection's SFTP session. The session is shared by concurrent users,
   * holds one session slot while anyone uses it, and is closed (slot released) when the last
   * user is done, so commands never starve behind an idle SFTP session.
   */
  async withSftp<T>(fn: (sftp: SFTPWrapper) => Promise<T>): Promise<T> {
    this.sftpUsers++;
    try {
      return await fn(await this.openSftp());
    } finally {
      if (--this.sftpUsers === 0) this.closeSftp();
    }
  }

  /**
   * Run `fn` with an SFTP session of its own (one session slot), closed when `stop` aborts:
   * pending transfers fail, `fn`'s promise rejects with the abort reason, the slot is freed
   * once the server confirms the close.
   */
  async withOwnSftp<T>(stop: AbortSignal, fn: (sftp: SFTPWrapper) => Promise<T>): Promise<T> {
    const release = await this.sessions.acquire(stop);
    let sftp: SFTPWrapper | undefined;
    let onAbort: (() => void) | undefined;
    try {
      if (this.closedFlag) throw this.lost("SFTP start");
      sftp = await new Promise<SFTPWrapper>((resolve, reject) => {
        try {
          this.client.sftp((err, s) => (err ? reject(err) : resolve(s)));
        } catch (err) {
          reject(err);
        }
      });
      const session = sftp;
      const stopped = new Promise<never>((_, reject) => {
        onAbort = () => {
          reject(abortReason(stop));
          session.end();
        };
        if (stop.aborted) onAbort();
        else stop.addEventListener("abort", onAbort, { once: true });
      });
      const work = fn(session);
      work.catch(() => undefined); // fails once its session closes
      return await Promise.race([work, stopped]);
    } finally {
      if (onAbort) stop.removeEventListener("abort", onAbort);
      const s = sftp;
      if (!s || this.closedFlag) release();
      else {
        s.once("close", release);
        this.closeWaiters.add(release);
        s.end();
      }
    }
  }

  private openSftp(): Promise<SFTPWrapper> {
    if (!this.sftpSession) {
      const session = (async () => {
        const release = await this.sessions.acquire();
        this.sftpRelease = release;
        if (this.closedFlag) throw this.lost("SFTP start");
        return await new Promise<SFTPWrapper>((resolve, reject) => {
          try {
            this.client.sftp((err, sftp) => (err ? reject(err) : resolve(sftp)));
          } catch (err) {
            reject(err);
          }
        });
      })().catch((err: unknown) => {
        if (this.sftpSession === session) this.closeSftp();
        throw err instanceof AiorchError
          ? err
          : new SshChannelError(`cannot start SFTP on ${this.name}: ${(err as Error).message}`, {
              ...facts(this.endpoint),
              cause: err,
            });
      });
      this.sftpSession = session;
    }
    return this.sftpSession;
  }

  private closeSftp(): void {
    const session = this.sftpSession;
    const release = this.sftpRelease;
    this.sftpSession = undefined;
    this.sftpRelease = undefined;
    if (!session) {
      release?.();
      return;
    }
    // free the slot once the server confirmed the close, or it may refuse the next session
    session.then(
      (sftp) => {
        if (this.closedFlag) return release?.();
        sftp.once("close", () => release?.());
        this.closeWaiters.add(() => release?.());
        sftp.end();
      },
      () => release?.(),
    );
  }

  /** Absolute path of the remote home directory (SFTP's start directory). */
  home(): Promise<string> {
    if (!this.homeDir) {
      this.homeDir = this.withSftp(
        (sftp) =>
          new Promise<string>((resolve, reject) =>
            sftp.realpath(".", (err, p) => (err ? reject(err) : resolve(p))),
          ),
      );
      this.homeDir.catch(() => {
        this.homeDir = undefined;
      });
    }
    return this.homeDir;
  }

  /** A TCP stream to `host:port` as seen from this server (the next gateway hop). */
  forward(to: Endpoint): Promise<Duplex> {
    return new Promise((resolve, reject) => {
      if (this.closedFlag) return reject(this.lost("forwarding"));
      try {
        this.client.forwardOut("127.0.0.1", 0, to.host, to.port, (err, stream) => {
          if (err)
            reject(
              new SshConnectError(
                `cannot reach ${endpointName(to)} through ${this.name}: ${err.message}`,
                {
                  ...facts(to),
                  reason: /refused|prohibited|failed/i.test(err.message) ? "refused" : "other",
                  cause: err,
                },
              ),
            );
          else resolve(stream);
        });
      } catch (err) {
        reject(this.lost(`forwarding (${String(err)})`));
      }
    });
  }

  /** Process groups of commands still running on this connection. */
  get running(): number {
    return this.groups.size;
  }

  /**
   * Stop every command still running (TERM unless sent, KILL after its grace), waiting for
   * each end a bounded time; resolves with how many ends were not seen.
   */
  stopCommands(): Promise<number> {
    return this.closedFlag ? Promise.resolve(0) : this.groups.stopAll();
  }

  /**
   * Stop the commands still running (see {@link stopCommands}), then close gracefully
   * (bounded wait); never throws, even when the link is already gone (B32). Resolves with
   * the number of process groups whose stop could not be confirmed.
   */
  async close(graceMs = 2000): Promise<number> {
    const unconfirmed = await this.stopCommands();
    await this.end(graceMs);
    return unconfirmed;
  }

  private end(graceMs: number): Promise<void> {
    if (this.closedFlag) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.client.destroy();
        resolve();
      }, graceMs);
      this.closeWaiters.add(() => {
        clearTimeout(timer);
        resolve();
      });
      try {
        this.client.end();
      } catch {
        this.client.destroy();
      }
    });
  }
}

/** @internal wrap unknown errors thrown while using a connection */
export function asAiorchError(err: unknown, e: Endpoint, what: string): AiorchError {
  if (err instanceof AiorchError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new SshChannelError(`${what} on ${endpointName(e)} failed: ${message}`, {
    ...facts(e),
    cause: err,
  });
}
