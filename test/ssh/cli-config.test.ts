/**
 * `aiorch ssh -F cfg` end to end: targets that exist only as ssh_config aliases (HostName,
 * Port, User, IdentityFile, ProxyJump through the alias of another loopback sshd) answer,
 * each line prefixed by its alias; `-p` gives the port of targets naming none.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { aiorchCli } from "./helpers.ts";
import { knownHostsLine, type Sshd, startSshd } from "./sshd.ts";

let gw: Sshd;
let inner: Sshd;
let work: string;
let cfg: string;

beforeAll(async () => {
  gw = await startSshd({ addresses: ["127.0.0.6"] });
  inner = await startSshd({ addresses: ["127.0.0.7", "127.0.0.8"], keys: gw.keys });
  work = mkdtempSync(join(tmpdir(), "aiorch-cli-config-"));
  const kh = join(work, "known_hosts");
  writeFileSync(
    kh,
    `${knownHostsLine(gw.addresses, gw.port, gw.keys)}\n${knownHostsLine(inner.addresses, inner.port, gw.keys)}\n`,
  );
  cfg = join(work, "ssh_config");
  writeFileSync(
    cfg,
    `Host gwalias
  HostName 127.0.0.6
  Port ${gw.port}
Host nodeA
  HostName 127.0.0.7
Host nodeB
  HostName 127.0.0.8
Host node? !gwalias
  Port ${inner.port}
  ProxyJump gwalias
Host *
  User ${gw.user}
  IdentityFile ${gw.keys.clientKey.path}
  IdentitiesOnly yes
  UserKnownHostsFile ${kh}
`,
  );
});

afterAll(async () => {
  await Promise.all([gw?.stop(), inner?.stop()]);
  if (work) rmSync(work, { recursive: true, force: true });
});

function aiorch(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile("node", ["bin/aiorch.mjs", ...args], { encoding: "utf8" }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe("aiorch ssh -F", () => {
  it("reaches aliases through HostName, Port, User, IdentityFile and ProxyJump", async () => {
    const gwBefore = gw.accepted("127.0.0.6");
    const r = await aiorch(["ssh", "-F", cfg, "-t", "nodeA,nodeB", "--", "hostname"]);
    expect(r.stderr).toContain("2 hosts: 2 ok, 0 failed, 0 unreachable");
    // the summary names each host by its alias, as its output lines do, with its jump host
    expect(r.stderr).toMatch(/^ {2}nodeA \(via [^)]+\) +ok$/m);
    expect(r.stderr).toMatch(/^ {2}nodeB \(via [^)]+\) +ok$/m);
    expect(r.code).toBe(0);
    expect(r.stdout.split("\n").filter(Boolean).sort()).toEqual([
      `nodeA:${hostname()}`,
      `nodeB:${hostname()}`,
    ]);
    // one shared connection to the jump host, one per node behind it
    expect(gw.accepted("127.0.0.6")).toBe(gwBefore + 1);
    expect(inner.accepted("127.0.0.7")).toBeGreaterThanOrEqual(1);
    expect(inner.accepted("127.0.0.8")).toBeGreaterThanOrEqual(1);
  });

  it("--dry-run shows what the aliases resolved to", async () => {
    const r = await aiorch(["ssh", "-F", cfg, "-t", "nodeA", "-n", "true"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      `${gw.user}@127.0.0.6:${gw.port}->${gw.user}@127.0.0.7:${inner.port}`,
    );
  });

  it("-p gives the port of targets naming none; -F none reads no file", async () => {
    const r = await aiorchCli(inner, [
      "ssh",
      "-F",
      "none",
      "-p",
      String(inner.port),
      "-t",
      "127.0.0.7",
      "echo",
      "p",
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`127.0.0.7:${inner.port}:p\n`);
    const bad = await aiorch(["ssh", "-p", "70000", "-t", "127.0.0.7", "true"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--port expects 1-65535");
  });

  it("an ssh_config error names file and line, exit 2", async () => {
    const broken = join(work, "broken");
    writeFileSync(broken, "Host *\n  Port none\n");
    const r = await aiorch(["ssh", "-F", broken, "-t", "x", "true"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${broken}:2: port expects a number 1-65535`);
  });
});
