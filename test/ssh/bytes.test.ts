/**
 * Bytes stay bytes: `aiorch ssh -r` and `-o` carry exactly what the remote command wrote
 * (random binary data, CRLF, a line longer than the line bound without a newline), compared
 * by checksum; the line splitter bounds every line it keeps and still hands on every byte.
 */
import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LineSplitter } from "../../src/ssh/lines.ts";
import { aiorchBytes } from "./helpers.ts";
import { type Sshd, startSshd } from "./sshd.ts";

let sshd: Sshd;
let work: string;

beforeAll(async () => {
  sshd = await startSshd({ addresses: ["127.0.0.12"] });
  work = mkdtempSync(join(tmpdir(), "aiorch-bytes-"));
});

afterAll(async () => {
  await sshd?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

const aiorch = (args: string[]) =>
  aiorchBytes(
    { user: sshd.user, key: sshd.keys.clientKey.path, knownHosts: sshd.knownHosts },
    args,
  );

const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

// random bytes (any byte value, CRLF included), their sha256 on stderr, a 3 MB line without newline
const REMOTE =
  "f=$(mktemp); head -c 2000000 /dev/urandom > $f; printf 'a\\r\\nb\\r\\n' >> $f; " +
  "head -c 3000000 /dev/zero | tr '\\000' x >> $f; sha256sum < $f | cut -d' ' -f1 >&2; cat $f; rm -f $f";

describe("exact bytes", () => {
  it("-r writes the exact bytes to stdout", async () => {
    const r = await aiorch(["ssh", "-t", `127.0.0.12:${sshd.port}`, "-r", "--", REMOTE]);
    expect(r.code).toBe(0);
    expect(r.stdout.length).toBe(2_000_000 + 6 + 3_000_000);
    expect(r.stderr).toContain(sha(r.stdout));
  });

  it("-o DIR files receive the exact bytes", async () => {
    const dir = join(work, "out");
    const r = await aiorch([
      "ssh",
      "-t",
      `127.0.0.12:${sshd.port}`,
      "-o",
      dir,
      "--no-live",
      "--",
      REMOTE,
    ]);
    expect(r.code).toBe(0);
    const out = readFileSync(join(dir, `127.0.0.12:${sshd.port}.out`));
    const err = readFileSync(join(dir, `127.0.0.12:${sshd.port}.err`), "utf8");
    expect(out.length).toBe(5_000_006);
    expect(err).toBe(`${sha(out)}\n`);
  });
});

describe("backpressure", () => {
  it("-r to a reader that stops reading: the command waits, memory stays flat, every byte arrives", async () => {
    const size = 300_000_000;
    const child = spawn(
      process.execPath,
      [
        "bin/aiorch.mjs",
        "ssh",
        ...["-l", sshd.user, "-k", sshd.keys.clientKey.path, "--known-hosts", sshd.knownHosts],
        ...["-t", `127.0.0.12:${sshd.port}`, "-r", "--", `head -c ${size} /dev/zero`],
      ],
      { stdio: ["ignore", "pipe", "ignore"] },
    );
    const rssMb = () =>
      Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"))?.[1]) / 1024;
    let got = 0;
    child.stdout.on("data", (c: Buffer) => {
      got += c.length;
    });
    child.stdout.pause(); // a reader that is not reading: the pipe fills
    await new Promise((r) => setTimeout(r, 2500));
    const paused = rssMb();
    const during = got;
    child.stdout.resume();
    const code = await new Promise<number | null>((r) => child.on("exit", r));
    expect(code).toBe(0);
    expect(got).toBe(size);
    expect(during).toBeLessThan(size / 4); // it really waited for the reader
    // without backpressure the received data piles up in the process (hundreds of MB)
    expect(paused).toBeLessThan(200);
  }, 60_000);
});

describe("LineSplitter", () => {
  it("hands on every byte, bounds lines, strips only the line end from the text", () => {
    const data = Buffer.concat([
      Buffer.from("one\r\ntwo\n"),
      Buffer.alloc(40, 0x78),
      Buffer.from("\nlast"),
      randomBytes(100),
    ]);
    const lines: string[] = [];
    const bytes: Buffer[] = [];
    const s = new LineSplitter((l, b) => {
      lines.push(l);
      bytes.push(Buffer.from(b));
    }, 16);
    for (let i = 0; i < data.length; i += 7) s.push(data.subarray(i, i + 7));
    s.end();
    expect(Buffer.concat(bytes).equals(data)).toBe(true);
    expect(lines.slice(0, 2)).toEqual(["one", "two"]);
    expect(bytes.every((b) => b.length <= 16)).toBe(true);
    expect(lines.slice(2, 5).join("")).toBe("x".repeat(40));
  });
});
