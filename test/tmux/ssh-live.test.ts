/**
 * `aiorch ssh --live` as a person sees it: one live line per host while the command runs
 * on real sshd hosts (loopback), then the per-host summary; no streamed output lines.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { type Sshd, startSshd } from "../ssh/sshd.ts";
import { haveTmux, killAll, killServer, startAiorch, waitForScreen } from "./tmux.ts";

let sshd: Sshd;
beforeAll(async () => {
  sshd = await startSshd({ addresses: ["127.0.0.2", "127.0.0.3"] });
});
afterAll(async () => {
  killServer();
  await sshd?.stop();
});
afterEach(killAll);

describe.runIf(haveTmux || process.env.CI)("aiorch ssh --live in a terminal", () => {
  test("one line per host with its last output line while running, then the summary", async () => {
    const targets = `127.0.0.2:${sshd.port},127.0.0.3:${sshd.port}`;
    const s = startAiorch([
      "ssh",
      "--live",
      "-l",
      sshd.user,
      "-k",
      sshd.keys.clientKey.path,
      "--known-hosts",
      sshd.knownHosts,
      "-t",
      targets,
      "'echo warming-up; sleep 2; echo finished'",
    ]);
    const running = await waitForScreen(
      s,
      (x) => (x.match(/↺ \S*@127\.0\.0\.[23]:\d+ .*warming-up/g) ?? []).length === 2,
      "both hosts running with their last output line",
    );
    expect(running).toMatch(/↺ 2 running/);
    const end = await waitForScreen(s, (x) => x.includes("EXIT="), "the end");
    expect(end).toContain("EXIT=0");
    expect(end).toContain("2 hosts: 2 ok, 0 failed, 0 unreachable");
    // the live lines are gone, and output lines were not streamed
    expect(end).not.toContain("↺");
    expect(end).not.toMatch(/127\.0\.0\.2:\d+:finished/);
  });
});
