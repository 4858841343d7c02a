/**
 * Opening a connection: TCP socket with TCP_NODELAY set before the handshake (or a stream
 * through a gateway), host key check against known_hosts, authentication. Failures become
 * named errors: SshDnsError, SshConnectError (refused, timeout…), SshHostKeyError, SshAuthError.
 */
import { Socket } from "node:net";
import type { Duplex } from "node:stream";
import { type AnyAuthMethod, Client, type NegotiatedAlgorithms } from "ssh2";
import {
  type Endpoint,
  endpointName,
  facts,
  type HostKeyPolicy,
  SshConnection,
} from "./connection.ts";
import {
  type ConnectFailure,
  SshAuthError,
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
import { abortReason, handshakes } from "./limits.ts";

/** Options of {@link openConnection}. */
export interface OpenConnectionOptions extends Endpoint {
  /** auth methods, loaded lazily by the node */
  auth: () => Promise<AnyAuthMethod[]>;
  hostKeys: HostKeyPolicy;
  /** known_hosts files, all read; new keys go to the first */
  knownHosts: readonly string[];
  /** ms for TCP connect + handshake + authentication */
  connectTimeout: number;
  /** session channels at once (OpenSSH `MaxSessions`) */
  maxSessions: number;
  /** ms between keepalives (OpenSSH `ServerAliveInterval`), 0 for none @default 0 */
  keepaliveInterval?: number;
  /** unanswered keepalives before the connection is dropped @default 3 */
  keepaliveCountMax?: number;
  /** a stream to run SSH over (gateway hop); else a TCP socket is opened */
  openStream?: () => Promise<Duplex>;
  signal?: AbortSignal | undefined;
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
        reject(
          new SshDnsError(`cannot resolve host ${e.host} (${err.code}) for ${where}`, {
            ...facts(e),
            cause: err,
          }),
        );
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
        new SshConnectError(
          `cannot connect to ${where}: timed out after ${opts.connectTimeout} ms`,
          {
            ...facts(opts),
            reason: "timeout",
            timeoutMs: opts.connectTimeout,
          },
        ),
      ),
    opts.connectTimeout,
  );
  const onOuterAbort = () => guard.abort(abortReason(opts.signal as AbortSignal));
  opts.signal?.addEventListener("abort", onOuterAbort, { once: true });
  try {
    const [auth, entries] = await Promise.all([
      opts.auth(),
      opts.hostKeys === "off"
        ? Promise.resolve([])
        : Promise.all(opts.knownHosts.map((f) => readKnownHosts(f))).then((all) => all.flat()),
    ]);
    const files = opts.knownHosts.join(", ");
    const sock = opts.openStream
      ? await raceAbort(opts.openStream(), guard.signal)
      : await openSocket(opts, guard.signal);
    const client = new Client();
    // ssh2 may emit late errors (socket reset after a failed auth…): never let them crash the process
    client.on("error", () => {});
    let hostKeyError: SshHostKeyError | undefined;
    let negotiated: NegotiatedAlgorithms | undefined;
    client.once("handshake", (n: NegotiatedAlgorithms) => {
      negotiated = n;
    });
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
            new SshAuthError(
              `authentication failed for ${where}: no key was accepted (${auth.length} tried)`,
              {
                ...facts(opts),
                cause: err,
              },
            ),
          );
        const reason = err.level === "client-timeout" ? "timeout" : connectFailure(err.code);
        settle(
          new SshConnectError(`cannot connect to ${where}: ${err.message}`, {
            ...facts(opts),
            reason,
            cause: err,
          }),
        );
      };
      const onClose = () =>
        settle(
          hostKeyError ??
            new SshConnectError(
              `cannot connect to ${where}: connection closed during the handshake`,
              {
                ...facts(opts),
                reason: "closed",
              },
            ),
        );
      client.once("ready", onReady).on("error", onError).once("close", onClose);
      client.connect({
        sock: sock as Socket,
        username: opts.user,
        authHandler: auth,
        readyTimeout: 0,
        keepaliveInterval: opts.keepaliveInterval ?? 0,
        keepaliveCountMax: opts.keepaliveCountMax ?? 3,
        ...(preferred.length > 0
          ? { algorithms: { serverHostKey: { prepend: preferred, append: [], remove: [] } } }
          : {}),
        hostVerifier: (key: Buffer, verify: (ok: boolean) => void) => {
          if (opts.hostKeys === "off") return verify(true);
          const check = checkHostKey(entries, opts.host, opts.port, key);
          if (check.status === "ok") return verify(true);
          if (check.status === "unknown" && opts.hostKeys === "accept-new") {
            appendKnownHost(opts.knownHosts[0]!, opts.host, opts.port, key).then(
              () => verify(true),
              () => verify(true),
            );
            return;
          }
          const fp = fingerprint(key);
          const text =
            check.status === "changed"
              ? `host key for ${where} CHANGED: server offers ${fp}, ${files} has ${check.expected}`
              : check.status === "revoked"
                ? `host key ${fp} of ${where} is revoked in ${files}`
                : `host key ${fp} of ${where} is not in ${files} (use hostKeys "accept-new" to record it)`;
          hostKeyError = new SshHostKeyError(text, {
            ...facts(opts),
            reason: check.status,
            fingerprint: fp,
          });
          verify(false);
        },
      } as Parameters<Client["connect"]>[0]);
      skipHostKeysProof(client);
    });
    return new SshConnection(client, opts, opts.maxSessions, negotiated);
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener("abort", onOuterAbort);
    release();
  }
}

/**
 * What the host-key-proof shortcut did, for tests: `installed` connections where ssh2's
 * handler could be replaced, `skipped` announcements acknowledged without the proof.
 * @internal
 */
export const hostKeysProofStats = { installed: 0, skipped: 0 };

/**
 * OpenSSH servers announce their host keys after authentication (`hostkeys-00@openssh.com`,
 * no reply wanted) and ssh2 answers by asking the server to prove them: one more request, a
 * signature on the server and a verification here per connection, only to emit a `hostkeys`
 * event aiorch never listens to (known_hosts is checked in `hostVerifier`). Acknowledge the
 * announcement without the proof, as OpenSSH does when UpdateHostKeys is off. Reaches into
 * ssh2's message handlers; when their shape differs, nothing changes and nothing throws.
 * Without the proof request the client would send nothing back, and sshd (no TCP_NODELAY on
 * exec sessions) holds its next packet (the first channel's confirmation) until our delayed
 * ACK, about 40 ms later: an SSH_MSG_IGNORE answers at once (see {@link sendIgnore}).
 * Returns whether the shortcut was installed.
 * @internal exported for tests
 */
export function skipHostKeysProof(client: Client): boolean {
  type GlobalRequest = (
    proto: { requestSuccess?: unknown },
    name: string,
    wantReply: boolean,
    data: unknown,
  ) => void;
  try {
    const handlers = (client as unknown as { _protocol?: { _handlers?: unknown } })._protocol
      ?._handlers as { GLOBAL_REQUEST?: GlobalRequest } | undefined;
    const original = handlers?.GLOBAL_REQUEST;
    if (!handlers || typeof original !== "function") return false;
    handlers.GLOBAL_REQUEST = (proto, name, wantReply, data) => {
      if (name !== "hostkeys-00@openssh.com" || typeof proto?.requestSuccess !== "function")
        return original(proto, name, wantReply, data);
      hostKeysProofStats.skipped++;
      if (wantReply) (proto.requestSuccess as () => void).call(proto);
      else sendIgnore(proto);
    };
    hostKeysProofStats.installed++;
    return true;
  } catch {
    return false; // frozen or otherwise unexpected internals: keep ssh2's own behaviour
  }
}

/** SSH_MSG_IGNORE with an empty string (RFC 4253 §11.2: every implementation ignores it). */
const IGNORE_PAYLOAD = Buffer.from([2, 0, 0, 0, 0]);

/**
 * Send SSH_MSG_IGNORE the way ssh2's own `ping()` sends its packet (its packet writer and
 * cipher; nothing during a key exchange). False, and nothing sent, when the shape differs.
 * @internal
 */
export function sendIgnore(proto: unknown): boolean {
  type Writer = { allocStart: number; alloc(n: number): Buffer; finalize(b: Buffer): Buffer };
  type Proto = { _packetRW?: { write?: Writer }; _kexinit?: unknown; _cipher?: unknown };
  try {
    const p = proto as Proto;
    const w = p._packetRW?.write;
    const cipher = p._cipher as { encrypt?: (b: Buffer) => void } | undefined;
    if (
      !w ||
      typeof w.allocStart !== "number" ||
      typeof w.alloc !== "function" ||
      typeof w.finalize !== "function" ||
      typeof cipher?.encrypt !== "function" ||
      p._kexinit !== undefined
    )
      return false;
    const packet = w.alloc(IGNORE_PAYLOAD.length);
    packet.set(IGNORE_PAYLOAD, w.allocStart);
    cipher.encrypt(w.finalize(packet));
    return true;
  } catch {
    return false;
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
