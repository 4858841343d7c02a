/**
 * Key loading, lazy and asynchronous (never a prompt in a constructor, fixes B30):
 * explicit key files, else the agent, else `~/.ssh/id_ed25519`, `id_ecdsa`, `id_rsa`.
 * Encrypted keys are opened with the `passphrase` option (a string or a callback).
 */
import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import ssh2, { type AnyAuthMethod, type ParsedKey } from "ssh2";
import { SshAuthError } from "./errors.ts";

// ssh2 is CommonJS: `utils` is not a named export under Node ESM
const { utils } = ssh2;

/** A passphrase, or a function returning one for a given key file. */
export type Passphrase = string | ((keyPath: string) => string | Promise<string>);

/** Where keys come from, as given to SshNode. */
export interface KeySource {
  keys?: readonly string[] | undefined;
  passphrase?: Passphrase | undefined;
  /** agent socket path, or false to not use one */
  agent?: string | false | undefined;
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
  let parsed = utils.parseKey(data);
  if (parsed instanceof Error && /encrypted|passphrase/i.test(parsed.message)) {
    if (passphrase === undefined)
      throw new SshAuthError(`key file ${path} is encrypted: give the passphrase option`, {
        file: path,
      });
    const phrase = typeof passphrase === "function" ? await passphrase(path) : passphrase;
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
  return key;
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
    return methods;
  }
  const agent = source.agent === undefined ? process.env.SSH_AUTH_SOCK : source.agent;
  if (agent) methods.push({ type: "agent", username, agent });
  for (const path of defaultKeyFiles()) {
    try {
      const key = await loadKey(path, source.passphrase, false);
      if (key) methods.push({ type: "publickey", username, key });
    } catch {
      // a default key we cannot open is skipped, as OpenSSH does without a tty
    }
  }
  if (methods.length === 0)
    throw new SshAuthError("no SSH key: give keys, run an agent, or create ~/.ssh/id_ed25519", {});
  return methods;
}
