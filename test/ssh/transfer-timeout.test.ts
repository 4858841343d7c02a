/**
 * A push or pull that times out stops the transfer itself and frees its session slot
 * (it used to keep writing, holding the slot, after its timeout error); on a LocalNode, a
 * copy stops at its timeout and at the run's end too (it used to go on in the background).
 */
import { mkdtempSync, rmSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { Scheduler } from "../../src/scheduler.ts";
import {
  type CommandOutcome,
  LocalNode,
  pull,
  push,
  run,
  SshJob,
  SshJobFailedError,
} from "../../src/ssh/index.ts";
import { nodeOn, runJobs } from "./helpers.ts";
import { type Sshd, startSshd } from "./sshd.ts";

let sshd: Sshd;

/** Run the non-critical `job` (the run stays true); the outcomes its failure carries. */
async function failedCommands(job: SshJob): Promise<readonly CommandOutcome[]> {
  const { ok } = await runJobs([job]);
  expect(ok).toBe(true);
  const err = job.raisedException() as SshJobFailedError;
  expect(err).toBeInstanceOf(SshJobFailedError);
  return err.result.commands;
}

beforeAll(async () => {
  sshd = await startSshd({ addresses: ["127.0.0.2"] });
});
afterAll(async () => {
  await sshd?.stop();
});

test("a push that times out stops writing and frees its slot (one session allowed)", async () => {
  const node = nodeOn(sshd, "127.0.0.2", { maxSessions: 1 });
  const dir = mkdtempSync(join(tmpdir(), "aiorch-xfer-"));
  const big = join(dir, "big.bin");
  writeFileSync(big, "");
  truncateSync(big, 512 * 1024 * 1024); // sparse locally: no disk used here
  const remote = `/tmp/aiorch-xfer-${process.pid}.bin`;
  const job = new SshJob(
    node,
    [
      push([big], remote, { timeout: 300 }),
      run(`sleep 0.5; stat -c %s ${remote}`, { capture: "a" }),
      run(`sleep 1; stat -c %s ${remote}; rm -f ${remote}`, { capture: "b" }),
    ],
    { label: "xfer", critical: false },
  );
  const t0 = Date.now();
  const [pushed, a, b] = await failedCommands(job);
  expect(pushed?.error?.code).toBe("TIMEOUT");
  expect(pushed?.error?.message).toContain("timed out after 300 ms");
  // the next commands got the only session slot at once, and the file stopped growing
  expect(a?.ok && b?.ok).toBe(true);
  expect(Number(a?.stdout)).toBeLessThan(512 * 1024 * 1024);
  expect(Number(b?.stdout)).toBe(Number(a?.stdout));
  expect(Date.now() - t0).toBeLessThan(15_000);
});

/** the size of `file` now and after `ms`: equal when nothing writes to it any more */
async function sizesApart(file: string, ms: number): Promise<[number, number]> {
  const a = statSync(file).size;
  await sleep(ms);
  return [a, statSync(file).size];
}

const GB = 1024 * 1024 * 1024;

test("a pull that times out stops writing locally and frees its slot (one session allowed)", async () => {
  const node = nodeOn(sshd, "127.0.0.2", { maxSessions: 1 });
  const dir = mkdtempSync(join(tmpdir(), "aiorch-xfer-"));
  const remote = `/tmp/aiorch-pull-${process.pid}.bin`;
  const local = join(dir, "pulled.bin");
  try {
    const job = new SshJob(
      node,
      [
        run(`truncate -s 1G ${remote}`), // sparse there: reading it costs nothing
        pull([remote], local, { timeout: 300 }),
        run(`rm -f ${remote}; echo next`, { capture: "next" }),
      ],
      { label: "xfer", critical: false },
    );
    const t0 = Date.now();
    const [, pulled, next] = await failedCommands(job);
    expect(pulled?.error?.code).toBe("TIMEOUT");
    expect(pulled?.error?.message).toContain("timed out after 300 ms");
    // the only session slot went to the next command at once
    expect(next?.ok).toBe(true);
    expect(next?.stdout).toBe("next");
    expect(next?.durationMs).toBeLessThan(3000);
    const [a, b] = await sizesApart(local, 600);
    expect(a).toBeLessThan(GB);
    expect(b).toBe(a); // nothing written after the stop
    expect(Date.now() - t0).toBeLessThan(15_000);
  } finally {
    await node.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

describe("a LocalNode copy stops at its timeout and at the run's end", () => {
  const local = new LocalNode();
  let dir = "";
  let big = "";
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "aiorch-lxfer-"));
    big = join(dir, "big.bin");
    writeFileSync(big, "");
    truncateSync(big, GB); // sparse; its copy is not (about 8 s on this disk)
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test.each([
    ["push", (to: string) => push([big], to, { timeout: 300 })],
    ["pull", (to: string) => pull([big], to, { timeout: 300 })],
  ])("%s with a timeout: TIMEOUT, no write after it, the next command runs", async (name, make) => {
    const to = join(dir, `${name}.bin`);
    const job = new SshJob(local, [make(to), run("echo next", { capture: "n" })], {
      label: name,
      critical: false,
    });
    const [copied, next] = await failedCommands(job);
    expect(copied?.error?.code).toBe("TIMEOUT");
    expect(next?.stdout).toBe("next");
    const [a, b] = await sizesApart(to, 600);
    expect(a).toBeLessThan(GB);
    expect(b).toBe(a);
    rmSync(to, { force: true });
  });

  test("the run's timeout stops a push with no timeout of its own", async () => {
    const to = join(dir, "cancelled.bin");
    const job = new SshJob(local, [push([big], to)], { label: "push" });
    const t0 = Date.now();
    expect(await new Scheduler([job], { timeout: 400 }).run()).toBe(false);
    expect(job.state).toBe("cancelled");
    expect(Date.now() - t0).toBeLessThan(5000);
    const [a, b] = await sizesApart(to, 600);
    expect(a).toBeLessThan(GB);
    expect(b).toBe(a);
    rmSync(to, { force: true });
  });
});
