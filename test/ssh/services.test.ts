/**
 * Services against the real sshd: dependents start once the service is ready (spawned, then
 * its check: a command retried, a pattern on its output, a function), readyTimeout fails it
 * naming it, a detached service is left running (pid, log) and listed in the debrief, also
 * when its readiness fails or times out; the run's cancellation leaves it running too (each
 * test kills it).
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { Job } from "../../src/job.ts";
import { Scheduler } from "../../src/scheduler.ts";
import { LeftRunning, run, SshJob, service } from "../../src/ssh/index.ts";
import { nodeOn } from "./helpers.ts";
import { type Sshd, startSshd } from "./sshd.ts";

let sshd: Sshd;

beforeAll(async () => {
  sshd = await startSshd({ addresses: ["127.0.0.2"] });
});

afterAll(async () => {
  await sshd?.stop(); // fails the file if a process is left
});

/** a server that takes a moment to come up, ignores TERM, and says so in a file and a line */
function slowServer(flag: string): string {
  return `trap '' TERM; sleep 0.6; touch ${flag}; echo listening on 8080; sleep 72`;
}

describe.concurrent("service readiness", () => {
  test("ready: run(cmd) retried until it exits 0; the client starts then; the run ends true", async () => {
    const node = nodeOn(sshd, "127.0.0.2");
    const flag = `/tmp/aiorch-svc-${process.pid}-a`;
    const server = service(node, slowServer(flag), {
      label: "server",
      ready: run(`test -e ${flag}`),
    });
    const client = new SshJob(node, [run(`cat ${flag} && echo client saw it; rm -f ${flag}`)], {
      label: "client",
      required: server,
    });
    const s = new Scheduler([server, client], { timeout: 20_000 });
    const order: string[] = [];
    s.on((e) => {
      if (e.type === "job-ready") order.push(`ready ${e.label}`);
      if (e.type === "job-state" && e.state === "running") order.push(`start ${e.label}`);
    });
    const t0 = Date.now();
    expect(await s.run()).toBe(true);
    expect(Date.now() - t0).toBeLessThan(10_000); // not the 20 s timeout
    expect(order).toEqual(["start server", "ready server", "start client"]);
    expect(client.isFailed()).toBe(false);
    expect(server.state).toBe("cancelled"); // stopped at the end of the run
  });

  test("ready: /pattern/ on its output lines", async () => {
    const node = nodeOn(sshd, "127.0.0.2");
    const flag = `/tmp/aiorch-svc-${process.pid}-b`;
    const server = service(node, slowServer(flag), { label: "server", ready: /listening on \d+/ });
    const client = new SshJob(node, [run(`test -e ${flag}; rm -f ${flag}`)], {
      label: "client",
      required: server,
    });
    expect(await new Scheduler([server, client], { timeout: 20_000 }).run()).toBe(true);
    expect(client.isFailed()).toBe(false); // the flag existed: started after the line
  });

  test("ready: an async function, after the process is spawned", async () => {
    const node = nodeOn(sshd, "127.0.0.2");
    let pgidWhenAsked: number | undefined;
    const server = service(node, "echo up; sleep 72", {
      label: "server",
      ready: async () => {
        pgidWhenAsked = server.processGroup;
      },
    });
    const client = new Job(async () => "ran", { label: "client", required: server });
    expect(await new Scheduler([server, client], { timeout: 20_000 }).run()).toBe(true);
    expect(pgidWhenAsked).toBeGreaterThan(1); // spawned before the check was asked
    expect(client.result()).toBe("ran");
  });

  test("readyTimeout: the service fails NOT_READY naming it; its dependent never starts", async () => {
    const node = nodeOn(sshd, "127.0.0.2");
    const server = service(node, "trap '' TERM; sleep 72", {
      label: "never-ready",
      ready: run("false"),
      readyTimeout: 800,
    });
    const client = new Job(async () => "ran", { label: "client", required: server });
    const s = new Scheduler([server, client], { timeout: 20_000 });
    expect(await s.run()).toBe(false);
    const err = server.raisedException() as { code: string; message: string };
    expect(err.code).toBe("NOT_READY");
    expect(err.message).toContain('"never-ready"');
    expect(err.message).toContain("800 ms");
    expect(client.state).toBe("idle");
  });
});

describe("detached services", () => {
  test("left running after the run (pid, log), listed in the debrief, not stopped", async () => {
    const node = nodeOn(sshd, "127.0.0.2");
    const web = service(node, "echo serving; exec sleep 73", {
      label: "web",
      detach: true,
      ready: /serving/,
      readyTimeout: 10_000,
    });
    const after = new SshJob(node, [run("echo next")], { label: "after", required: web });
    const s = new Scheduler([web, after], { timeout: 20_000 });
    expect(await s.run()).toBe(true);
    const left = web.result() as LeftRunning;
    expect(left).toBeInstanceOf(LeftRunning);
    expect(left.pid).toBeGreaterThan(1);
    expect(left.log).toMatch(/\/\.aiorch-remote\/detached\/web-[0-9a-f]{8}\.log$/);
    expect(s.debrief()).toContain(
      `===== 1 process(es) left running\nleft running on ${node.name} (pid ${left.pid}, log ${left.log})`,
    );
    // the run's connections are closed, the process lives on, in its own session
    const alive = sshd.leftovers();
    expect(alive.map((p) => p.pid)).toContain(left.pid);
    expect(alive.find((p) => p.pid === left.pid)?.cmdline).toBe("sleep 73");
    process.kill(left.pid, "SIGKILL");
    expect(await sshd.waitNoLeftovers()).toEqual([]);
  });

  /** SIGKILL the pids (the test's cleanup), then check nothing of this sshd is left */
  async function killAll(pids: number[]): Promise<void> {
    for (const pid of pids)
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    expect(await sshd.waitNoLeftovers()).toEqual([]);
  }

  test("readiness times out: the job fails, its process still runs and is listed as left running", async () => {
    const node = nodeOn(sshd, "127.0.0.2");
    const web = service(node, "exec sleep 74", {
      label: "web",
      detach: true,
      ready: run("false"),
      readyInterval: 100,
      readyTimeout: 800,
    });
    const after = new Job(async () => "ran", { label: "after", required: web });
    const s = new Scheduler([web, after], { timeout: 20_000 });
    const pids: number[] = [];
    try {
      expect(await s.run()).toBe(false);
      const left = web.leftRunning;
      expect(left).toBeInstanceOf(LeftRunning);
      pids.push(left?.pid ?? -1);
      expect(web.isFailed()).toBe(true);
      const err = web.raisedException() as { code: string; message: string };
      expect(err.code).toBe("NOT_READY");
      expect(err.message).toContain('detached service "web" not ready within 800 ms');
      expect(err.message).toContain(`left running on ${node.name} (pid ${left?.pid}, log `);
      expect(after.state).toBe("idle"); // never ready: its dependent never started
      expect(s.debrief()).toContain(
        `===== 1 process(es) left running\nleft running on ${node.name} (pid ${left?.pid}, log ${left?.log})`,
      );
      // the run's cleanup did not stop it
      expect(sshd.leftovers().find((p) => p.pid === left?.pid)?.cmdline).toBe("sleep 74");
    } finally {
      await killAll(pids);
    }
  });

  test("the run is cancelled while it waits for readiness: the process runs on, listed in the debrief", async () => {
    const node = nodeOn(sshd, "127.0.0.2");
    const web = service(node, "exec sleep 75", {
      label: "web",
      detach: true,
      ready: /never printed/,
    });
    const s = new Scheduler([web], { timeout: 1000 });
    const logged: string[] = [];
    s.on((e) => {
      if (e.type === "job-output" && e.stream === "log") logged.push(e.line);
    });
    const pids: number[] = [];
    try {
      expect(await s.run()).toBe(false);
      expect(web.state).toBe("cancelled");
      const left = web.leftRunning;
      pids.push(left?.pid ?? -1);
      expect(left?.pid).toBeGreaterThan(1);
      // said when it was spawned (plain log, live view, trace), and listed by the debrief
      expect(logged).toContain(left?.leftRunning);
      expect(s.debrief()).toContain(
        `===== 1 process(es) left running\nleft running on ${node.name} (pid ${left?.pid}, log ${left?.log})`,
      );
      expect(sshd.leftovers().find((p) => p.pid === left?.pid)?.cmdline).toBe("sleep 75");
    } finally {
      await killAll(pids);
    }
  });

  test("its process exits before it is ready: the failure says so, nothing is listed", async () => {
    const node = nodeOn(sshd, "127.0.0.2");
    const web = service(node, "echo bye; exit 3", {
      label: "web",
      detach: true,
      ready: /serving/,
      readyTimeout: 800,
    });
    const s = new Scheduler([web], { timeout: 20_000 });
    expect(await s.run()).toBe(false);
    const err = web.raisedException() as { code: string; message: string };
    expect(err.code).toBe("NOT_READY");
    expect(err.message, err.message).toMatch(/its process \(pid \d+\) has exited on /);
    expect(web.leftRunning).toBeUndefined();
    expect(s.debrief()).not.toContain("left running");
    expect(await sshd.waitNoLeftovers()).toEqual([]);
  });
});
