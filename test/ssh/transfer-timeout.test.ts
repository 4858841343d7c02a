/**
 * A push or pull that times out stops the transfer itself and frees its session slot
 * (it used to keep writing, holding the slot, after its timeout error).
 */
import { mkdtempSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { push, run, SshJob, SshJobFailedError } from "../../src/ssh/index.ts";
import { nodeOn, runJobs } from "./helpers.ts";
import { type Sshd, startSshd } from "./sshd.ts";

let sshd: Sshd;
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
  const { ok } = await runJobs([job]);
  expect(ok).toBe(true);
  const err = job.raisedException() as SshJobFailedError;
  expect(err).toBeInstanceOf(SshJobFailedError);
  const [pushed, a, b] = err.result.commands;
  expect(pushed?.error?.code).toBe("TIMEOUT");
  expect(pushed?.error?.message).toContain("timed out after 300 ms");
  // the next commands got the only session slot at once, and the file stopped growing
  expect(a?.ok && b?.ok).toBe(true);
  expect(Number(a?.stdout)).toBeLessThan(512 * 1024 * 1024);
  expect(Number(b?.stdout)).toBe(Number(a?.stdout));
  expect(Date.now() - t0).toBeLessThan(15_000);
});
