/**
 * OpenSSH `known_hosts` handling: plain and hashed (`|1|salt|hash`) names, `[host]:port`,
 * comma lists, `*`/`?` wildcards, `!` negation, `@revoked` (`@cert-authority` lines are
 * ignored). Keys are compared as raw blobs.
 */
import { createHash, createHmac } from "node:crypto";
import { appendFile, mkdir, readFile } from "node:fs/promises";
import { dirname } from "node:path";

/** One usable line of a known_hosts file. */
export interface KnownHostEntry {
  marker: "" | "@revoked";
  patterns: string;
  type: string;
  key: Buffer;
}

/** Outcome of checking a server's key. */
export type HostKeyCheck =
  | { status: "ok" }
  | { status: "unknown" }
  | { status: "changed"; expected: string }
  | { status: "revoked" };

/** The last parse of each file, reused while its text is the same (one parse per run, not per host). */
const parsedFiles = new Map<string, { text: string; entries: KnownHostEntry[] }>();

/** Parse a known_hosts file; a missing file is empty. The entries must not be modified. */
export async function readKnownHosts(path: string): Promise<KnownHostEntry[]> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
  const hit = parsedFiles.get(path);
  if (hit?.text === text) return hit.entries;
  const entries = parseKnownHosts(text);
  if (parsedFiles.size >= 16 && !hit) parsedFiles.clear();
  parsedFiles.set(path, { text, entries });
  return entries;
}

/** Parse known_hosts text. */
export function parseKnownHosts(text: string): KnownHostEntry[] {
  const out: KnownHostEntry[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const fields = line.split(/\s+/);
    let marker: KnownHostEntry["marker"] = "";
    if (fields[0]?.startsWith("@")) {
      if (fields[0] !== "@revoked") continue; // @cert-authority: certificates are not supported
      marker = "@revoked";
      fields.shift();
    }
    const [patterns, type, b64] = fields;
    if (!patterns || !type || !b64) continue;
    out.push({ marker, patterns, type, key: Buffer.from(b64, "base64") });
  }
  return out;
}

/** The name under which OpenSSH records a host: `host` on port 22, else `[host]:port`. */
export function knownHostName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

function globToRegExp(glob: string): RegExp {
  const body = glob
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replaceAll("*", ".*")
    .replaceAll("?", ".");
  return new RegExp(`^${body}$`, "i");
}

function matchesOne(pattern: string, name: string): boolean {
  if (pattern.startsWith("|1|")) {
    const [, , salt, hash] = pattern.split("|");
    if (!salt || !hash) return false;
    const mac = createHmac("sha1", Buffer.from(salt, "base64")).update(name).digest("base64");
    return mac === hash;
  }
  return pattern.includes("*") || pattern.includes("?")
    ? globToRegExp(pattern).test(name)
    : pattern.toLowerCase() === name.toLowerCase();
}

/** Whether an entry's host patterns apply to `name` (a negated match excludes). */
export function entryMatches(patterns: string, name: string): boolean {
  let matched = false;
  for (const p of patterns.split(",")) {
    if (p.startsWith("!")) {
      if (matchesOne(p.slice(1), name)) return false;
    } else if (matchesOne(p, name)) matched = true;
  }
  return matched;
}

/** Key type written inside a key blob (`ssh-ed25519`…). */
export function keyBlobType(key: Buffer): string {
  if (key.length < 4) return "";
  const len = key.readUInt32BE(0);
  return key.toString("latin1", 4, 4 + len);
}

/** OpenSSH-style fingerprint, `SHA256:…`. */
export function fingerprint(key: Buffer): string {
  return `SHA256:${createHash("sha256").update(key).digest("base64").replace(/=+$/, "")}`;
}

/** Check a server key against the entries for `host`/`port`. */
export function checkHostKey(
  entries: readonly KnownHostEntry[],
  host: string,
  port: number,
  key: Buffer,
): HostKeyCheck {
  const name = knownHostName(host, port);
  const type = keyBlobType(key);
  const mine = entries.filter((e) => entryMatches(e.patterns, name));
  if (mine.some((e) => e.marker === "@revoked" && e.key.equals(key))) return { status: "revoked" };
  const valid = mine.filter((e) => e.marker === "");
  if (valid.some((e) => e.key.equals(key))) return { status: "ok" };
  const sameType = valid.find((e) => e.type === type);
  if (sameType) return { status: "changed", expected: fingerprint(sameType.key) };
  return { status: "unknown" };
}

/** Key types recorded for a host, to negotiate one of them first (as OpenSSH does). */
export function knownKeyTypes(
  entries: readonly KnownHostEntry[],
  host: string,
  port: number,
): string[] {
  const name = knownHostName(host, port);
  const types = new Set<string>();
  for (const e of entries) if (e.marker === "" && entryMatches(e.patterns, name)) types.add(e.type);
  return [...types];
}

/** Record a new host key (accept-new). */
export async function appendKnownHost(
  path: string,
  host: string,
  port: number,
  key: Buffer,
): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await appendFile(
    path,
    `${knownHostName(host, port)} ${keyBlobType(key)} ${key.toString("base64")}\n`,
    {
      mode: 0o600,
    },
  );
}

/** Host key algorithms to offer first for recorded key types. */
export function algorithmsForKeyTypes(types: readonly string[]): string[] {
  const out: string[] = [];
  for (const t of types) {
    if (t === "ssh-rsa") out.push("rsa-sha2-512", "rsa-sha2-256", "ssh-rsa");
    else if (t === "ssh-ed25519" || t.startsWith("ecdsa-sha2-")) out.push(t);
  }
  return out;
}
