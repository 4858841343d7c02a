/** `aiorch ssh --retry N`: connect failures of an ad-hoc fan-out are retried, commands never. */
import { afterAll, describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { aiorchCli } from "./helpers.ts";
import {
  createKeys,
  freePort,
  knownHostsLine,
  removeKeys,
  type Sshd,
  startSshd,
  TEST_USER,
} from "./sshd.ts";

const execFileP = promisify(execFile);

const started: Sshd[] = [];
afterAll(async () => {
  for (const s of started) {
    await s.stop();
    removeKeys(s.keys);
  }
});

describe("aiorch ssh --retry", () => {
  it("connects once the host starts listening, within the retries", async () => {
    const port = await freePort();
    const keys = createKeys();
    const knownHosts = join(keys.dir, "known_hosts.retry");
    writeFileSync(knownHosts, knownHostsLine(["127.0.0.5"], port, keys));
    const args = ["ssh", "-l", TEST_USER, "-k", keys.clientKey.path, "--known-hosts", knownHosts];
    const t0 = Date.now();
    const run = execFileP("node", [
      "bin/aiorch.mjs",
      ...args,
      "--retry",
      "8",
      "-t",
      `127.0.0.5:${port}`,
      "-r",
      "echo hi",
    ]);
    // the first attempt is refused; sshd comes up while aiorch backs off
    await new Promise((r) => setTimeout(r, 300));
    started.push(await startSshd({ addresses: ["127.0.0.5"], port, keys }));
    const r = await run;
    expect(r.stdout).toBe("hi\n");
    expect(Date.now() - t0).toBeGreaterThanOrEqual(300);
  });

  it("a host that never listens is unreachable after N+1 attempts; a failing command runs once", async () => {
    const sshd = started[0]!;
    const closed = await freePort();
    const r = await aiorchCli(sshd, ["ssh", "--retry", "2", "-t", `127.0.0.5:${closed}`, "true"]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/unreachable +cannot connect .*refused.* \(3 attempts\)/);
    const failed = await aiorchCli(sshd, [
      "ssh",
      "--retry",
      "2",
      "-t",
      `127.0.0.5:${sshd.port}`,
      "-r",
      "--",
      "echo once; exit 4",
    ]);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toBe("once\n");
  });
});
