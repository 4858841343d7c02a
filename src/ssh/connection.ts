/**
 * One SSH connection (an ssh2 Client) and what runs over it: exec channels queued under
 * the server's session limit, one lazily opened SFTP session, and forwarded TCP streams
 * for gateway hops. Completion comes from protocol events (exit-status, close), never polling.
 */
import { Socket } from "node:net";
import type { Duplex } from "node:stream";
import { type AnyAuthMethod, Client, type ClientChannel, type SFTPWrapper } from "ssh2";
import { AiorchError } from "../errors.ts";
import {
  type ConnectFailure,
  SshAuthError,
  SshChannelError,
  SshConnectError,
  SshDnsError,
  SshHostKeyError,
} from "./errors.ts";
import {
  algorithmsForKeyTypes,
  appendKnownHost,
  checkHostKey,
  fingerprint,
  knownKeyTypes,
  readKnownHosts,
} from "./knownhosts.ts";
import { abortReason, handshakes, Semaphore } from "./limits.ts";

/** Host key policy: verify against known_hosts, record unknown keys, or no check at all. */
export type HostKeyPolicy = "verify" | "accept-new" | "off";

/** Who we connect to, for messages and checks. */
export interface Endpoint {
  host: string;
  port: number;
  user: string;
}

/** Options of {@link openConnection}. */
export interface OpenConnectionOptions extends Endpoint {
  /** auth methods, loaded lazily by the node */
  auth: () => Promise<AnyAuthMethod[]>;
  hostKeys: HostKeyPolicy;
  knownHosts: string;
  /** ms for TCP connect + handshake + authentication */
  connectTimeout: number;
  /** session channels at once (OpenSSH `MaxSessions`) */
  maxSessions: number;
  /** a stream to run SSH over (gateway hop); else a TCP socket is opened */
  openStream?: () => Promise<Duplex>;
  signal?: AbortSignal | undefined;
}

/** How a remote command ended. */
export interface ExecStatus {
  exitCode: number | null;
  /** signal name without `SIG` (`TERM`), or null */
  signal: string | null;
}

/** Options of {@link SshConnection.exec}. */
export interface ExecOptions {
  command: string;
  onStdout(chunk: Buffer): void;
  onStderr(chunk: Buffer): void;
  /** aborts waiting for a session slot or the channel opening */
  signal?: AbortSignal | undefined;
  /** once running, closes the channel (after the caller sent TERM/KILL) @default signal */
  closeSignal?: AbortSignal | undefined;
  /** called once the channel is open, with a way to send a signal to the process */
  onStart?: ((kill: (signal: string) => void) => void) | undefined;
}

/** `user@host` or `user@host:port`. */
export function endpointName(e: Endpoint): string {
  return `${e.user}@${e.host}${e.port === 22 ? "" : `:${e.port}`}`;
}

function facts(e: Endpoint) {
  return { host: e.host, user: e.user, port: e.port };
}

/** Map a socket error code to why the connection failed. */
function connectFailure(code: string | undefined): ConnectFailure {
  switch (code) {
    case "ECONNREFUSED":
      return "refused";
    case "ETIMEDOUT":
      return "timeout";
    case "ECONNRESET":
    case "EPIPE":
      return "reset";
    case "EHOSTUNREACH":
    case "ENETUNREACH":
    case "EADDRNOTAVAIL":
      return "unreachable";
    default:
      return "other";
  }
}

/** Open a TCP socket with TCP_NODELAY set BEFORE the SSH handshake. */
function openSocket(e: Endpoint, signal: AbortSignal): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const sock = new Socket();
    sock.setNoDelay(true);
    const onAbort = () => {
      sock.destroy();
      reject(abortReason(signal));
    };
    signal.addEventListener("abort", onAbort, { once: true });
    sock.once("connect", () => {
      signal.removeEventListener("abort", onAbort);
      sock.removeAllListeners("error");
      resolve(sock);
    });
    sock.once("error", (err: NodeJS.ErrnoException) => {
      signal.removeEventListener("abort", onAbort);
      sock.destroy();
      const where = endpointName(e);
      if (err.code === "ENOTFOUND" || err.code === "EAI_AGAIN" || err.syscall === "getaddrinfo")
        reject(new SshDnsError(`cannot resolve host ${e.host} (${err.code}) for ${where}`, { ...facts(e), cause: err }));
      else {
        const reason = connectFailure(err.code);
        reject(
          new SshConnectError(`cannot connect to ${where}: ${reasonText(reason, err.code)}`, {
            ...facts(e),
            reason,
            cause: err,
          }),
        );
      }
    });
    sock.connect({ host: e.host, port: e.port });
  });
}

function reasonText(reason: ConnectFailure, code?: string): string {
  return reason === "other" ? (code ?? "error") : `connection ${reason}${code ? ` (${code})` : ""}`;
}

/**
 * Connect, verify the host key and authenticate. Rejects with a named error:
 * {@link SshDnsError}, {@link SshConnectError} (refused, timeout…), {@link SshHostKeyError},
 * {@link SshAuthError}. Bounded by `connectTimeout` and the process-wide handshake limit.
 */
export async function openConnection(opts: OpenConnectionOptions): Promise<SshConnection> {
  const where = endpointName(opts);
  const release = await handshakes.acquire(opts.signal);
  const guard = new AbortController();
  const timer = setTimeout(
    () =>
      guard.abort(
        new SshConnectError(`cannot connect to ${where}: timed out after ${opts.connectTimeout} ms`, {
          ...facts(opts),
          reason: "timeout",
          timeoutMs: opts.connectTimeout,
        }),
      ),
    opts.connectTimeout,
  );
  const onOuterAbort = () => guard.abort(abortReason(opts.signal as AbortSignal));
  opts.signal?.addEventListener("abort", onOuterAbort, { once: true });
  try {
    const [auth, entries] = await Promise.all([
      opts.auth(),
      opts.hostKeys === "off" ? Promise.resolve([]) : readKnownHosts(opts.knownHosts),
    ]);
    const sock = opts.openStream ? await raceAbort(opts.openStream(), guard.signal) : await openSocket(opts, guard.signal);
    const client = new Client();
    let hostKeyError: SshHostKeyError | undefined;
    const preferred = algorithmsForKeyTypes(knownKeyTypes(entries, opts.host, opts.port));
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        client.destroy();
        sock.destroy();
        reject(abortReason(guard.signal));
      };
      guard.signal.addEventListener("abort", onAbort, { once: true });
      const settle = (err?: Error) => {
        guard.signal.removeEventListener("abort", onAbort);
        client.removeListener("ready", onReady);
        client.removeListener("error", onError);
        client.removeListener("close", onClose);
        if (err) {
          client.destroy();
          reject(err);
        } else resolve();
      };
      const onReady = () => settle();
      const onError = (err: Error & { level?: string; code?: string }) => {
        if (hostKeyError) return settle(hostKeyError);
        if (err.level === "client-authentication")
          return settle(
            new SshAuthError(`authentication failed for ${where}: no key was accepted (${auth.length} tried)`, {
              ...facts(opts),
              cause: err,
            }),
          );
        const reason = err.level === "client-timeout" ? "timeout" : connectFailure(err.code);
        settle(
          new SshConnectError(`cannot connect to ${where}: ${err.message}`, { ...facts(opts), reason, cause: err }),
        );
      };
      const onClose = () =>
        settle(
          hostKeyError ??
            new SshConnectError(`cannot connect to ${where}: connection closed during the handshake`, {
              ...facts(opts),
              reason: "closed",
            }),
        );
      client.once("ready", onReady).on("error", onError).once("close", onClose);
      client.connect({
        sock: sock as Socket,
        username: opts.user,
        authHandler: auth,
        readyTimeout: 0,
        ...(preferred.length > 0 ? { algorithms: { serverHostKey: { prepend: preferred, append: [], remove: [] } } } : {}),
        hostVerifier: (key: Buffer, verify: (ok: boolean) => void) => {
          if (opts.hostKeys === "off") return verify(true);
          const check = checkHostKey(entries, opts.host, opts.port, key);
          if (check.status === "ok") return verify(true);
          if (check.status === "unknown" && opts.hostKeys === "accept-new") {
            appendKnownHost(opts.knownHosts, opts.host, opts.port, key).then(
              () => verify(true),
              () => verify(true),
            );
            return;
          }
          const fp = fingerprint(key);
          const text =
            check.status === "changed"
              ? `host key for ${where} CHANGED: server offers ${fp}, ${opts.knownHosts} has ${check.expected}`
              : check.status === "revoked"
                ? `host key ${fp} of ${where} is revoked in ${opts.knownHosts}`
                : `host key ${fp} of ${where} is not in ${opts.knownHosts} (use hostKeys "accept-new" to record it)`;
          hostKeyError = new SshHostKeyError(text, { ...facts(opts), reason: check.status, fingerprint: fp });
          verify(false);
        },
      } as Parameters<Client["connect"]>[0]);
    });
    return new SshConnection(client, opts, opts.maxSessions);
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener("abort", onOuterAbort);
    release();
  }
}

function raceAbort<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(abortReason(signal));
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(abortReason(signal));
    signal.addEventListener("abort", onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener("abort", onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(e);
      },
    );
  });
}

/** An open, authenticated connection. */
export class SshConnection {
  readonly client: Client;
  readonly endpoint: Endpoint;
  private readonly sessions: Semaphore;
  private sftpSession: Promise<SFTPWrapper> | undefined;
  private homeDir: Promise<string> | undefined;
  private closedFlag = false;
  private lastError: Error | undefined;
  private readonly closeWaiters = new Set<() => void>();

  constructor(client: Client, endpoint: Endpoint, maxSessions: number) {
    this.client = client;
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
    const release = await this.sessions.acquire(opts.signal);
    try {
      const channel = await this.openSession(opts.command, opts.signal);
      return await this.follow(channel, opts);
    } finally {
      release();
    }
  }

  /** Open an exec channel; when the server refuses more sessions, lower the limit and wait. */
  private async openSession(command: string, signal: AbortSignal | undefined): Promise<ClientChannel> {
    for (;;) {
      if (this.closedFlag) throw this.lost(`"${command}"`);
      if (signal?.aborted) throw abortReason(signal);
      try {
        return await new Promise<ClientChannel>((resolve, reject) => {
          try {
            this.client.exec(command, (err, ch) => (err ? reject(err) : resolve(ch)));
          } catch (err) {
            reject(err);
          }
        });
      } catch (err) {
        const busy = this.sessions.inUse - 1;
        if (!this.closedFlag && busy > 0 && /open failed|prohibited/i.test(String(err))) {
          // the server allows fewer sessions than we thought: shrink and wait for a free one
          this.sessions.setLimit(busy);
          const release = await this.sessions.acquire(signal);
          release();
          continue;
        }
        if (this.closedFlag) throw this.lost(`"${command}"`);
        throw new SshChannelError(`cannot open a channel on ${this.name} for "${command}": ${String(err)}`, {
          ...facts(this.endpoint),
          command,
          cause: err,
        });
      }
    }
  }

  private follow(channel: ClientChannel, opts: ExecOptions): Promise<ExecStatus> {
    return new Promise((resolve, reject) => {
      let status: ExecStatus | undefined;
      channel.on("data", (chunk: Buffer) => opts.onStdout(chunk));
      channel.stderr.on("data", (chunk: Buffer) => opts.onStderr(chunk));
      channel.on("exit", (code: number | null, sig?: string) => {
        status = { exitCode: code ?? null, signal: sig ? sig.replace(/^SIG/, "") : null };
      });
      const kill = (sig: string) => {
        try {
          channel.signal(sig.replace(/^SIG/, ""));
        } catch {
          // channel already gone
        }
      };
      opts.onStart?.(kill);
      const closer = opts.closeSignal ?? opts.signal;
      const onClose = () => {
        try {
          channel.close();
        } catch {
          // already closed
        }
      };
      closer?.addEventListener("abort", onClose, { once: true });
      channel.on("close", () => {
        closer?.removeEventListener("abort", onClose);
        if (status) resolve(status);
        else if (this.closedFlag || this.lastError) reject(this.lost(`"${opts.command}"`));
        else
          reject(
            new SshChannelError(`channel for "${opts.command}" on ${this.name} closed without an exit status`, {
              ...facts(this.endpoint),
              command: opts.command,
            }),
          );
      });
    });
  }

  /** The connection's SFTP session, opened on first use (it holds one session slot). */
  sftp(): Promise<SFTPWrapper> {
    if (!this.sftpSession) {
      this.sftpSession = (async () => {
        await this.sessions.acquire();
        if (this.closedFlag) throw this.lost("SFTP start");
        return await new Promise<SFTPWrapper>((resolve, reject) => {
          this.client.sftp((err, sftp) => {
            if (err)
              reject(
                new SshChannelError(`cannot start SFTP on ${this.name}: ${err.message}`, {
                  ...facts(this.endpoint),
                  cause: err,
                }),
              );
            else resolve(sftp);
          });
        });
      })();
      this.sftpSession.catch(() => {
        this.sftpSession = undefined;
      });
    }
    return this.sftpSession;
  }

  /** Absolute path of the remote home directory (SFTP's start directory). */
  home(): Promise<string> {
    if (!this.homeDir) {
      this.homeDir = this.sftp().then(
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
              new SshConnectError(`cannot reach ${endpointName(to)} through ${this.name}: ${err.message}`, {
                ...facts(to),
                reason: /refused|prohibited|failed/i.test(err.message) ? "refused" : "other",
                cause: err,
              }),
            );
          else resolve(stream);
        });
      } catch (err) {
        reject(this.lost(`forwarding (${String(err)})`));
      }
    });
  }

  /** Close gracefully (bounded wait); never throws, even when the link is already gone (B32). */
  close(graceMs = 2000): Promise<void> {
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
  return new SshChannelError(`${what} on ${endpointName(e)} failed: ${message}`, { ...facts(e), cause: err });
}
