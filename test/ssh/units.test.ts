import { createHmac, randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { JobOutputEvent } from "../../src/events.ts";
import { describeExit, isAllowedExit } from "../../src/ssh/exec.ts";
import {
  expandTemplate,
  fileFormatter,
  lineFormatter,
  shortHost,
} from "../../src/ssh/formatters.ts";
import { checkHostKey, fingerprint, parseKnownHosts } from "../../src/ssh/knownhosts.ts";
import { LineSplitter } from "../../src/ssh/lines.ts";
import { quoteArg, quoteArgs } from "../../src/ssh/quote.ts";
import { commandLabel, commandLine, run, runString } from "../../src/ssh/commands.ts";
import { formatTarget, parseTarget, resolveTargets } from "../../src/ssh/targets.ts";
import { AiorchError } from "../../src/errors.ts";
import { readFileSync } from "node:fs";

function blob(type: string, body: Buffer): Buffer {
  const t = Buffer.from(type);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(t.length);
  return Buffer.concat([len, t, body]);
}

describe("quote", () => {
  it("leaves safe words alone and single-quotes the rest", () => {
    expect(quoteArg("abc-1.2/x")).toBe("abc-1.2/x");
    expect(quoteArg("")).toBe("''");
    expect(quoteArg("a b")).toBe("'a b'");
    expect(quoteArg("it's")).toBe("'it'\\''s'");
    expect(quoteArgs(["$HOME", "*"])).toBe("'$HOME' '*'");
  });

  it("run: first argument is a command line, the rest quoted; deferred rendered late", () => {
    const c = run("echo $X", "a b", 3, (v) => v.rev ?? "none", { allowedExits: [1] });
    expect(commandLine(c.argv, { rev: "v1 2" })).toBe("echo $X 'a b' 3 'v1 2'");
    expect(commandLabel(c)).toBe("echo $X 'a b' 3 {…}");
    expect(c.options.allowedExits).toEqual([1]);
    expect(commandLabel(runString("#!/bin/sh\n\n# c\nset -e\necho", ["x"]))).toBe(
      "runString: set -e x",
    );
  });

  it("validates options before anything runs", () => {
    expect(() => run("x", { timeout: -1 })).toThrow(/timeout/);
    expect(() => run("x", { env: { "A-B": "1" } })).toThrow(/env name/);
    expect(() => run("x", { allowedExits: ["not a signal"] })).toThrow(/allowedExits/);
  });
});

describe("exits", () => {
  it("allows 0 and listed codes or signals (with or without SIG)", () => {
    expect(isAllowedExit({ exitCode: 0, signal: null }, undefined)).toBe(true);
    expect(isAllowedExit({ exitCode: 2, signal: null }, [2])).toBe(true);
    expect(isAllowedExit({ exitCode: 3, signal: null }, [2])).toBe(false);
    expect(isAllowedExit({ exitCode: null, signal: "TERM" }, ["SIGTERM"])).toBe(true);
    expect(isAllowedExit({ exitCode: null, signal: "KILL" }, ["TERM", 9])).toBe(false);
    expect(describeExit({ exitCode: null, signal: "KILL" })).toBe("was killed by signal KILL");
  });
});

describe("known_hosts", () => {
  const key = blob("ssh-ed25519", randomBytes(36));
  const other = blob("ssh-ed25519", randomBytes(36));
  const b64 = key.toString("base64");

  it("matches plain, [host]:port, wildcard, negated and hashed names", () => {
    const salt = randomBytes(20);
    const hash = createHmac("sha1", salt).update("[10.0.0.9]:2222").digest("base64");
    const entries = parseKnownHosts(
      [
        "# comment",
        `h1,h2 ssh-ed25519 ${b64}`,
        `[10.0.0.5]:2222 ssh-ed25519 ${b64}`,
        `*.lab,!bad.lab ssh-ed25519 ${b64}`,
        `|1|${salt.toString("base64")}|${hash} ssh-ed25519 ${b64}`,
        `@cert-authority * ssh-ed25519 ${b64}`,
      ].join("\n"),
    );
    expect(checkHostKey(entries, "h2", 22, key).status).toBe("ok");
    expect(checkHostKey(entries, "10.0.0.5", 2222, key).status).toBe("ok");
    expect(checkHostKey(entries, "10.0.0.5", 22, key).status).toBe("unknown");
    expect(checkHostKey(entries, "x.lab", 22, key).status).toBe("ok");
    expect(checkHostKey(entries, "bad.lab", 22, key).status).toBe("unknown");
    expect(checkHostKey(entries, "10.0.0.9", 2222, key).status).toBe("ok");
    expect(checkHostKey(entries, "h1", 22, other)).toEqual({
      status: "changed",
      expected: fingerprint(key),
    });
  });

  it("honours @revoked", () => {
    const entries = parseKnownHosts(`h ssh-ed25519 ${b64}\n@revoked * ssh-ed25519 ${b64}\n`);
    expect(checkHostKey(entries, "h", 22, key).status).toBe("revoked");
  });
});

describe("lines", () => {
  it("splits on bytes, keeps multi-byte characters whole, flushes the tail", () => {
    const lines: string[] = [];
    const s = new LineSplitter((l) => lines.push(l));
    const text = Buffer.from("é1\r\nab€\nlast");
    for (const b of text) s.push(Buffer.from([b]));
    s.end();
    expect(lines).toEqual(["é1", "ab€", "last"]);
  });
});

describe("formatters", () => {
  const event = (line: string, stream: "stdout" | "stderr" = "stdout"): JobOutputEvent =>
    ({
      type: "job-output",
      time: new Date(2024, 0, 1, 12, 32, 36).getTime(),
      label: "j",
      path: [],
      stream,
      line,
      host: "node1.lab.org",
    }) as unknown as JobOutputEvent;

  it("expands placeholders in one pass, never inside the remote text (B23)", () => {
    expect(expandTemplate("{host}:{line}", event("{host} {time} {nl}"))).toBe(
      "node1:{host} {time} {nl}",
    );
    expect(expandTemplate("{time}:{fqdn}:{line}", event("x"))).toBe("12-32-36:node1.lab.org:x");
    expect(shortHost("10.0.0.3")).toBe("10.0.0.3");
  });

  it("prints stdout and stderr lines to their streams", () => {
    const out: string[] = [];
    const err: string[] = [];
    const f = lineFormatter({
      format: "host",
      stdout: { write: (t) => out.push(t) },
      stderr: { write: (t) => err.push(t) },
    });
    f.listener(event("hello"));
    f.listener(event("oops", "stderr"));
    expect(out).toEqual(["node1:hello\n"]);
    expect(err).toEqual(["node1:oops\n"]);
  });

  it("writes per-host files DIR/host.out and DIR/host.err", async () => {
    const dir = join(mkdtempSync(join(tmpdir(), "aiorch-fmt-")), "out");
    const f = fileFormatter({ dir });
    f.listener(event("a"));
    f.listener(event("b", "stderr"));
    await f.close();
    expect(readFileSync(join(dir, "node1.lab.org.out"), "utf8")).toBe("a\n");
    expect(readFileSync(join(dir, "node1.lab.org.err"), "utf8")).toBe("b\n");
  });
});

describe("targets", () => {
  it("parses users, ports, gateway chains and None->", () => {
    expect(parseTarget("root@h:2222")).toEqual({ user: "root", host: "h", port: 2222 });
    expect(parseTarget("gw->u@h")).toEqual({ user: "u", host: "h", gateways: [{ host: "gw" }] });
    expect(parseTarget("a@g1:22→g2->h").gateways).toEqual([
      { user: "a", host: "g1", port: 22 },
      { host: "g2" },
    ]);
    expect(parseTarget("None->h").gateways).toBe(null);
    expect(parseTarget("[::1]:2200")).toEqual({ host: "::1", port: 2200 });
    expect(formatTarget(parseTarget("g->u@h:3"))).toBe("g->u@h:3");
    expect(() => parseTarget("a->")).toThrow(AiorchError);
  });

  it("reads files (comments, commas), directories, lists; excludes by host whatever the user (B38)", () => {
    const dir = mkdtempSync(join(tmpdir(), "aiorch-targets-"));
    writeFileSync(join(dir, "hosts"), "# lab\nh1, h2\nu@h3 h4\n");
    mkdirSync(join(dir, "hostdir"));
    writeFileSync(join(dir, "hostdir", "d1"), "");
    writeFileSync(join(dir, "hostdir", "d2"), "");
    const { targets, excluded } = resolveTargets({
      targets: [join(dir, "hosts"), join(dir, "hostdir"), "x,y z", "h1"],
      excludes: ["h3", "y"],
    });
    expect(targets.map(formatTarget)).toEqual(["h1", "h2", "h4", "d1", "d2", "x", "z"]);
    expect(excluded.map(formatTarget)).toEqual(["u@h3", "y"]);
  });
});
