/**
 * Resolving a host through OpenSSH client configuration, as `ssh` does: entries in file
 * order, a `Host`/`Match` block applies when it matches, the first value of a keyword wins
 * (`IdentityFile` accumulates), values given on the command line (user, port) win over the
 * files. `ssh -G` is the oracle (test/ssh/config-oracle.test.ts).
 */
import { homedir, userInfo } from "node:os";
import { AiorchError } from "../../errors.ts";
import { matchPatternList } from "./patterns.ts";
import { type Condition, type ConfigEntry, type ConfigKind, readConfigFile } from "./read.ts";
import { expandTokens } from "./tokens.ts";

/** `StrictHostKeyChecking`, normalized (`true`/`false`/`off` read as `yes`/`no`). */
export type StrictHostKeyChecking = "yes" | "no" | "ask" | "accept-new";

/** What the configuration says about one host (unset keywords are absent). */
export interface ResolvedSshConfig {
  /** the host as asked for (the alias) */
  alias: string;
  /** `HostName` expanded (`%h`, `%%`), else the alias; lower-cased as OpenSSH does */
  hostname: string;
  user?: string;
  port?: number;
  /** `IdentityFile` values as written, in order (expand them with {@link expandIdentityFile}) */
  identityFiles: string[];
  identitiesOnly?: boolean;
  /** `ProxyJump` as written (`none` is reported as `"none"`) */
  proxyJump?: string;
  /** `ProxyCommand` as written, reported because aiorch cannot run it */
  proxyCommand?: string;
  /** `UserKnownHostsFile` files, `~` and tokens expanded */
  userKnownHostsFiles?: string[];
  strictHostKeyChecking?: StrictHostKeyChecking;
  /** seconds */
  connectTimeout?: number;
  /** seconds, 0 = off */
  serverAliveInterval?: number;
  serverAliveCountMax?: number;
  /** `file:line` of each keyword's value (first `IdentityFile` for identityfile) */
  sources: Record<string, string>;
  /** true when at least one Host/Match block (other than `Host *`) matched */
  matched: boolean;
}

/** The files to read: `false` none, a path, or the default user + system files. */
export type SshConfigSource = string | false | readonly { file: string; kind: ConfigKind }[];

const MATCH_SUPPORTED = ["all", "host", "originalhost", "user", "localuser"];

function fail(e: ConfigEntry | Condition, msg: string): AiorchError {
  return new AiorchError("SSH_CONFIG", `${e.file}:${e.line}: ${msg}`, {
    file: e.file,
    line: e.line,
  });
}

function yesNo(e: ConfigEntry): boolean {
  const v = (e.args[0] ?? "").toLowerCase();
  if (v === "yes" || v === "true") return true;
  if (v === "no" || v === "false") return false;
  throw fail(e, `${e.keyword} expects yes or no, got ${JSON.stringify(e.args[0])}`);
}

function count(e: ConfigEntry, { min, max }: { min: number; max: number }): number {
  const v = e.args[0] ?? "";
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < min || n > max)
    throw fail(e, `${e.keyword} expects a number ${min}-${max}, got ${JSON.stringify(v)}`);
  return n;
}

function strict(e: ConfigEntry): StrictHostKeyChecking {
  const v = (e.args[0] ?? "").toLowerCase();
  if (v === "yes" || v === "true") return "yes";
  if (v === "no" || v === "false" || v === "off") return "no";
  if (v === "ask" || v === "accept-new") return v;
  throw fail(e, `StrictHostKeyChecking expects yes, accept-new, no or ask, got ${v}`);
}

interface State {
  alias: string;
  given: { user?: string | undefined; port?: number | undefined };
  out: ResolvedSshConfig;
  decided: Map<Condition, boolean>;
}

/** OpenSSH lower-cases host names, except (as `ssh -G` shows) one holding a `%`. */
function lowercaseHost(h: string): string {
  return h.includes("%") ? h : h.toLowerCase();
}

function currentHostname(s: State): string {
  return s.out.hostname;
}

function evaluate(c: Condition, s: State): boolean {
  if (c.kind === "host") return matchPatternList(c.patterns, s.alias);
  let result = true;
  for (const k of c.criteria) {
    if (!result) break; // OpenSSH skips the rest once one fails
    if (!MATCH_SUPPORTED.includes(k.name))
      throw fail(
        c,
        `Match ${k.name} is not supported by aiorch (it supports ${MATCH_SUPPORTED.join(", ")})`,
      );
    const list = (k.arg ?? "").split(",");
    let hit: boolean;
    if (k.name === "all") hit = true;
    else if (k.name === "host")
      hit = matchPatternList(list, currentHostname(s), { lowercase: true });
    else if (k.name === "originalhost") hit = matchPatternList(list, s.alias, { lowercase: true });
    else if (k.name === "user")
      hit = matchPatternList(list, s.given.user ?? s.out.user ?? userInfo().username);
    else hit = matchPatternList(list, userInfo().username);
    result = k.negated ? !hit : hit;
  }
  return result;
}

function applies(e: ConfigEntry, s: State): boolean {
  for (const c of e.when) {
    let ok = s.decided.get(c);
    if (ok === undefined) {
      ok = evaluate(c, s);
      s.decided.set(c, ok);
      if (ok && !(c.kind === "host" && c.patterns.length === 1 && c.patterns[0] === "*"))
        s.out.matched = true;
    }
    if (!ok) return false;
  }
  return true;
}

function apply(e: ConfigEntry, s: State): void {
  const o = s.out;
  const where = `${e.file}:${e.line}`;
  if (e.keyword === "identityfile") {
    for (const f of e.args) if (!o.identityFiles.includes(f)) o.identityFiles.push(f);
    o.sources.identityfile ??= where;
    return;
  }
  if (o.sources[e.keyword] !== undefined) return; // the first value wins
  const first = e.args[0] ?? "";
  switch (e.keyword) {
    case "hostname":
      o.hostname = lowercaseHost(
        expandTokens({ text: first, tokens: { h: s.alias.toLowerCase() }, where }),
      );
      break;
    case "user":
      if (s.given.user !== undefined) return;
      o.user = first;
      break;
    case "port":
      if (s.given.port !== undefined) return;
      o.port = count(e, { min: 1, max: 65535 });
      break;
    case "identitiesonly":
      o.identitiesOnly = yesNo(e);
      break;
    case "proxyjump":
      if (o.sources.proxycommand) return; // whichever comes first wins
      o.proxyJump = first.toLowerCase() === "none" ? "none" : first;
      break;
    case "proxycommand":
      if (o.sources.proxyjump) return;
      o.proxyCommand = e.args.join(" ");
      break;
    case "userknownhostsfile":
      o.userKnownHostsFiles = [...e.args];
      break;
    case "stricthostkeychecking":
      o.strictHostKeyChecking = strict(e);
      break;
    case "connecttimeout":
      if (first.toLowerCase() === "none") break;
      o.connectTimeout = count(e, { min: 0, max: 2 ** 31 });
      break;
    case "serveraliveinterval":
      o.serverAliveInterval = count(e, { min: 0, max: 2 ** 31 });
      break;
    case "serveralivecountmax":
      o.serverAliveCountMax = count(e, { min: 0, max: 2 ** 31 });
      break;
    default:
      return; // keywords aiorch has no use for are left to OpenSSH
  }
  o.sources[e.keyword] = where;
}

function filesOf(source: SshConfigSource): { file: string; kind: ConfigKind }[] {
  if (source === false) return [];
  if (typeof source === "string") return [{ file: source, kind: "user" }];
  return [...source];
}

/**
 * Resolve `host` through OpenSSH client configuration files. `user` and `port`, when
 * given (the command line's `user@` / `-p`), win over the files and feed `Match user`.
 * Throws `SSH_CONFIG` (naming file:line) for a bad value or an unsupported `Match`
 * criterion met while resolving this host.
 *
 * @example
 * ```ts
 * const r = resolveSshConfig({ host: "fit01", source: "/dev/null" });
 * console.log(r.hostname, r.port ?? 22, r.proxyJump ?? "direct");
 * ```
 */
export function resolveSshConfig(opts: {
  host: string;
  user?: string | undefined;
  port?: number | undefined;
  /** @default the user's `~/.ssh/config`, then `/etc/ssh/ssh_config` */
  source?: SshConfigSource | undefined;
}): ResolvedSshConfig {
  const s: State = {
    alias: opts.host,
    given: { user: opts.user, port: opts.port },
    out: {
      alias: opts.host,
      hostname: lowercaseHost(opts.host),
      identityFiles: [],
      sources: {},
      matched: false,
    },
    decided: new Map(),
  };
  const files = filesOf(opts.source ?? defaultSources());
  for (const f of files) for (const e of readConfigFile(f)) if (applies(e, s)) apply(e, s);
  const o = s.out;
  if (o.userKnownHostsFiles) {
    const where = o.sources.userknownhostsfile ?? "";
    o.userKnownHostsFiles = o.userKnownHostsFiles.map((f) =>
      expandPath({ text: f, resolved: o, user: opts.user, port: opts.port, where }),
    );
  }
  if (opts.user !== undefined) o.user = opts.user;
  if (opts.port !== undefined) o.port = opts.port;
  return o;
}

function defaultSources(): { file: string; kind: ConfigKind }[] {
  return [
    { file: `${homedir()}/.ssh/config`, kind: "user" },
    { file: "/etc/ssh/ssh_config", kind: "system" },
  ];
}

/** `~` and the tokens of a path (IdentityFile, UserKnownHostsFile) for a resolved host. */
function expandPath(opts: {
  text: string;
  resolved: ResolvedSshConfig;
  user?: string | undefined;
  port?: number | undefined;
  where: string;
}): string {
  const r = opts.resolved;
  const home = homedir();
  const text =
    opts.text.startsWith("~/") || opts.text === "~" ? home + opts.text.slice(1) : opts.text;
  const local = userInfo();
  return expandTokens({
    text,
    where: opts.where,
    tokens: {
      h: r.hostname,
      n: r.alias,
      p: String(opts.port ?? r.port ?? 22),
      r: opts.user ?? r.user ?? local.username,
      u: local.username,
      d: home,
      i: String(local.uid),
    },
  });
}

/**
 * An `IdentityFile` value as OpenSSH opens it: `~` and `%h %n %p %r %u %d %i %%` expanded
 * for the resolved host.
 */
export function expandIdentityFile(text: string, resolved: ResolvedSshConfig): string {
  return expandPath({ text, resolved, where: resolved.sources.identityfile ?? "" });
}
