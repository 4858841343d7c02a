/**
 * CLI target syntax: `[user@]host[:port]`, gateway chains `gw->host` (or `gw→host`, any
 * depth, `None->host` forces a direct connection), `[v6addr]:port`; target arguments are
 * files of hosts, directories (each file name is a host), or comma/space separated lists.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { isIPv6 } from "node:net";
import { AiorchError } from "../errors.ts";

/** One hop as written. */
export interface HopSpec {
  user?: string;
  host: string;
  port?: number;
}

/** A target: the host and the hops before it (`null` = forced direct, undefined = default). */
export interface TargetSpec extends HopSpec {
  gateways?: HopSpec[] | null;
}

function usage(msg: string): AiorchError {
  return new AiorchError("USAGE", msg);
}

/** Parse `[user@]host[:port]`. */
export function parseHop(text: string): HopSpec {
  const t = text.trim();
  const at = t.lastIndexOf("@");
  const user = at > 0 ? t.slice(0, at) : undefined;
  let rest = at >= 0 ? t.slice(at + 1) : t;
  let port: number | undefined;
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(rest);
  if (v6) {
    rest = v6[1] as string;
    if (v6[2]) port = Number(v6[2]);
  } else {
    const m = /^([^:]+):(\d+)$/.exec(rest);
    if (m) {
      rest = m[1] as string;
      port = Number(m[2]);
    }
  }
  if (rest === "" || /[\s/]/.test(rest)) throw usage(`invalid target ${JSON.stringify(text)}`);
  if (/[[\]]/.test(rest))
    throw usage(
      `invalid target ${JSON.stringify(text)}: write IPv6 addresses as [addr] or [addr]:port`,
    );
  if (rest.includes(":") && !isIPv6(rest))
    throw usage(
      `invalid target ${JSON.stringify(text)}: expected [user@]host[:port] with a numeric port`,
    );
  if (port !== undefined && (port < 1 || port > 65535))
    throw usage(`invalid port in target ${JSON.stringify(text)}`);
  return { ...(user ? { user } : {}), host: rest, ...(port !== undefined ? { port } : {}) };
}

/** Parse one target token, with its gateway chain. */
export function parseTarget(token: string): TargetSpec {
  const parts = token.split(/->|→/).map((p) => p.trim());
  if (parts.some((p) => p === "")) throw usage(`invalid target ${JSON.stringify(token)}`);
  const last = parseHop(parts[parts.length - 1] as string);
  if (parts.length === 1) return last;
  const hops = parts.slice(0, -1);
  if (hops.length === 1 && hops[0]?.toLowerCase() === "none") return { ...last, gateways: null };
  return { ...last, gateways: hops.map(parseHop) };
}

/** Split a list on whitespace and commas; `#` starts a comment line. */
export function splitTokens(text: string): string[] {
  return text
    .split("\n")
    .filter((l) => !l.trim().startsWith("#"))
    .join(" ")
    .split(/[\s,]+/)
    .filter((t) => t !== "");
}

/** Expand one `-t`/`-x` argument: a file of hosts, a directory of host files, or a list. */
export function expandTargetArg(arg: string): string[] {
  let st: ReturnType<typeof statSync> | undefined;
  try {
    st = arg.includes("->") || arg.includes("→") ? undefined : statSync(arg);
  } catch {
    st = undefined;
  }
  if (st?.isDirectory())
    return readdirSync(arg, { withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => e.name)
      .sort();
  if (st?.isFile()) return splitTokens(readFileSync(arg, "utf8"));
  return splitTokens(arg);
}

/** Resolve `-t` and `-x` arguments to target specs; excludes match host (and user/port if given). */
export function resolveTargets(opts: {
  targets: readonly string[];
  excludes?: readonly string[];
}): {
  targets: TargetSpec[];
  excluded: TargetSpec[];
} {
  const all = opts.targets.flatMap(expandTargetArg).map(parseTarget);
  const ex = (opts.excludes ?? []).flatMap(expandTargetArg).map(parseTarget);
  const matches = (t: TargetSpec, x: TargetSpec) =>
    t.host === x.host &&
    (x.user === undefined || x.user === t.user) &&
    (x.port === undefined || x.port === t.port);
  const seen = new Set<string>();
  const targets: TargetSpec[] = [];
  const excluded: TargetSpec[] = [];
  for (const t of all) {
    if (ex.some((x) => matches(t, x))) {
      excluded.push(t);
      continue;
    }
    const key = formatTarget(t);
    if (seen.has(key)) continue;
    seen.add(key);
    targets.push(t);
  }
  return { targets, excluded };
}

/** Back to text: `gw->user@host:port`. */
export function formatTarget(t: TargetSpec): string {
  const hop = (h: HopSpec) =>
    `${h.user ? `${h.user}@` : ""}${h.host.includes(":") ? `[${h.host}]` : h.host}${h.port ? `:${h.port}` : ""}`;
  const gws =
    t.gateways === null ? "None->" : (t.gateways ?? []).map((g) => `${hop(g)}->`).join("");
  return gws + hop(t);
}
