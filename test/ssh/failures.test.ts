import { readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  isUnreachableError,
  run,
  SshAuthError,
  SshChannelError,
  SshConnectError,
  SshHostKeyError,
  SshJob,
  SshJobFailedError,
} from "../../src/ssh/index.ts";
import { nodeOn, runJobs, stdoutOf } from "./helpers.ts";
import { createKeys, freePort, removeKeys, type Sshd, type SshKeys, startSshd } from "./sshd.ts";

let sshd: Sshd;
let other: Sshd;
let keys: SshKeys;

beforeAll(async () => {
  keys = createKeys();
  sshd = await startSshd({ addresses: ["127.0.0.2"], keys });
  other = await startSshd({ addresses: ["127.0.0.3"], keys });
});

afterAll(async () => {
  await sshd?.stop();
  await other?.stop();
  if (keys) removeKeys(keys);
});

async function failureOf(job: SshJob): Promise<unknown> {
  const { ok } = await runJobs([job], { critical: true });
  expect(ok).toBe(false);
  return job.raisedException();
}

describe("host keys", () => {
  it("refuses a changed host key by default (verify)", async () => {
    const kh = join(keys.dir, "kh-changed");
    const wrong = readFileSync(`${keys.wrongKey.path}.pub`, "utf8").split(" ");
    writeFileSync(kh, `[127.0.0.2]:${sshd.port} ${wrong[0]} ${wrong[1]}\n`);
    const node = nodeOn(sshd, "127.0.0.2", { knownHosts: kh });
    const err = (await failureOf(new SshJob(node, "true", { label: "hk" }))) as SshHostKeyError;
    expect(err).toBeInstanceOf(SshHostKeyError);
    expect(err.code).toBe("SSH_HOST_KEY");
    expect(err.reason).toBe("changed");
    expect(err.message).toContain("CHANGED");
    expect(err.host).toBe("127.0.0.2");
    expect(isUnreachableError(err)).toBe(true);
  });

  it("refuses an unknown host in verify mode, records it with accept-new, skips checks with off", async () => {
    const kh = join(keys.dir, "kh-empty");
    writeFileSync(kh, "");
    const verify = nodeOn(sshd, "127.0.0.2", { knownHosts: kh });
    const err = (await failureOf(
      new SshJob(verify, "true", { label: "unknown" }),
    )) as SshHostKeyError;
    expect(err).toBeInstanceOf(SshHostKeyError);
    expect(err.reason).toBe("unknown");
    expect(err.fingerprint).toMatch(/^SHA256:/);

    const acceptNew = nodeOn(sshd, "127.0.0.2", { knownHosts: kh, hostKeys: "accept-new" });
    expect((await runJobs([new SshJob(acceptNew, "true", { label: "an" })])).ok).toBe(true);
    expect(readFileSync(kh, "utf8")).toContain(`[127.0.0.2]:${sshd.port} ssh-ed25519 `);
    const again = nodeOn(sshd, "127.0.0.2", { knownHosts: kh });
    const job = new SshJob(again, "true", { label: "again", critical: true });
    expect((await runJobs([job], { critical: true })).ok).toBe(true);

    const off = nodeOn(sshd, "127.0.0.2", { knownHosts: join(keys.dir, "none"), hostKeys: "off" });
    expect(
      (
        await runJobs([new SshJob(off, "true", { label: "off", critical: true })], {
          critical: true,
        })
      ).ok,
    ).toBe(true);
  });
});

describe("several known_hosts files, as UserKnownHostsFile lists them", () => {
  it("every file is read to verify; a new key goes to the first; a refusal names them all", async () => {
    const first = join(keys.dir, "kh-first");
    const second = join(keys.dir, "kh-second");
    writeFileSync(first, "");
    // the key is known from the second file only
    const seed = join(keys.dir, "kh-seed");
    writeFileSync(seed, "");
    const recorder = nodeOn(sshd, "127.0.0.2", { knownHosts: seed, hostKeys: "accept-new" });
    expect((await runJobs([new SshJob(recorder, "true", { label: "seed" })])).ok).toBe(true);
    writeFileSync(second, readFileSync(seed));
    const both = nodeOn(sshd, "127.0.0.2", { knownHosts: [first, second] });
    expect(both.knownHosts).toBe(first);
    expect(both.knownHostsFiles).toEqual([first, second]);
    const ok = new SshJob(both, "true", { label: "known-in-second", critical: true });
    expect((await runJobs([ok], { critical: true })).ok).toBe(true);
    expect(readFileSync(first, "utf8")).toBe("");
    // unknown in both: the error names both files
    const empty = join(keys.dir, "kh-empty-2");
    writeFileSync(empty, "");
    const neither = nodeOn(sshd, "127.0.0.2", { knownHosts: [empty, first] });
    const err = (await failureOf(new SshJob(neither, "true", { label: "n" }))) as SshHostKeyError;
    expect(err.message).toContain(`is not in ${empty}, ${first}`);
    // accept-new records into the first file only
    const rec = nodeOn(sshd, "127.0.0.2", { knownHosts: [empty, first], hostKeys: "accept-new" });
    expect((await runJobs([new SshJob(rec, "true", { label: "rec" })])).ok).toBe(true);
    expect(readFileSync(empty, "utf8")).toContain(`[127.0.0.2]:${sshd.port} ssh-ed25519 `);
    expect(readFileSync(first, "utf8")).toBe("");
    expect(() => nodeOn(sshd, "127.0.0.2", { knownHosts: [] })).toThrow(/at least one file/);
  });
});

describe("unreachable hosts", () => {
  it("a wrong key is an auth error", async () => {
    const node = nodeOn(sshd, "127.0.0.2", { keys: [keys.wrongKey.path] });
    const err = (await failureOf(new SshJob(node, "true", { label: "auth" }))) as SshAuthError;
    expect(err).toBeInstanceOf(SshAuthError);
    expect(err.code).toBe("SSH_AUTH");
    expect(err.user).toBe("aiorchtest");
    expect(err.message).toContain(`aiorchtest@127.0.0.2:${sshd.port}`);
  });

  it("a closed port is unreachable, fast", async () => {
    const port = await freePort();
    const node = nodeOn(sshd, "127.0.0.2", { port });
    const t0 = Date.now();
    const err = (await failureOf(new SshJob(node, "true", { label: "closed" }))) as SshConnectError;
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(err).toBeInstanceOf(SshConnectError);
    expect(err.code).toBe("SSH_CONNECT");
    expect(err.reason).toBe("refused");
    expect(err.port).toBe(port);
  });

  it("a server that never answers the handshake times out", async () => {
    const silent: Server = createServer(() => {});
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    const addr = silent.address();
    const port = typeof addr === "object" && addr ? addr.port : 0;
    try {
      const node = nodeOn(sshd, "127.0.0.1", { port, connectTimeout: 500 });
      const err = (await failureOf(
        new SshJob(node, "true", { label: "silent" }),
      )) as SshConnectError;
      expect(err).toBeInstanceOf(SshConnectError);
      expect(err.reason).toBe("timeout");
      expect(err.timeoutMs).toBe(500);
    } finally {
      silent.close();
    }
  });

  it("a failing host never blocks the others; a non-critical unreachable job fails alone", async () => {
    const port = await freePort();
    const bad = nodeOn(sshd, "127.0.0.2", { port });
    const good = nodeOn(sshd, "127.0.0.2");
    const jobs = [
      new SshJob(bad, "echo x", { label: "bad", critical: false }),
      new SshJob(good, [run("sleep 0.3"), run("echo good")], { label: "good", critical: false }),
    ];
    const { ok, output } = await runJobs(jobs);
    expect(ok).toBe(true);
    expect(jobs[0]?.raisedException()).toBeInstanceOf(SshConnectError);
    expect(stdoutOf(output, "good")).toEqual(["good"]);
  });
});

describe("connection lost", () => {
  it("sshd killed mid-command: that job fails with a clear error, other hosts finish", async () => {
    const victim = nodeOn(other, "127.0.0.3");
    const fine = nodeOn(sshd, "127.0.0.2");
    const jobs = [
      new SshJob(victim, [run("echo started; sleep 10; echo never")], {
        label: "victim",
        critical: false,
      }),
      new SshJob(fine, [run("sleep 1; echo survived")], { label: "fine", critical: false }),
    ];
    const { Scheduler } = await import("../../src/scheduler.ts");
    const s = new Scheduler(jobs, { critical: false, timeout: 20_000 });
    const lines: string[] = [];
    s.on((e) => {
      if (e.type !== "job-output") return;
      lines.push(`${e.label}:${e.line}`);
      if (e.label === "victim" && e.line === "started") other.killConnections();
    });
    const t0 = Date.now();
    expect(await s.run()).toBe(true);
    expect(Date.now() - t0).toBeLessThan(8000);
    expect(lines).toContain("fine:survived");
    expect(lines).not.toContain("victim:never");
    const failed = jobs[0]?.raisedException();
    expect(failed).toBeInstanceOf(SshJobFailedError);
    const failure = (failed as SshJobFailedError).result.failures[0];
    expect(failure?.error).toBeInstanceOf(SshChannelError);
    expect(failure?.error?.code).toBe("SSH_CHANNEL");
    expect(failure?.error?.message).toContain("connection to aiorchtest@127.0.0.3");
    expect(failure?.error?.message).toContain("lost");
    // the remote sleep outlives its killed connection (nothing can reach it any more)
    for (const p of other.leftovers()) process.kill(p.pid, "SIGKILL");
  });
});
