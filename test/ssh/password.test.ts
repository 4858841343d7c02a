/**
 * `SshNode({ password })`: password authentication (ssh2), against an ssh2 server on
 * loopback that accepts only that password; the password is never shown (messages,
 * description, trace) and a wrong one is an SSH_AUTH error.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AiorchError } from "../../src/errors.ts";
import { SshNode } from "../../src/ssh/index.ts";
import { type HostileServer, startHostileSftp, writeKnownHosts } from "./hostile-sftp.ts";
import { createKeys, removeKeys, type SshKeys } from "./sshd.ts";

const ADDRESS = "127.0.0.11";
const PASSWORD = "pw-canary-93e1d0";
let keys: SshKeys;
let server: HostileServer;
let work: string;
let knownHosts: string;

beforeAll(async () => {
  keys = createKeys();
  work = mkdtempSync(join(tmpdir(), "aiorch-password-"));
  server = await startHostileSftp({
    address: ADDRESS,
    keys,
    password: PASSWORD,
    tree: { "/f.txt": { type: "file", data: Buffer.from("through a password\n") } },
  });
  knownHosts = writeKnownHosts({ server, keys, dir: work });
});

afterAll(async () => {
  await server?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
  if (keys) removeKeys(keys);
});

const node = (password: string) =>
  new SshNode({
    host: ADDRESS,
    port: server.port,
    user: "lab",
    password,
    knownHosts,
    agent: false,
    keys: [],
  });

describe("SshNode({ password })", () => {
  it("logs in with the password; it appears in no description", async () => {
    const n = node(PASSWORD);
    try {
      expect(await n.pull({ remotes: ["/f.txt"], local: join(work, "f.txt") })).toBe(1);
    } finally {
      await n.close();
    }
    expect(readFileSync(join(work, "f.txt"), "utf8")).toBe("through a password\n");
    expect(JSON.stringify(n.describe())).not.toContain(PASSWORD);
    expect(String(n)).not.toContain(PASSWORD);
  });

  it("a wrong password is an SSH_AUTH error that shows no password", async () => {
    const n = node("wrong-password-1");
    try {
      const err = await n.pull({ remotes: ["/f.txt"], local: join(work, "g.txt") }).catch((e) => e);
      expect(err).toBeInstanceOf(AiorchError);
      expect((err as AiorchError).code).toBe("SSH_AUTH");
      const shown = `${(err as Error).message} ${(err as Error).stack} ${JSON.stringify(err)}`;
      expect(shown).not.toContain("wrong-password-1");
      expect(shown).not.toContain(PASSWORD);
    } finally {
      await n.close();
    }
  });

  it("an empty or non-string password is refused loudly", () => {
    expect(() => node("")).toThrow(/password must be a non-empty string/);
  });
});
