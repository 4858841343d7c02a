/**
 * `SshNode`: where commands run over SSH. One connection per node object, opened on first
 * use under a lock, shared by every job using the node, registered with the run so it is
 * closed at the end (remotest hop first), and closable with `await node.close()`.
 */
import { addSecrets } from "../redact.ts";
import { randomBytes } from "node:crypto";
import { posix } from "node:path";
import type { SFTPWrapper } from "ssh2";
import { AiorchError } from "../errors.ts";
import type { JobContext, Resource } from "../job.ts";
import {
  isUnreachableError,
  SshAuthError,
  SshConnectError,
  SshDnsError,
  SshHostKeyError,
} from "./errors.ts";
import { abortReason } from "./limits.ts";
import {
  asAiorchError,
  endpointName,
  type ExecStatus,
  type HostKeyPolicy,
  type SshConnection,
} from "./connection.ts";
import { stopNotConfirmed } from "./groups.ts";
import type { Passphrase } from "./keys.ts";
import { pullPaths, pushPaths, remoteMkdirP, removeRemote, writeRemoteFile } from "./sftp.ts";
import type { CommandNode, NodeExecOptions, StagedFile } from "./types.ts";
import type { ResolvedSshConfig } from "./config/resolve.ts";
import { type NodeSettings, settleNode } from "./config/settings.ts";
import type { HopSpec } from "./targets.ts";

/**
 * Options of {@link SshNode}. Options left unset come from the OpenSSH client configuration
 * (`sshConfig`), then from the defaults below: what is given here always wins.
 */
export interface SshNodeOptions {
  /** host name, address, or an ssh_config alias (`Host fit01` … `HostName 10.0.0.1`) */
  host: string;
  /** name shown in output prefixes, views, reports and `{host}` @default the alias, else host[:port] */
  name?: string;
  /** @default ssh_config `Port`, else 22 */
  port?: number;
  /** login name @default ssh_config `User`, else the local user */
  user?: string;
  /** private key files to use (only these) @default ssh_config `IdentityFile`s after the agent, else agent, then ~/.ssh/id_ed25519, id_ecdsa, id_rsa */
  keys?: readonly string[];
  /** passphrase of encrypted keys, or a function asked per key file (never a prompt by default) */
  passphrase?: Passphrase;
  /**
   * password for password authentication, tried after the keys and the agent; never logged,
   * recorded or shown (it is a declared secret, masked in every output) @default none
   * @example new SshNode({ host: "10.0.0.7", user: "lab", password: process.env.LAB_PASSWORD })
   */
  password?: string | undefined;
  /** agent socket, or `false` for none @default $SSH_AUTH_SOCK (none with `IdentitiesOnly yes`) */
  agent?: string | false;
  /** reach this node through another one (any depth); `null`: directly, whatever ssh_config says @default ssh_config `ProxyJump` */
  gateway?: SshNode | null;
  /**
   * known_hosts file(s): every one is read to verify a host key, new keys (`accept-new`) go
   * to the first, as OpenSSH does
   * @default ssh_config `UserKnownHostsFile` (all of them), else ~/.ssh/known_hosts
   */
  knownHosts?: string | readonly string[];
  /** host key policy @default from ssh_config `StrictHostKeyChecking` (yes/ask: "verify", accept-new, no: "off"), else "verify" */
  hostKeys?: HostKeyPolicy;
  /** ms for TCP connect + handshake + authentication @default ssh_config `ConnectTimeout`, else 30_000 */
  connectTimeout?: number;
  /** ms between keepalives when the server is silent, 0 for none @default ssh_config `ServerAliveInterval`, else 0 */
  keepaliveInterval?: number;
  /** unanswered keepalives before the connection is dropped @default ssh_config `ServerAliveCountMax`, else 3 */
  keepaliveCountMax?: number;
  /** session channels open at once on this connection (OpenSSH MaxSessions) @default 10 */
  maxSessions?: number;
  /**
   * OpenSSH client configuration to resolve `host` with: a file (as `ssh -F FILE`), or
   * `false` for none.
   * @default `~/.ssh/config`, then `/etc/ssh/ssh_config`
   * @example new SshNode({ host: "fit01", sshConfig: "./testbed.ssh_config" })
   */
  sshConfig?: string | false;
  /**
   * with `aiorch run --redis`: only workers started with `--site NAME` run this node's jobs
   * (letters, digits, `.`, `_`, `-`) @default any worker of the default site
   * @example "lab-a"
   */
  site?: string;
}

const SITE_NAME = /^[A-Za-z0-9._-]{1,64}$/;

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
  /** the host as given: an ssh_config alias, a name or an address */
  readonly alias: string;
  /** the host connected to (ssh_config `HostName` resolved) */
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly gateway: SshNode | undefined;
  /** where new host keys are recorded (the first of {@link knownHostsFiles}) */
  readonly knownHosts: string;
  /** every known_hosts file read to verify a host key */
  readonly knownHostsFiles: readonly string[];
  readonly hostKeys: HostKeyPolicy;
  readonly connectTimeout: number;
  readonly keepaliveInterval: number;
  readonly keepaliveCountMax: number;
  readonly maxSessions: number;
  /** key files: given, or ssh_config `IdentityFile`s (expanded); undefined: the defaults */
  readonly keys: readonly string[] | undefined;
  /** what the OpenSSH configuration said for this host; undefined with `sshConfig: false` */
  readonly sshConfig: ResolvedSshConfig | undefined;
  /** shown in output prefixes, views, reports and `{host}` */
  readonly displayName: string;
  readonly #keysFrom: NodeSettings["keysFrom"];
  readonly #identitiesOnly: boolean;
  /** worker site, see {@link SshNodeOptions.site} */
  readonly site: string | undefined;
  /** @internal the options as given, without passphrase and gateway (for workers) */
  readonly _given: Readonly<Omit<SshNodeOptions, "passphrase" | "gateway">>;
  /** @internal the gateway as given (null: none; undefined: ssh_config decides) */
  readonly _givenGateway: SshNode | null | undefined;
  readonly #passphrase: Passphrase | undefined;
  readonly #agent: string | false | undefined;
  readonly #password: string | undefined;
  #connection: SshConnection | undefined;
  #connecting: Promise<SshConnection> | undefined;
  /** registered with each run using this node; closes the connection */
  readonly resource: Resource;

  constructor(opts: SshNodeOptions) {
    // ssh2 loads with the first SshNode (before any run and its timeouts), not with
    // `import "aiorch"`
    loadSsh2().catch(() => undefined);
    if (!opts || typeof opts.host !== "string" || opts.host === "")
      throw invalid("host", `host must be a non-empty string, got ${String(opts?.host)}`);
    if (opts.port !== undefined && !isPort(opts.port))
      throw invalid("port", `port must be 1-65535, got ${String(opts.port)}`);
    if (opts.hostKeys !== undefined && !HOST_KEY_POLICIES.includes(opts.hostKeys))
      throw invalid(
        "hostKeys",
        `hostKeys must be "verify", "accept-new" or "off", got ${JSON.stringify(opts.hostKeys)}`,
      );
    if (opts.site !== undefined && !(typeof opts.site === "string" && SITE_NAME.test(opts.site)))
      throw invalid(
        "site",
        `site must be letters, digits, ".", "_" or "-", got ${JSON.stringify(opts.site)}`,
      );
    const { passphrase: _p, gateway: _g, ...given } = opts;
    this._given = Object.freeze({ ...given });
    this._givenGateway = opts.gateway;
    this.site = opts.site;
    if (opts.gateway !== undefined && opts.gateway !== null && !(opts.gateway instanceof SshNode))
      throw invalid("gateway", "gateway must be an SshNode (or null for none)");
    if (opts.name !== undefined && (typeof opts.name !== "string" || opts.name.trim() === ""))
      throw invalid("name", `name must be a non-empty string, got ${JSON.stringify(opts.name)}`);
    if (
      opts.sshConfig !== undefined &&
      opts.sshConfig !== false &&
      typeof opts.sshConfig !== "string"
    )
      throw invalid("sshConfig", "sshConfig must be a file path or false");
    const s = settleNode({
      host: opts.host,
      port: opts.port,
      user: opts.user,
      keys: opts.keys,
      knownHosts: opts.knownHosts,
      hostKeys: opts.hostKeys,
      connectTimeout: opts.connectTimeout,
      keepaliveInterval: opts.keepaliveInterval,
      keepaliveCountMax: opts.keepaliveCountMax,
      gatewayGiven: opts.gateway !== undefined,
      sshConfig: opts.sshConfig,
    });
    this.alias = opts.host;
    this.host = s.host;
    this.port = s.port;
    this.user = s.user;
    this.sshConfig = s.config;
    this.knownHosts = s.knownHosts;
    this.knownHostsFiles = s.knownHostsFiles;
    this.hostKeys = s.hostKeys;
    this.connectTimeout = s.connectTimeout;
    this.keepaliveInterval = s.keepaliveInterval;
    this.keepaliveCountMax = s.keepaliveCountMax;
    this.maxSessions = opts.maxSessions ?? 10;
    const fallback = (opts as InternalOptions)[FALLBACK_KEYS];
    this.keys = s.keys ? [...s.keys] : fallback ? [...fallback] : undefined;
    this.#keysFrom = s.keys ? s.keysFrom : fallback ? "option" : "default";
    this.#identitiesOnly = s.identitiesOnly;
    this.#passphrase = opts.passphrase;
    this.#agent = opts.agent;
    if (opts.password !== undefined && (typeof opts.password !== "string" || opts.password === ""))
      throw new AiorchError("INVALID_ARGUMENT", "SshNode: password must be a non-empty string", {
        option: "password",
      });
    this.#password = opts.password;
    if (opts.password !== undefined) addSecrets([opts.password]);
    this.gateway =
      opts.gateway === null
        ? undefined
        : (opts.gateway ?? (s.jumps ? jumpChain({ hops: s.jumps, from: opts }) : undefined));
    this.displayName =
      opts.name ??
      (s.config && s.config.hostname !== s.config.alias.toLowerCase()
        ? opts.host
        : this.port === 22
          ? this.host
          : `${this.host}:${this.port}`);
    const node = this;
    this.resource = {
      get closeOrder() {
        return node.distance;
      },
      get name() {
        return `ssh ${node.name}`;
      },
      close: () => this.closeForRun(),
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

  /** the display name (kept for labels and older callers) */
  get shortName(): string {
    return this.displayName;
  }

  /** `[gw->]user@host[:port]` */
  toString(): string {
    return this.gateway ? `${this.gateway.toString()}->${this.name}` : this.name;
  }

  /** `host` or `host:port` */
  private get shortHostPort(): string {
    return this.port === 22 ? this.host : `${this.host}:${this.port}`;
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

  /** The gateway's connection; its failure names the gateway and this node. */
  private async viaGateway(gw: SshNode, ctx: JobContext | undefined): Promise<SshConnection> {
    try {
      return await gw.connect({ ctx });
    } catch (err) {
      if (!isUnreachableError(err)) throw err;
      const message = `cannot reach ${this.name}: its gateway ${gw.name} failed: ${(err as Error).message}`;
      const facts = { host: gw.host, user: gw.user, port: gw.port, cause: err };
      if (err instanceof SshConnectError)
        throw new SshConnectError(message, { ...facts, reason: err.reason });
      if (err instanceof SshHostKeyError)
        throw new SshHostKeyError(message, {
          ...facts,
          reason: err.reason,
          fingerprint: err.fingerprint,
        });
      if (err instanceof SshDnsError) throw new SshDnsError(message, facts);
      throw new SshAuthError(message, facts);
    }
  }

  private async open(ctx: JobContext | undefined): Promise<SshConnection> {
    // the gateway connects first, outside our handshake slot (nested slots could deadlock)
    const via = this.gateway ? await this.viaGateway(this.gateway, ctx) : undefined;
    const [{ openConnection }, { loadAuthMethods }] = await loadSsh2();
    return openConnection({
      host: this.host,
      port: this.port,
      user: this.user,
      auth: () =>
        loadAuthMethods(
          {
            ...(this.#keysFrom === "config" ? { configKeys: this.keys } : { keys: this.keys }),
            passphrase: this.#passphrase,
            agent: this.#agent ?? (this.#identitiesOnly ? false : undefined),
            password: this.#password,
          },
          this.user,
        ),
      hostKeys: this.hostKeys,
      knownHosts: this.knownHostsFiles,
      connectTimeout: this.connectTimeout,
      keepaliveInterval: this.keepaliveInterval,
      keepaliveCountMax: this.keepaliveCountMax,
      maxSessions: this.maxSessions,
      ...(via ? { openStream: () => via.forward(this) } : {}),
    });
  }

  /**
   * Close this node's connection (not its gateways), after stopping the commands still
   * running on it (TERM, KILL after the grace); never throws.
   */
  async close(): Promise<void> {
    await this.closeAndCount();
  }

  private async closeAndCount(): Promise<number> {
    const pending = this.#connecting;
    if (pending) await pending.catch(() => undefined);
    const c = this.#connection;
    this.#connection = undefined;
    return c ? c.close() : 0;
  }

  /** The run's close: like close(), but a stop that could not be confirmed is reported. */
  private async closeForRun(): Promise<void> {
    const unconfirmed = await this.closeAndCount();
    if (unconfirmed > 0) throw stopNotConfirmed(this.name, this.host, unconfirmed);
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
    stop?: AbortSignal | undefined;
  }): Promise<number> {
    const conn = await this.connect(opts);
    const work = (sftp: SFTPWrapper) =>
      pushPaths(sftp, opts.locals, opts.remote, { host: this.host, user: this.user });
    return opts.stop ? conn.withOwnSftp(opts.stop, work) : conn.withSftp(work);
  }

  async pull(opts: {
    remotes: readonly string[];
    local: string;
    signal?: AbortSignal;
    ctx?: JobContext;
    stop?: AbortSignal | undefined;
  }): Promise<number> {
    const conn = await this.connect(opts);
    const work = (sftp: SFTPWrapper) =>
      pullPaths(sftp, opts.remotes, opts.local, { host: this.host, user: this.user });
    return opts.stop ? conn.withOwnSftp(opts.stop, work) : conn.withSftp(work);
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
      ...(this.alias !== this.host ? { alias: this.alias } : {}),
      ...(this.displayName !== this.shortHostPort ? { name: this.displayName } : {}),
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
      ...(this.keepaliveInterval ? { keepaliveInterval: this.keepaliveInterval } : {}),
      ...(this.site !== undefined ? { site: this.site } : {}),
      ...(this.gateway ? { gateway: this.gateway.describe() } : {}),
    };
  }
}

function invalid(option: string, msg: string): AiorchError {
  return new AiorchError("INVALID_ARGUMENT", `SshNode: ${msg}`, { option });
}

function isPort(p: unknown): boolean {
  return typeof p === "number" && Number.isInteger(p) && p >= 1 && p <= 65535;
}

/** @internal keys a jump host uses when its own configuration names none */
const FALLBACK_KEYS = Symbol("fallbackKeys");
type InternalOptions = SshNodeOptions & { [FALLBACK_KEYS]?: readonly string[] | undefined };

/** Jump hosts are shared by every node naming the same hop with the same settings. */
const jumpNodes = new Map<string, SshNode>();
const objectIds = new WeakMap<object, number>();
let nextId = 0;
/** aliases being resolved as jump hosts, to report a ProxyJump loop instead of recursing */
const resolving: string[] = [];

/** Objects and functions by identity, other values as they are (for cache keys). */
function idOf(x: unknown): unknown {
  if ((typeof x !== "function" && typeof x !== "object") || x === null) return x;
  let id = objectIds.get(x);
  if (id === undefined) {
    id = ++nextId;
    objectIds.set(x, id);
  }
  return `#${id}`;
}

/**
 * The gateway chain of `ProxyJump a,b`: a (resolved with its own ProxyJump), then b through
 * a. The jump hosts get the policy options of the node (passphrase, agent, host keys,
 * known_hosts, connect timeout) and its keys when their configuration names none.
 */
function jumpChain({ hops, from }: { hops: readonly HopSpec[]; from: SshNodeOptions }): SshNode {
  let gw: SshNode | undefined;
  for (const hop of hops) {
    if (resolving.includes(hop.host) || resolving.length > 16)
      throw new AiorchError(
        "SSH_CONFIG",
        `ProxyJump loop: ${[...resolving, hop.host].join(" -> ")} (exclude the jump host from its own Host block)`,
        { host: hop.host },
      );
    const opts: InternalOptions = {
      host: hop.host,
      ...(hop.port !== undefined ? { port: hop.port } : {}),
      ...(hop.user !== undefined ? { user: hop.user } : {}),
      ...pick(from, [
        "passphrase",
        "agent",
        "knownHosts",
        "hostKeys",
        "connectTimeout",
        "sshConfig",
      ]),
      ...(gw ? { gateway: gw } : {}),
      [FALLBACK_KEYS]: from.keys,
    };
    const key = JSON.stringify([
      hop,
      Object.entries(opts).map(([k, v]) => [k, idOf(v)]),
      from.keys,
    ]);
    let node = jumpNodes.get(key);
    if (!node) {
      resolving.push(hop.host);
      try {
        node = new SshNode(opts);
      } finally {
        resolving.pop();
      }
      jumpNodes.set(key, node);
    }
    gw = node;
  }
  return gw as SshNode;
}

function pick<T extends object, K extends keyof T>(o: T, keys: readonly K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const k of keys) if (o[k] !== undefined) out[k] = o[k];
  return out;
}

let ssh2Modules: Promise<[typeof import("./handshake.ts"), typeof import("./keys.ts")]> | undefined;

/** The modules that load ssh2 (some 50 ms), once. */
function loadSsh2(): Promise<[typeof import("./handshake.ts"), typeof import("./keys.ts")]> {
  ssh2Modules ??= Promise.all([import("./handshake.ts"), import("./keys.ts")]);
  return ssh2Modules;
}
