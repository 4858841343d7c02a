import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { aiorchCli } from "./helpers.ts";
import { type Sshd, startSshd } from "./sshd.ts";

let sshd: Sshd;
let work: string;

beforeAll(async () => {
  sshd = await startSshd({ addresses: ["127.0.0.2", "127.0.0.3"] });
  work = mkdtempSync(join(tmpdir(), "aiorch-cli-"));
});

afterAll(async () => {
  await sshd?.stop();
});

const aiorch = (args: string[]) => aiorchCli(sshd, args);

describe("aiorch ssh", () => {
  it("runs a command on every target, prefixes lines with the host, exits 0", async () => {
    const t = `127.0.0.2:${sshd.port},127.0.0.3:${sshd.port}`;
    const r = await aiorch(["ssh", "-t", t, "echo", "hi", "{host}"]);
    expect(r.code).toBe(0);
    expect(r.stdout.split("\n").sort()).toEqual([
      "",
      `127.0.0.2:${sshd.port}:hi {host}`,
      `127.0.0.3:${sshd.port}:hi {host}`,
    ]);
    expect(r.stderr).toContain("2 hosts: 2 ok, 0 failed, 0 unreachable");
  });

  it("exits 1 when a command fails, 3 when a host is unreachable, with a per-host summary", async () => {
    const failed = await aiorch([
      "ssh",
      "-t",
      `127.0.0.2:${sshd.port}`,
      "-r",
      "--",
      "echo out; exit 5",
    ]);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toBe("out\n");
    // the summary names hosts as their output lines do
    expect(failed.stderr).toMatch(/^ {2}127\.0\.0\.2:\d+ +failed \(5\)/m);
    const unreachable = await aiorch([
      "ssh",
      "-t",
      `127.0.0.2:${sshd.port}`,
      "-t",
      "127.0.0.3:1",
      "exit 5",
    ]);
    expect(unreachable.code).toBe(3);
    expect(unreachable.stderr).toMatch(
      /^ {2}127\.0\.0\.3:1 +unreachable +cannot connect .*refused/m,
    );
  });

  it("exits 2 on usage errors", async () => {
    expect((await aiorch(["ssh", "echo", "x"])).code).toBe(2);
    expect((await aiorch(["push", "-t", "127.0.0.2", "a", "b"])).code).toBe(2);
    expect((await aiorch(["ssh", "-t", "127.0.0.2", "--host-keys", "maybe", "true"])).code).toBe(2);
  });

  it("reads targets from a file and reaches them through -g", async () => {
    const hosts = join(work, "hosts");
    writeFileSync(hosts, `# lab\n127.0.0.3:${sshd.port}\n`);
    const gwBefore = sshd.accepted("127.0.0.2");
    const r = await aiorch(["ssh", "-g", `127.0.0.2:${sshd.port}`, "-t", hosts, "echo via-gw"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`127.0.0.3:${sshd.port}:via-gw\n`);
    expect(r.stderr).toContain(`127.0.0.3:${sshd.port} (via 127.0.0.2:${sshd.port})  ok`);
    expect(sshd.accepted("127.0.0.2")).toBe(gwBefore + 1);
  });

  it("--dry-run lists targets with gateways and exclusions without connecting", async () => {
    const r = await aiorch([
      "ssh",
      "-n",
      "-t",
      `127.0.0.2:${sshd.port}->127.0.0.3:${sshd.port},127.0.0.9`,
      "-x",
      "127.0.0.9",
      "uptime",
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("1 excluded: 127.0.0.9");
    expect(r.stdout).toContain(
      `aiorchtest@127.0.0.2:${sshd.port}->aiorchtest@127.0.0.3:${sshd.port}`,
    );
    expect(sshd.accepted("127.0.0.9")).toBe(0);
  });

  it("-o DIR writes per-host files and --mark records outcomes; -s runs a script", async () => {
    const out = join(work, "out");
    const script = join(work, "s.sh");
    writeFileSync(script, "#!/bin/sh\necho script-$1\necho warn >&2\n");
    const r = await aiorch([
      "ssh",
      "-t",
      `127.0.0.2:${sshd.port}`,
      "-o",
      out,
      "--mark",
      "-s",
      script,
      "arg",
    ]);
    expect(r.code).toBe(0);
    expect(readFileSync(join(out, `127.0.0.2:${sshd.port}.out`), "utf8")).toBe("script-arg\n");
    expect(readFileSync(join(out, `127.0.0.2:${sshd.port}.err`), "utf8")).toBe("warn\n");
    expect(readFileSync(join(out, "0ok", `127.0.0.2:${sshd.port}`), "utf8")).toBe("0\n");
  });
});

describe("aiorch push / pull", () => {
  it("pushes then pulls a binary file per host, {host} expanded in paths", async () => {
    const data = randomBytes(200_000);
    writeFileSync(join(work, "blob"), data);
    const t = `127.0.0.2:${sshd.port},127.0.0.3:${sshd.port}`;
    const up = await aiorch(["push", "-t", t, join(work, "blob"), "@:cli-xfer/"]);
    expect(up.code).toBe(0);
    const down = await aiorch([
      "pull",
      "-t",
      t,
      "@:cli-xfer/blob",
      join(work, "pulled", "{host}/"),
    ]);
    expect(down.code).toBe(0);
    expect(readFileSync(join(work, "pulled", `127.0.0.2:${sshd.port}`, "blob")).equals(data)).toBe(
      true,
    );
    expect(readFileSync(join(work, "pulled", `127.0.0.3:${sshd.port}`, "blob")).equals(data)).toBe(
      true,
    );
  });
});
