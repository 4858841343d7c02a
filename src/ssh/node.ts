/**
 * `SshNode`: where commands run over SSH. One connection per node object, opened on first
 * use under a lock, shared by every job using the node, registered with the run so it is
 * closed at the end (remotest hop first), and closable with `await node.close()`.
 */
import { randomBytes } from "node:crypto";
import { homedir, userInfo } from "node:os";
import { join, posix } from "node:path";
import { AiorchError } from "../errors.ts";
import type { JobContext, Resource } from "../job.ts";
import { abortReason } from "./limits.ts";
import {
  asAiorchError,
  endpointName,
  type ExecStatus,
  type HostKeyPolicy,
  type SshConnection,
} from "./connection.ts";
import { openConnection } from "./handshake.ts";
import { loadAuthMethods, type Passphrase } from "./keys.ts";
import { pullPaths, pushPaths, remoteMkdirP, removeRemote, writeRemoteFile } from "./sftp.ts";
import type { CommandNode, NodeExecOptions, StagedFile } from "./types.ts";

/** Options of {@link SshNode}. */
export interface SshNodeOptions {
  /** host name or address */
  host: string;
  /** @default 22 */
  port?: number;
  /** login name @default the local user */
  user?: string;
  /** private key files to use (only these) @default agent, then ~/.ssh/id_ed25519, id_ecdsa, id_rsa */
  keys?: readonly string[];
  /** passphrase of encrypted keys, or a function asked per key file (never a prompt by default) */
  passphrase?: Passphrase;
  /** agent socket, or `false` for none @default $SSH_AUTH_SOCK */
  agent?: string | false;
  /** reach this node through another one (any depth) */
  gateway?: SshNode;
  /** known_hosts file @default ~/.ssh/known_hosts */
  knownHosts?: string;
  /** host key policy @default "verify" */
  hostKeys?: HostKeyPolicy;
  /** ms for TCP connect + handshake + authentication @default 30_000 */
  connectTimeout?: number;
  /** session channels open at once on this connection (OpenSSH MaxSessions) @default 10 */
  maxSessions?: number;
}

const HOST_KEY_POLICIES: readonly string[] = ["verify", "accept-new", "off"];

/**
 * A remote host reached over SSH.
 *
 * @example
 * ```ts
 * const gw = new SshNode({ host: "gw.example.org", user: "me" });
 * const node = new SshNode({ host: "10.0.0.7", user: "root", gateway: gw });
 * await new Scheduler([new SshJob(node, [run("uname -a")])]).run();
 * ```
 */
export class SshNode implements CommandNode {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly gateway: SshNode | undefined;
  readonly knownHosts: string;
  readonly hostKeys: HostKeyPolicy;
  readonly connectTimeout: number;
  readonly maxSessions: number;
  readonly keys: readonly string[] | undefined;
  readonly #passphrase: Passphrase | undefined;
  readonly #agent: string | false | undefined;
  #connection: SshConnection | undefined;
  #connecting: Promise<SshConnection> | undefined;
  /** registered with each run using this node; closes the connection */
  readonly resource: Resource;

  constructor(opts: SshNodeOptions) {
    if (!opts || typeof opts.host !== "string" || opts.host === "")
      throw new AiorchError(
        "INVALID_ARGUMENT",
        `SshNode: host must be a non-empty string, got ${String(opts?.host)}`,
        {
          option: "host",
        },
      );
    const port = opts.port ?? 22;
    if (!Number.isInteger(port) || port < 1 || port > 65535)
      throw new AiorchError(
        "INVALID_ARGUMENT",
        `SshNode: port must be 1-65535, got ${String(opts.port)}`,
        {
          option: "port",
        },
      );
    const hostKeys = opts.hostKeys ?? "verify";
    if (!HOST_KEY_POLICIES.includes(hostKeys))
      throw new AiorchError(
        "INVALID_ARGUMENT",
        `SshNode: hostKeys must be "verify", "accept-new" or "off", got ${JSON.stringify(hostKeys)}`,
        { option: "hostKeys" },
      );
    if (opts.gateway !== undefined && !(opts.gateway instanceof SshNode))
      throw new AiorchError("INVALID_ARGUMENT", "SshNode: gateway must be an SshNode", {
        option: "gateway",
      });
    this.host = opts.host;
    this.port = port;
    this.user = opts.user ?? userInfo().username;
    this.gateway = opts.gateway;
    this.knownHosts = opts.knownHosts ?? join(homedir(), ".ssh", "known_hosts");
    this.hostKeys = hostKeys;
    this.connectTimeout = opts.connectTimeout ?? 30_000;
    this.maxSessions = opts.maxSessions ?? 10;
    this.keys = opts.keys ? [...opts.keys] : undefined;
    this.#passphrase = opts.passphrase;
    this.#agent = opts.agent;
    const node = this;
    this.resource = {
      get closeOrder() {
        return node.distance;
      },
      get name() {
        return `ssh ${node.name}`;
      },
      close: () => this.close(),
    };
  }

  /** Hops from here: 1, plus 1 per gateway. */
  get distance(): number {
    return 1 + (this.gateway?.distance ?? 0);
  }

  /** `user@host[:port]` */
  get name(): string {
    return endpointName(this);
  }

  /** `host` or `host:port` */
  get shortName(): string {
    return this.port === 22 ? this.host : `${this.host}:${this.port}`;
  }

  /** `[gw->]user@host[:port]` */
  toString(): string {
    return this.gateway ? `${this.gateway.toString()}->${this.name}` : this.name;
  }

  /** True while a connection is open. */
  get connected(): boolean {
    return this.#connection !== undefined && !this.#connection.closed;
  }

  /**
   * The node's connection, opened on first use and shared. `ctx` registers it (and its
   * gateways) with the run so they close at the end.
   */
  async connect(
    opts: { signal?: AbortSignal | undefined; ctx?: JobContext | undefined } = {},
  ): Promise<SshConnection> {
    if (opts.ctx) this.register(opts.ctx);
    if (this.#connection && !this.#connection.closed) return this.#connection;
    if (!this.#connecting) {
      const attempt = this.open(opts.ctx);
      this.#connecting = attempt;
      attempt.then(
        (c) => {
          this.#connection = c;
          this.#connecting = undefined;
          c.client.once("close", () => {
            if (this.#connection === c) this.#connection = undefined;
          });
        },
        () => {
          this.#connecting = undefined;
        },
      );
    }
    const pending = this.#connecting;
    if (!opts.signal) return pending;
    if (opts.signal.aborted) throw abortReason(opts.signal);
    const signal = opts.signal;
    return new Promise((resolve, reject) => {
      const onAbort = () => reject(abortReason(signal));
      signal.addEventListener("abort", onAbort, { once: true });
      pending.then(
        (c) => {
          signal.removeEventListener("abort", onAbort);
          resolve(c);
        },
        (e: unknown) => {
          signal.removeEventListener("abort", onAbort);
          reject(e);
        },
      );
    });
  }

  private register(ctx: JobContext): void {
    for (let n: SshNode | undefined = this; n; n = n.gateway) ctx.use(n.resource);
  }

  private async open(ctx: JobContext | undefined): Promise<SshConnection> {
    // the gateway connects first, outside our handshake slot (nested slots could deadlock)
    const via = this.gateway ? await this.gateway.connect({ ctx }) : undefined;
    return openConnection({
      host: this.host,
      port: this.port,
      user: this.user,
      auth: () =>
        loadAuthMethods(
          { keys: this.keys, passphrase: this.#passphrase, agent: this.#agent },
          this.user,
        ),
      hostKeys: this.hostKeys,
      knownHosts: this.knownHosts,
      connectTimeout: this.connectTimeout,
      maxSessions: this.maxSessions,
      ...(via ? { openStream: () => via.forward(this) } : {}),
    });
  }

  /** Close this node's connection (not its gateways); never throws. */
  async close(): Promise<void> {
    const pending = this.#connecting;
    if (pending) await pending.catch(() => undefined);
    const c = this.#connection;
    this.#connection = undefined;
    if (c) await c.close();
  }

  async exec(opts: NodeExecOptions): Promise<ExecStatus> {
    const open = this.#connection;
    if (open && !open.closed) {
      // connected: what connect() does, without its extra promise
      if (opts.ctx) this.register(opts.ctx);
      return open.exec(opts);
    }
    const conn = await this.connect({ signal: opts.signal, ctx: opts.ctx });
    return conn.exec(opts);
  }

  async push(opts: {
    locals: readonly string[];
    remote: string;
    signal?: AbortSignal;
    ctx?: JobContext;
  }): Promise<number> {
    const conn = await this.connect(opts);
    return conn.withSftp((sftp) =>
      pushPaths(sftp, opts.locals, opts.remote, { host: this.host, user: this.user }),
    );
  }

  async pull(opts: {
    remotes: readonly string[];
    local: string;
    signal?: AbortSignal;
    ctx?: JobContext;
  }): Promise<number> {
    const conn = await this.connect(opts);
    return conn.withSftp((sftp) =>
      pullPaths(sftp, opts.remotes, opts.local, { host: this.host, user: this.user }),
    );
  }

  /** Upload files into `~/.aiorch-remote/<random>/`; cleanup removes them (fixes B35). */
  async stage(opts: { files: readonly StagedFile[]; signal?: AbortSignal; ctx?: JobContext }) {
    const conn = await this.connect(opts);
    try {
      const home = await conn.home();
      const dir = posix.join(home, ".aiorch-remote", randomBytes(6).toString("hex"));
      const paths = opts.files.map((f) => posix.join(dir, f.name));
      await conn.withSftp(async (sftp) => {
        await remoteMkdirP(sftp, dir);
        await Promise.all(
          opts.files.map((f, i) => writeRemoteFile(sftp, paths[i] as string, f.data, f.mode)),
        );
      });
      return { dir, cleanup: () => conn.withSftp((sftp) => removeRemote(sftp, paths, dir)) };
    } catch (err) {
      throw asAiorchError(err, this, "uploading a script");
    }
  }

  /** Serializable facts for traces: never a passphrase or key contents. */
  describe(): Record<string, unknown> {
    return {
      type: "ssh",
      host: this.host,
      port: this.port,
      user: this.user,
      ...(this.keys ? { keys: [...this.keys] } : {}),
      ...(this.#passphrase !== undefined ? { hasPassphrase: true } : {}),
      ...(this.#agent !== undefined ? { agent: this.#agent !== false } : {}),
      knownHosts: this.knownHosts,
      hostKeys: this.hostKeys,
      connectTimeout: this.connectTimeout,
      ...(this.maxSessions !== 10 ? { maxSessions: this.maxSessions } : {}),
      ...(this.gateway ? { gateway: this.gateway.describe() } : {}),
    };
  }
}
