import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Job } from "../../src/job.ts";
import { configureSsh, run, service, SshJob, SshNode } from "../../src/ssh/index.ts";
import { nodeOn, runJobs, stdoutOf } from "./helpers.ts";
import { type Sshd, startSshd } from "./sshd.ts";

let sshd: Sshd;
let small: Sshd;

beforeAll(async () => {
  sshd = await startSshd({ addresses: ["127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"] });
  small = await startSshd({ addresses: ["127.0.0.6"], maxSessions: 3, keys: sshd.keys });
});

afterAll(async () => {
  await small?.stop();
  await sshd?.stop();
});

const DISCONNECT = /^Received disconnect from /;

/** port of the client side -> local address it connected to, from "Connection from" lines */
function clientPorts(log: string[]): Map<string, string> {
  const m = new Map<string, string>();
  for (const l of log) {
    const x = /^Connection from \S+ port (\d+) on (\S+) port/.exec(l);
    if (x) m.set(x[1] as string, x[2] as string);
  }
  return m;
}

describe("connections", () => {
  it("opens one connection per node, shared by all its jobs, closed at the end of the run", async () => {
    const a = nodeOn(sshd, "127.0.0.2");
    const b = nodeOn(sshd, "127.0.0.3");
    const before = sshd.log.filter((l) => DISCONNECT.test(l)).length;
    const jobs = [
      ...Array.from(
        { length: 8 },
        (_, i) => new SshJob(a, [run(`echo a${i}`), run("true")], { label: `a${i}` }),
      ),
      ...Array.from(
        { length: 4 },
        (_, i) => new SshJob(b, [run(`echo b${i}`)], { label: `b${i}` }),
      ),
    ];
    const { ok, output } = await runJobs(jobs);
    expect(ok).toBe(true);
    expect(stdoutOf(output, "a7")).toEqual(["a7"]);
    expect(sshd.accepted("127.0.0.2")).toBe(1);
    expect(sshd.accepted("127.0.0.3")).toBe(1);
    expect(a.connected).toBe(false);
    expect(b.connected).toBe(false);
    // both closed gracefully by the client
    await sshd.waitLogCount(DISCONNECT, before + 2);
    // a second run reconnects (one more connection each), still shared
    const again = await runJobs([
      new SshJob(a, "true", { label: "x1" }),
      new SshJob(a, "true", { label: "x2" }),
    ]);
    expect(again.ok).toBe(true);
    expect(sshd.accepted("127.0.0.2")).toBe(2);
  });

  it("runs 100 commands in parallel on one node under the default session limit", async () => {
    const node = nodeOn(sshd, "127.0.0.4");
    const jobs = Array.from(
      { length: 100 },
      (_, i) => new SshJob(node, [run(`echo n${i}`)], { label: `p${i}` }),
    );
    const { ok, output } = await runJobs(jobs);
    expect(ok).toBe(true);
    expect(jobs.every((j) => j.result()?.ok)).toBe(true);
    expect(output.filter((e) => e.stream === "stdout")).toHaveLength(100);
    expect(stdoutOf(output, "p99")).toEqual(["n99"]);
    expect(sshd.accepted("127.0.0.4")).toBe(1);
  });

  it("adapts when the server allows fewer sessions than configured", async () => {
    const node = new SshNode({
      host: "127.0.0.6",
      port: small.port,
      user: small.user,
      keys: [small.keys.clientKey.path],
      knownHosts: small.knownHosts,
      agent: false,
    });
    const jobs = Array.from(
      { length: 12 },
      (_, i) => new SshJob(node, [run(`sleep 0.2; echo s${i}`)], { label: `s${i}` }),
    );
    const { ok } = await runJobs(jobs);
    expect(ok).toBe(true);
    expect(jobs.every((j) => j.result()?.ok)).toBe(true);
    expect(small.accepted("127.0.0.6")).toBe(1);
  });

  it("reaches a node through a gateway, one connection per hop, closes the remotest first", async () => {
    const gw = nodeOn(sshd, "127.0.0.2");
    const target = nodeOn(sshd, "127.0.0.5", { gateway: gw });
    expect(target.distance).toBe(2);
    expect(String(target)).toBe(
      `aiorchtest@127.0.0.2:${sshd.port}->aiorchtest@127.0.0.5:${sshd.port}`,
    );
    const gwBefore = sshd.accepted("127.0.0.2");
    const jobs = [
      new SshJob(target, [run("echo via-gw")], { label: "t1" }),
      new SshJob(target, [run("echo again")], { label: "t2" }),
      new SshJob(gw, [run("echo on-gw")], { label: "g1" }),
    ];
    const logStart = sshd.log.length;
    const { ok, output } = await runJobs(jobs);
    expect(ok).toBe(true);
    expect(stdoutOf(output, "t1")).toEqual(["via-gw"]);
    expect(sshd.accepted("127.0.0.5")).toBe(1);
    expect(sshd.accepted("127.0.0.2")).toBe(gwBefore + 1);
    await sshd.waitLogCount(
      DISCONNECT,
      sshd.log.slice(0, logStart).filter((l) => DISCONNECT.test(l)).length + 2,
    );
    const ports = clientPorts(sshd.log);
    const order = sshd.log
      .slice(logStart)
      .map((l) => /^Received disconnect from \S+ port (\d+)/.exec(l)?.[1])
      .filter((p): p is string => p !== undefined)
      .map((p) => ports.get(p));
    expect(order).toEqual(["127.0.0.5", "127.0.0.2"]);
  });

  it("chains gateways to any depth and honours a handshake limit of 1", async () => {
    configureSsh({ maxHandshakes: 1 });
    try {
      const g1 = nodeOn(sshd, "127.0.0.2");
      const g2 = nodeOn(sshd, "127.0.0.3", { gateway: g1 });
      const g3 = nodeOn(sshd, "127.0.0.4", { gateway: g2 });
      const end = nodeOn(sshd, "127.0.0.5", { gateway: g3 });
      expect(end.distance).toBe(4);
      const jobs = [
        new SshJob(end, [run("echo deep")], { label: "deep" }),
        new SshJob(g2, [run("echo mid")], { label: "mid" }),
      ];
      const { ok, output } = await runJobs(jobs);
      expect(ok).toBe(true);
      expect(stdoutOf(output, "deep")).toEqual(["deep"]);
      expect(stdoutOf(output, "mid")).toEqual(["mid"]);
      expect(end.describe()).toMatchObject({
        host: "127.0.0.5",
        gateway: { host: "127.0.0.4", gateway: { host: "127.0.0.3" } },
      });
    } finally {
      configureSsh({ maxHandshakes: 64 });
    }
  });

  it("runs a service as a forever job and stops its whole process group at the end", async () => {
    const node = nodeOn(sshd, "127.0.0.3");
    const svc = service(node, "echo started; sleep 3001 & sleep 3002; wait", { label: "svc" });
    const probe = new SshJob(
      node,
      [run("sleep 0.5; ps -eo args | grep -c '^sleep 300[12]'", { capture: "n" })],
      {
        label: "probe",
        required: new Job(async () => undefined, { label: "tick" }),
      },
    );
    const { ok, output } = await runJobs([svc, probe, ...probe.required]);
    expect(ok).toBe(true);
    expect(probe.result()?.commands[0]?.stdout).toBe("2");
    expect(stdoutOf(output, "svc")).toEqual(["started"]);
    const after = new SshJob(
      node,
      [run("ps -eo args | grep -c '^sleep 300[12]'", { capture: "n", allowedExits: [1] })],
      {
        label: "after",
      },
    );
    await runJobs([after]);
    expect(after.result()?.commands[0]?.stdout).toBe("0");
  });
});
