/**
 * `capture` with `encoding: "buffer"` keeps every byte a command wrote (0x00-0xff, invalid
 * UTF-8, CRLF, the trailing newline), over the real sshd and on a LocalNode; the default
 * text capture decodes and drops one newline, as documented. Random data by fast-check.
 */
import { createHash } from "node:crypto";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Job } from "../../src/job.ts";
import { decodeResult, encodeOutcomes } from "../../src/queue/wire.ts";
import {
  type CommandNode,
  type CommandOutcome,
  LocalNode,
  run,
  SshJob,
  type SshJobResult,
  type SshNode,
} from "../../src/ssh/index.ts";
import { Scheduler } from "../../src/scheduler.ts";
import { nodeOn, runJobs } from "./helpers.ts";
import { type Sshd, startSshd } from "./sshd.ts";

let sshd: Sshd;
let ssh: SshNode;
const local = new LocalNode();

beforeAll(async () => {
  sshd = await startSshd({ addresses: ["127.0.0.13"] });
  ssh = nodeOn(sshd, "127.0.0.13");
});

afterAll(async () => {
  await ssh?.close();
  await sshd?.stop();
});

/** every byte value, invalid UTF-8 (a lone continuation, a truncated sequence), CRLF, a final LF */
const NASTY = Buffer.concat([
  Buffer.from(Array.from({ length: 256 }, (_, i) => i)),
  Buffer.from([0x80, 0xc3, 0x28, 0xe2, 0x82, 0xff, 0xfe]),
  Buffer.from("a\r\nb\r\n\r\n"),
  Buffer.from("\n"),
]);

/** a command printing `bytes` exactly (base64 is plain ASCII: no quoting issue) */
const printing = (bytes: Buffer): string =>
  bytes.length ? `echo ${bytes.toString("base64")} | base64 -d` : "true";

/** the outcome of one command run on `node` */
async function outcomeOf(node: CommandNode, command: ReturnType<typeof run>) {
  const job = new SshJob(node, [command], { label: "cap" });
  const reader = new Job(async (ctx) => ({ ...ctx.vars }), { label: "vars", required: job });
  const { ok, output } = await runJobs([job, reader], { critical: true });
  expect(ok).toBe(true);
  const outcome = job.result()?.commands[0] as CommandOutcome;
  const stderr = output.filter((e) => e.stream === "stderr").map((e) => e.line);
  return { outcome, vars: reader.result() as Record<string, string>, stderr };
}

const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

describe.each([
  ["SshNode", () => ssh as CommandNode],
  ["LocalNode", () => local as CommandNode],
])("capture with encoding: buffer on a %s", (_name, nodeOf) => {
  it("keeps 0x00-0xff, invalid UTF-8, CRLF and the trailing newline byte for byte", async () => {
    const { outcome, vars } = await outcomeOf(
      nodeOf(),
      run(printing(NASTY), { capture: "raw", encoding: "buffer" }),
    );
    expect(outcome.encoding).toBe("buffer");
    if (outcome.encoding !== "buffer") throw new Error("not a byte capture");
    expect(outcome.stdoutBytes.equals(NASTY)).toBe(true);
    expect(outcome.stdout).toBeUndefined(); // no lossy decoded copy
    expect(vars).not.toHaveProperty("raw"); // variables are text for shell words
  });

  it("the default text capture decodes (U+FFFD) and drops one newline, as documented", async () => {
    const { outcome, vars } = await outcomeOf(nodeOf(), run(printing(NASTY), { capture: "txt" }));
    expect(outcome.encoding).toBeUndefined();
    expect(outcome.stdout).toBe(NASTY.subarray(0, -1).toString("utf8"));
    expect(outcome.stdout).toContain("\ufffd");
    expect(vars.txt).toBe(outcome.stdout);
    expect(outcome.stdoutBytes?.equals(NASTY.subarray(0, -1))).toBe(true);
  });

  it("2 MB of random bytes arrive with the same checksum", async () => {
    const { outcome, stderr } = await outcomeOf(
      nodeOf(),
      run(
        "f=$(mktemp); head -c 2000000 /dev/urandom > $f; sha256sum < $f | cut -d' ' -f1 >&2; cat $f; rm -f $f",
        { capture: "big", encoding: "buffer" },
      ),
    );
    if (outcome.encoding !== "buffer") throw new Error("not a byte capture");
    expect(outcome.stdoutBytes.length).toBe(2_000_000);
    expect(outcome.ok).toBe(true);
    // the checksum computed where the bytes were written, on stderr
    expect(stderr).toEqual([sha(outcome.stdoutBytes)]);
  });
});

describe("capture with encoding: buffer, property", () => {
  it("any bytes come back unchanged (LocalNode)", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 600 }), async (arr) => {
        const bytes = Buffer.from(arr);
        const { outcome } = await outcomeOf(
          local,
          run(printing(bytes), { capture: "b", encoding: "buffer" }),
        );
        expect(outcome.encoding === "buffer" && outcome.stdoutBytes.equals(bytes)).toBe(true);
      }),
      { numRuns: 25 },
    );
  });

  it("bad encodings are refused when the command is built, naming the option", () => {
    expect(() => run("ls", { capture: "x", encoding: "latin1" as "utf8" })).toThrow(
      /run: encoding must be "utf8" or "buffer", got "latin1"/,
    );
    expect(() => run("ls", { encoding: "buffer" })).toThrow(
      /run: encoding "buffer" applies to a capture: give capture too/,
    );
  });

  it("a byte capture survives the queue's wire format (workers' answers)", () => {
    const outcome: CommandOutcome = {
      index: 0,
      label: "cat img",
      exitCode: 0,
      signal: null,
      durationMs: 3,
      ok: true,
      encoding: "buffer",
      stdoutBytes: NASTY,
    };
    const wire = JSON.parse(JSON.stringify(encodeOutcomes([outcome])));
    const back = decodeResult({ node: "n", commands: wire, vars: {} }).commands[0];
    expect(back?.encoding).toBe("buffer");
    expect(back?.stdout).toBeUndefined();
    expect(back?.stdoutBytes?.equals(NASTY)).toBe(true);
  });

  it("a byte capture survives the journal (--resume restores bytes, sets no variable)", async () => {
    const job = new SshJob(local, [run(printing(NASTY), { capture: "raw", encoding: "buffer" })], {
      label: "cap",
    });
    expect(await new Scheduler([job]).run()).toBe(true);
    const kept = job.journalResult(job.result() as SshJobResult);
    if (!("result" in kept)) throw new Error("not journaled");
    const vars: Record<string, string> = {};
    const back = job.restoreResult(JSON.parse(JSON.stringify(kept.result)), { vars });
    const o = back.commands[0];
    expect(o?.encoding).toBe("buffer");
    expect(o?.stdout).toBeUndefined();
    expect(o?.stdoutBytes?.equals(NASTY)).toBe(true);
    expect(vars).toEqual({});
  });
});
