/**
 * The Redis side of scale-out: parsing `--redis URL`, a first connection that fails fast
 * with a named error (unreachable, too old for BullMQ), and the options BullMQ's own
 * connections get. The URL may carry a password: only {@link displayUrl} is ever shown.
 */
import { Redis } from "ioredis";
import { AiorchError } from "../errors.ts";

/** Oldest Redis BullMQ runs on (its `RedisConnection.minimumVersion`). */
export const MIN_REDIS_VERSION = "5.0.0";

/** Where Redis is, parsed from `redis://[user:password@]host[:port][/db]`. */
export interface RedisTarget {
  host: string;
  port: number;
  db: number;
  username?: string;
  password?: string;
  /** the URL without credentials, for messages */
  display: string;
}

/** Parse a `redis://` URL; a bad one is a `USAGE` error naming the option. */
export function parseRedisUrl(url: string, option = "--redis"): RedisTarget {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new AiorchError(
      "USAGE",
      `${option} expects redis://HOST:PORT, got ${JSON.stringify(url)}`,
      {
        option,
      },
    );
  }
  if (u.protocol !== "redis:" || u.hostname === "")
    throw new AiorchError("USAGE", `${option} expects redis://HOST:PORT, got ${displayUrl(u)}`, {
      option,
    });
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0;
  if (!Number.isInteger(db) || db < 0)
    throw new AiorchError("USAGE", `${option}: database must be a number, got ${u.pathname}`, {
      option,
    });
  return {
    host: u.hostname.replace(/^\[|\]$/g, ""),
    port: u.port ? Number(u.port) : 6379,
    db,
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    display: displayUrl(u),
  };
}

function displayUrl(u: URL): string {
  return `redis://${u.host}${u.pathname.length > 1 ? u.pathname : ""}`;
}

/** The connection fields both ioredis and BullMQ take. */
export interface ConnectionFields {
  host: string;
  port: number;
  db: number;
  username?: string;
  password?: string;
  maxRetriesPerRequest: number | null;
}

/** ioredis options for BullMQ's connections (workers need `maxRetriesPerRequest: null`). */
export function connectionOptions(target: RedisTarget): ConnectionFields {
  return {
    host: target.host,
    port: target.port,
    db: target.db,
    ...(target.username ? { username: target.username } : {}),
    ...(target.password ? { password: target.password } : {}),
    maxRetriesPerRequest: null,
  };
}

/** True when dotted version `a` is older than `b`. */
export function isOlder(a: string, b: string): boolean {
  const pa = a.split(".").map(Number);
  const pb = b.split(".").map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? 0;
    const y = pb[i] ?? 0;
    if (x !== y) return x < y;
  }
  return false;
}

/**
 * Open a client that gives up within `timeoutMs` (no endless reconnect loop at start) and
 * check the server's version. Mid-run, the client retries; see `watchRedis`.
 */
export async function connectRedis(opts: {
  target: RedisTarget;
  /** @default 5000 */
  timeoutMs?: number;
}): Promise<Redis> {
  const { target } = opts;
  const timeoutMs = opts.timeoutMs ?? 5000;
  const started = Date.now();
  const client = new Redis({
    ...connectionOptions(target),
    lazyConnect: true,
    connectTimeout: timeoutMs,
    // a server that accepts but does not answer (not Redis, or stuck) must not hang us
    commandTimeout: timeoutMs,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: true,
    retryStrategy: (n) => (Date.now() - started < timeoutMs ? Math.min(50 * n, 500) : null),
  });
  // without a listener, ioredis prints every failed attempt; the last one explains
  let last: unknown;
  const onError = (err: unknown) => {
    last = err;
  };
  client.on("error", onError);
  let info: string;
  try {
    await client.connect();
    info = await client.info("server");
  } catch (err) {
    client.disconnect();
    throw unreachable(target, last ?? err);
  }
  client.off("error", onError);
  client.on("error", () => {});
  const version = /^redis_version:(\S+)/m.exec(info)?.[1] ?? "0";
  if (isOlder(version, MIN_REDIS_VERSION)) {
    client.disconnect();
    throw new AiorchError(
      "REDIS_VERSION",
      `Redis at ${target.display} is version ${version}; BullMQ needs ${MIN_REDIS_VERSION} or newer`,
      { url: target.display, version },
    );
  }
  // from now on: keep retrying, the watcher decides when it has been down too long
  client.options.retryStrategy = (n) => Math.min(100 * n, 1000);
  client.options.maxRetriesPerRequest = null;
  delete client.options.commandTimeout;
  return client;
}

/** The error for a Redis that does not answer. */
export function unreachable(target: RedisTarget, cause?: unknown): AiorchError {
  const why =
    cause instanceof Error && cause.message
      ? ` (${cause.message.replace(/redis:\/\/\S+/g, "")})`
      : "";
  return new AiorchError("REDIS_UNREACHABLE", `Redis at ${target.display} is unreachable${why}`, {
    url: target.display,
    ...(cause === undefined ? {} : { cause }),
  });
}
