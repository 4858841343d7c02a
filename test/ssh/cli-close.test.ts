/**
 * `aiorch ssh` closes each host's connection as soon as its job is done: with `-w 1` the
 * hosts run one after another and each one sees only its own connection on the server.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { aiorchCli } from "./helpers.ts";
import { type Sshd, startSshd } from "./sshd.ts";

const DISCONNECT = /^Received disconnect from /;

let sshd: Sshd;

beforeAll(async () => {
  sshd = await startSshd({ addresses: ["127.0.0.2", "127.0.0.3", "127.0.0.4"] });
});

afterAll(async () => {
  await sshd?.stop();
});

const aiorch = (args: string[]) => aiorchCli(sshd, args);

describe("aiorch ssh: per-host close", () => {
  it("-w 1: each host's connection is closed before the next host works; summary and exit code as before", async () => {
    const p = sshd.port;
    const disconnects = sshd.log.filter((l) => DISCONNECT.test(l)).length;
    // on the server, count the open connections (children of the listening sshd) after a
    // pause that leaves the previous host's close ample time; the second host fails with 4
    const command = [
      "sleep 0.5",
      `ps --ppid ${sshd.pid} --no-headers | wc -l | tr -d ' '`,
      `case "$SSH_CONNECTION" in *" 127.0.0.3 "*) exit 4;; esac`,
    ].join("; ");
    const r = await aiorch([
      "ssh",
      "-w",
      "1",
      "-t",
      `127.0.0.2:${p},127.0.0.3:${p},127.0.0.4:${p}`,
      "--",
      command,
    ]);
    // closed at the end of the run instead, the hosts would see 1, 2, then 3 connections
    expect(r.stdout).toBe(`127.0.0.2:${p}:1\n127.0.0.3:${p}:1\n127.0.0.4:${p}:1\n`);
    expect(r.code).toBe(1);
    const u = sshd.user;
    expect(r.stderr).toBe(
      [
        "3 hosts: 2 ok, 1 failed, 0 unreachable",
        `  127.0.0.2:${p}  ok`,
        `  127.0.0.3:${p}  failed (4)  "${command}" exited 4 on ${u}@127.0.0.3:${p}`,
        `  127.0.0.4:${p}  ok`,
        "",
      ].join("\n"),
    );
    expect(sshd.accepted("127.0.0.2")).toBe(1);
    expect(sshd.accepted("127.0.0.3")).toBe(1);
    expect(sshd.accepted("127.0.0.4")).toBe(1);
    // every connection closed by the client, gracefully
    await sshd.waitLogCount(DISCONNECT, disconnects + 3);
  });
});
