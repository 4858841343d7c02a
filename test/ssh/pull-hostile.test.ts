/**
 * A remote host must not be able to write outside the pull destination: a hostile SFTP
 * server (ssh2's Server on loopback) answers `readdir` with `../` names, `/`, NUL, empty
 * names and symlinks out of the tree; pulls fail that host with a FILE error naming the
 * host and the name, and nothing is written outside the destination.
 */
import {
  existsSync,
  lstatSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AiorchError } from "../../src/errors.ts";
import { SshNode } from "../../src/ssh/index.ts";
import { aiorchAs } from "./helpers.ts";
import { type HostileServer, startHostileSftp, writeKnownHosts } from "./hostile-sftp.ts";
import { createKeys, removeKeys, type SshKeys } from "./sshd.ts";

let keys: SshKeys;
let server: HostileServer;
let work: string;
let knownHosts: string;
const ADDRESS = "127.0.0.9";

beforeAll(async () => {
  keys = createKeys();
  work = mkdtempSync(join(tmpdir(), "aiorch-hostile-"));
  // the escape target: DEST is work/dest/{host}/, four levels up is outside `work`
  const up = relative(join(work, "dest", "h", "d"), join(work, "outside.txt"));
  const file = (s: string) => ({ type: "file" as const, data: Buffer.from(s) });
  server = await startHostileSftp({
    address: ADDRESS,
    keys,
    // any other path reads as this: a client following the hostile names would write it
    fallback: Buffer.from("pwned\n"),
    tree: {
      "/d": { type: "dir", names: ["ok.txt", up] },
      "/d/ok.txt": file("ok\n"),
      "/slash": { type: "dir", names: ["a/b"] },
      "/nul": { type: "dir", names: ["a\0b"] },
      "/empty": { type: "dir", names: [""] },
      "/e": { type: "dir", names: ["a.txt", "link", "sub"] },
      "/e/a.txt": file("a\n"),
      "/e/link": { type: "link", target: "/etc" },
      "/e/sub": { type: "dir", names: ["b.txt"] },
      "/e/sub/b.txt": file("b\n"),
    },
  });
  knownHosts = writeKnownHosts({ server, keys, dir: work });
});

afterAll(async () => {
  await server?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
  if (keys) removeKeys(keys);
});

function node(): SshNode {
  return new SshNode({
    host: ADDRESS,
    port: server.port,
    user: "anyone",
    keys: [keys.clientKey.path],
    knownHosts,
    agent: false,
    connectTimeout: 10_000,
  });
}

const cli = (args: string[]) =>
  aiorchAs({ user: "anyone", key: keys.clientKey.path, knownHosts }, args);

/** Every file under `dir`, relative. */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: "utf8" }).sort();
}

describe("pull from a hostile SFTP server", () => {
  it("refuses a readdir name climbing out of the destination (CLI: host failed, nothing written)", async () => {
    const dest = join(work, "dest");
    const r = await cli([
      "pull",
      "-t",
      `${ADDRESS}:${server.port}`,
      "@:/d/",
      join(dest, "{host}", "d/"),
    ]);
    expect(r.code).toBe(1);
    expect(existsSync(join(work, "outside.txt"))).toBe(false);
    expect(r.stderr).toContain("1 hosts: 0 ok, 1 failed");
    expect(r.stderr).toContain(`listed a name with "/" in /d`);
    expect(r.stderr).toContain("../");
    // the listing is checked before any of it is written
    expect(filesUnder(dest).filter((f) => f.endsWith(".txt"))).toEqual([]);
  });

  it.each([
    ["/slash", 'a name with "/"'],
    ["/nul", "a name with a NUL byte"],
    ["/empty", "an empty name"],
  ])("refuses %s with a FILE error naming host and name", async (dir, why) => {
    const n = node();
    const dest = join(work, `lib${dir}`);
    try {
      const err = await n.pull({ remotes: [`${dir}/`], local: `${dest}/` }).catch((e) => e);
      expect(err).toBeInstanceOf(AiorchError);
      expect((err as AiorchError).code).toBe("FILE");
      expect((err as AiorchError).host).toBe(ADDRESS);
      expect((err as AiorchError).message).toContain(why);
      expect((err as AiorchError).message).toContain(`anyone@${ADDRESS}`);
    } finally {
      await n.close();
    }
    expect(filesUnder(dest)).toEqual([]);
  });

  it("skips symlinks (never followed) and drops setuid bits of pulled files", async () => {
    const n = node();
    const dest = join(work, "tree");
    try {
      expect(await n.pull({ remotes: ["/e"], local: `${dest}/` })).toBe(2);
    } finally {
      await n.close();
    }
    expect(filesUnder(dest)).toEqual([
      "e",
      join("e", "a.txt"),
      join("e", "sub"),
      join("e", "sub", "b.txt"),
    ]);
    expect(readFileSync(join(dest, "e", "sub", "b.txt"), "utf8")).toBe("b\n");
    expect(existsSync(join(dest, "e", "link"))).toBe(false);
    expect(lstatSync(join(dest, "e", "a.txt")).isFile()).toBe(true);
    expect(statSync(join(dest, "e", "a.txt")).mode & 0o7000).toBe(0);
    expect(server.opened.filter((p) => p.startsWith("/e")).sort()).toEqual([
      "/e/a.txt",
      "/e/sub/b.txt",
    ]);
  });

  it("refuses several hosts pulled into one path without {host}: exit 2 before any transfer", async () => {
    const before = server.opened.length;
    const r = await cli([
      "pull",
      "-t",
      `${ADDRESS}:${server.port},127.0.0.10:${server.port}`,
      "@:/e/a.txt",
      join(work, "same", "a.txt"),
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("put {host} in the local path");
    expect(r.stderr).not.toContain("    at ");
    expect(server.opened.length).toBe(before);
    expect(existsSync(join(work, "same"))).toBe(false);
  });
});
