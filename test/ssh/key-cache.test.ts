/**
 * The parsed-key cache of src/ssh/keys.ts against a real sshd: a changed key file is parsed
 * again, passphrases never share a cache entry, failures are not remembered, nodes sharing a
 * key file parse it once, and a passphrase never shows in an error.
 */
import { execFileSync } from "node:child_process";
import {
  appendFileSync,
  copyFileSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { inspect } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { describeError } from "../../src/errors.ts";
import { SshAuthError, SshJob, type SshNode } from "../../src/ssh/index.ts";
import { keyParseStats } from "../../src/ssh/keys.ts";
import { nodeOn, runJobs } from "./helpers.ts";
import { type Sshd, startSshd } from "./sshd.ts";

const PHRASE = "Right-Phrase-7f3a";
const WRONG = "Wrong-Phrase-91c2";

let sshd: Sshd;
let dir: string;
/** an encrypted key (bcrypt KDF, few rounds: fast), authorized on the server */
let encrypted: string;

beforeAll(async () => {
  sshd = await startSshd({ addresses: ["127.0.0.2"] });
  dir = mkdtempSync(join(sshd.keys.dir, "cache-"));
  encrypted = join(dir, "enc_ed25519");
  execFileSync(
    "ssh-keygen",
    ["-q", "-t", "ed25519", "-a", "4", "-N", PHRASE, "-C", "enc", "-f", encrypted],
    { stdio: "ignore" },
  );
  appendFileSync(
    join(sshd.keys.dir, "authorized_keys"),
    `${readFileSync(`${encrypted}.pub`, "utf8")}`,
  );
});

afterAll(async () => {
  await sshd?.stop();
});

/** Connect every node (one job each, in one run); the error of each failed job. */
async function connectAll(...nodes: SshNode[]): Promise<unknown[]> {
  const jobs = nodes.map((n, i) => new SshJob(n, "true", { label: `c${i}`, critical: false }));
  await runJobs(jobs);
  return jobs.map((j) => j.raisedException());
}

/** Replace a file the way editors and key rotation do: write aside, rename over. */
function replaceFile(path: string, from: string): void {
  writeFileSync(`${path}.new`, readFileSync(from), { mode: 0o600 });
  renameSync(`${path}.new`, path);
}

describe("parsed key cache", () => {
  it("parses a replaced key file again and uses the new key", async () => {
    const key = join(dir, "swap_ed25519");
    copyFileSync(sshd.keys.clientKey.path, key);
    const node = () => nodeOn(sshd, "127.0.0.2", { keys: [key] });
    const parsed0 = keyParseStats.parsed;
    const accepted0 = sshd.accepted();

    expect(await connectAll(node())).toEqual([undefined]);
    expect(keyParseStats.parsed).toBe(parsed0 + 1);

    // unauthorized key under the same path: a stale cache entry would still log in
    replaceFile(key, sshd.keys.wrongKey.path);
    const [denied] = await connectAll(node());
    expect(denied).toBeInstanceOf(SshAuthError);
    expect((denied as SshAuthError).code).toBe("SSH_AUTH");
    expect(keyParseStats.parsed).toBe(parsed0 + 2);

    // and back (overwritten in place this time): authorized again
    writeFileSync(key, readFileSync(sshd.keys.clientKey.path));
    expect(await connectAll(node())).toEqual([undefined]);
    expect(keyParseStats.parsed).toBe(parsed0 + 3);
    expect(sshd.accepted()).toBe(accepted0 + 2);
  });

  it("parses a key file shared by two nodes once, and reuses it in a later run", async () => {
    const key = join(dir, "shared_ed25519");
    copyFileSync(sshd.keys.clientKey.path, key);
    const parsed0 = keyParseStats.parsed;
    const accepted0 = sshd.accepted();
    const a = nodeOn(sshd, "127.0.0.2", { keys: [key] });
    const b = nodeOn(sshd, "127.0.0.2", { keys: [key] });
    expect(await connectAll(a, b)).toEqual([undefined, undefined]);
    expect(sshd.accepted()).toBe(accepted0 + 2);
    expect(keyParseStats.parsed).toBe(parsed0 + 1);
    // a later run (both nodes reconnect) reuses it too: the file is read, not parsed
    expect(await connectAll(a, b)).toEqual([undefined, undefined]);
    expect(keyParseStats.parsed).toBe(parsed0 + 1);
  });

  it("decrypts an encrypted key once for two nodes, asking each node's callback once", async () => {
    const key = join(dir, "enc_shared");
    copyFileSync(encrypted, key);
    const asked: string[] = [];
    const passphrase = (path: string) => {
      asked.push(path);
      return PHRASE;
    };
    const decryptions0 = keyParseStats.decryptions;
    const a = nodeOn(sshd, "127.0.0.2", { keys: [key], passphrase });
    const b = nodeOn(sshd, "127.0.0.2", { keys: [key], passphrase });
    expect(await connectAll(a, b)).toEqual([undefined, undefined]);
    expect(asked).toEqual([key, key]);
    expect(keyParseStats.decryptions).toBe(decryptions0 + 1);
  });

  it("never serves a key decrypted with another passphrase, and never remembers a failure", async () => {
    const key = join(dir, "enc_phrases");
    copyFileSync(encrypted, key);
    const node = (passphrase: string) => nodeOn(sshd, "127.0.0.2", { keys: [key], passphrase });
    const d0 = keyParseStats.decryptions;

    // wrong first (cold cache): fails; the right one then works
    const [first] = await connectAll(node(WRONG));
    expect(first).toBeInstanceOf(SshAuthError);
    expect((first as SshAuthError).code).toBe("SSH_AUTH");
    expect((first as SshAuthError).message).toBe(`wrong passphrase for key file ${key}`);
    expect(await connectAll(node(PHRASE))).toEqual([undefined]);
    expect(keyParseStats.decryptions).toBe(d0 + 2);

    // the right key is cached now: a wrong passphrase must still fail (tried, not served)
    const [second] = await connectAll(node(WRONG));
    expect(second).toBeInstanceOf(SshAuthError);
    expect(keyParseStats.decryptions).toBe(d0 + 3);
    // …and did not evict or poison the entry: the right one is served without decrypting
    expect(await connectAll(node(PHRASE))).toEqual([undefined]);
    expect(keyParseStats.decryptions).toBe(d0 + 3);

    // no passphrase at all: refused before any decryption
    const [none] = await connectAll(nodeOn(sshd, "127.0.0.2", { keys: [key] }));
    expect(none).toBeInstanceOf(SshAuthError);
    expect((none as SshAuthError).message).toContain("is encrypted: give the passphrase option");
    expect(keyParseStats.decryptions).toBe(d0 + 3);

    // neither passphrase appears anywhere in the errors (message, stack, fields, cause)
    for (const err of [first, second, none]) {
      const text = [
        String(err),
        describeError(err),
        (err as Error).stack ?? "",
        inspect(err, { depth: 10, showHidden: true }),
        JSON.stringify(err),
      ].join("\n");
      expect(text).not.toContain(PHRASE);
      expect(text).not.toContain(WRONG);
    }
    expect(JSON.stringify(node(PHRASE).describe())).not.toContain(PHRASE);
  });

  it("an unreadable key file fails with SSH_AUTH, then works once it is back", async () => {
    const key = join(dir, "gone_ed25519");
    const [missing] = await connectAll(nodeOn(sshd, "127.0.0.2", { keys: [key] }));
    expect(missing).toBeInstanceOf(SshAuthError);
    expect((missing as SshAuthError).message).toBe(`cannot read key file ${key}: ENOENT`);
    copyFileSync(sshd.keys.clientKey.path, key);
    expect(await connectAll(nodeOn(sshd, "127.0.0.2", { keys: [key] }))).toEqual([undefined]);
    rmSync(key);
    const [again] = await connectAll(nodeOn(sshd, "127.0.0.2", { keys: [key] }));
    expect(again).toBeInstanceOf(SshAuthError);
  });
});
