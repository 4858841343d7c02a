/**
 * Key loading, lazy and asynchronous (never a prompt in a constructor, fixes B30):
 * explicit key files, else the agent, else `~/.ssh/id_ed25519`, `id_ecdsa`, `id_rsa`.
 * Encrypted keys are opened with the `passphrase` option (a string or a callback).
 */
import { createHash, createPrivateKey, sign as cryptoSign } from "node:crypto";
import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import ssh2, { type AnyAuthMethod, type ParsedKey } from "ssh2";
import { SshAuthError } from "./errors.ts";

// ssh2 is CommonJS: `utils` is not a named export under Node ESM
const { utils } = ssh2;

/**
 * Parsed keys by file, reused while the file's bytes (and the passphrase) are the same:
 * 100 nodes sharing a key file parse it once, and an encrypted key's KDF runs once, not
 * once per connection. Files are still read at each load, so a changed file is parsed again.
 * Forgotten 30 s after the last use: decrypted keys do not stay in memory for good.
 */
const parsedKeys = new Map<string, { data: Buffer; phrase: string; key: ParsedKey }>();
const KEEP_KEYS_MS = 30_000;
/**
 * Key parses done (not served from the cache), for tests: `parsed` counts keys parsed and
 * stored, `decryptions` every decryption tried with a passphrase (failed ones included).
 * @internal
 */
export const keyParseStats = { parsed: 0, decryptions: 0 };
let forget: NodeJS.Timeout | undefined;

function keepKeys(): void {
  if (forget) forget.refresh();
  else {
    forget = setTimeout(() => {
      parsedKeys.clear();
      forget = undefined;
    }, KEEP_KEYS_MS);
    forget.unref();
  }
}

function cachedKey(path: string, data: Buffer, phrase: string): ParsedKey | undefined {
  const hit = parsedKeys.get(path);
  if (!hit || hit.phrase !== phrase || !hit.data.equals(data)) return undefined;
  keepKeys();
  return hit.key;
}

function cacheKey(path: string, data: Buffer, phrase: string, key: ParsedKey): ParsedKey {
  keyParseStats.parsed++;
  const fast = withFastSign(key);
  if (parsedKeys.size >= 32 && !parsedKeys.has(path)) parsedKeys.clear();
  parsedKeys.set(path, { data, phrase, key: fast });
  keepKeys();
  return fast;
}

/** A passphrase as a cache tag (its hash, never the passphrase itself). */
function phraseTag(phrase: string | undefined): string {
  return phrase === undefined ? "" : createHash("sha256").update(phrase).digest("hex");
}

/**
 * ssh2 signs with the key's PEM text, parsing it again at each signature (~0.3 ms, once per
 * connection); sign with a key object parsed once instead, with the same algorithms. Keys
 * whose algorithm ssh2 would pick itself (no hash given, not Ed25519) keep ssh2's method.
 */
function withFastSign(key: ParsedKey): ParsedKey {
  const pem = key.getPrivatePEM();
  let keyObject: ReturnType<typeof createPrivateKey>;
  try {
    keyObject = createPrivateKey(pem);
  } catch {
    return key;
  }
  const original = key.sign;
  const ed25519 = key.type === "ssh-ed25519";
  Object.defineProperty(key, "sign", {
    configurable: true,
    value: function sign(this: ParsedKey, data: Buffer, algo?: string): Buffer | Error {
      if (!ed25519 && (typeof algo !== "string" || algo === ""))
        return original.call(this, data, algo);
      try {
        return cryptoSign(ed25519 && !algo ? null : (algo as string), data, keyObject);
      } catch (err) {
        return err as Error;
      }
    },
  });
  return key;
}

/** A passphrase, or a function returning one for a given key file. */
export type Passphrase = string | ((keyPath: string) => string | Promise<string>);

/** Where keys come from, as given to SshNode. */
export interface KeySource {
  keys?: readonly string[] | undefined;
  passphrase?: Passphrase | undefined;
  /** agent socket path, or false to not use one */
  agent?: string | false | undefined;
  /** ssh_config `IdentityFile`s: tried after the agent, skipped when missing (as OpenSSH) */
  configKeys?: readonly string[] | undefined;
  /** password authentication, tried last */
  password?: string | undefined;
}

/** Default private key files, in the order OpenSSH tries them. */
export function defaultKeyFiles(): string[] {
  const dir = join(homedir(), ".ssh");
  return ["id_ed25519", "id_ecdsa", "id_rsa"].map((f) => join(dir, f));
}

async function loadKey(
  path: string,
  passphrase: Passphrase | undefined,
  explicit: boolean,
): Promise<ParsedKey | undefined> {
  let data: Buffer;
  try {
    data = await readFile(path);
  } catch (err) {
    if (!explicit) return undefined;
    throw new SshAuthError(
      `cannot read key file ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
      {
        file: path,
      },
    );
  }
  const plain = cachedKey(path, data, "");
  if (plain) return plain;
  let phrase: string | undefined;
  let parsed = utils.parseKey(data);
  if (parsed instanceof Error && /encrypted|passphrase/i.test(parsed.message)) {
    if (passphrase === undefined)
      throw new SshAuthError(`key file ${path} is encrypted: give the passphrase option`, {
        file: path,
      });
    phrase = typeof passphrase === "function" ? await passphrase(path) : passphrase;
    const decrypted = cachedKey(path, data, phraseTag(phrase));
    if (decrypted) return decrypted;
    keyParseStats.decryptions++;
    parsed = utils.parseKey(data, phrase);
    if (parsed instanceof Error)
      throw new SshAuthError(`wrong passphrase for key file ${path}`, { file: path });
  }
  if (parsed instanceof Error) {
    if (!explicit) return undefined;
    throw new SshAuthError(`cannot parse key file ${path}: ${parsed.message}`, { file: path });
  }
  const key = Array.isArray(parsed) ? (parsed[0] as ParsedKey | undefined) : parsed;
  if (!key?.isPrivateKey()) {
    if (!explicit) return undefined;
    throw new SshAuthError(`key file ${path} holds no private key`, { file: path });
  }
  return cacheKey(path, data, phraseTag(phrase), key);
}

/**
 * Authentication methods to try, in order. Throws {@link SshAuthError} for an unreadable,
 * unparsable or undecryptable explicit key, or when there is nothing to try.
 */
export async function loadAuthMethods(
  source: KeySource,
  username: string,
): Promise<AnyAuthMethod[]> {
  const methods: AnyAuthMethod[] = [];
  if (source.keys && source.keys.length > 0) {
    for (const path of source.keys) {
      const key = await loadKey(path, source.passphrase, true);
      if (key) methods.push({ type: "publickey", username, key });
    }
    if (source.password !== undefined)
      methods.push({ type: "password", username, password: source.password });
    return methods;
  }
  const agent = source.agent === undefined ? process.env.SSH_AUTH_SOCK : source.agent;
  if (agent) methods.push({ type: "agent", username, agent });
  for (const path of source.configKeys ?? defaultKeyFiles()) {
    try {
      const key = await loadKey(path, source.passphrase, false);
      if (key) methods.push({ type: "publickey", username, key });
    } catch {
      // a default key we cannot open is skipped, as OpenSSH does without a tty
    }
  }
  if (source.password !== undefined)
    methods.push({ type: "password", username, password: source.password });
  if (methods.length === 0)
    throw new SshAuthError("no SSH key: give keys, run an agent, or create ~/.ssh/id_ed25519", {});
  return methods;
}
