/**
 * Node output lines in the CLI views: `fit01:line` in plain mode (apssh's habit), other
 * formats on request, and streamed above the live view with `lines`.
 */
import { Writable } from "node:stream";
import { describe, expect, test } from "vitest";
import { attachView, type ViewStream } from "../../src/cli/view.ts";
import { Job } from "../../src/job.ts";
import { Scheduler } from "../../src/scheduler.ts";
import { LocalNode, run, SshJob } from "../../src/ssh/index.ts";

function sink(tty: boolean): { stream: ViewStream; text: () => string } {
  let text = "";
  const stream = new Writable({
    write(chunk, _enc, done) {
      text += String(chunk);
      done();
    },
  }) as ViewStream;
  if (tty) Object.assign(stream, { isTTY: true, columns: 100, rows: 30 });
  return { stream, text: () => text };
}

async function show(opts: { tty: boolean; lines?: "host" | "time-host" | "raw" | "log" }) {
  const scheduler = new Scheduler([
    new SshJob(new LocalNode(), [run("echo out-1; echo err-1 >&2; printf 'ctl\\033[2Jx\\n'")], {
      label: "cmd",
    }),
    new Job(async ({ log }) => log("a log line"), { label: "fn" }),
  ]);
  const out = sink(opts.tty);
  const view = attachView({
    scheduler,
    mode: opts.tty ? "live" : "plain",
    out: out.stream,
    color: false,
    ...(opts.lines ? { lines: opts.lines } : {}),
  });
  try {
    expect(await scheduler.run()).toBe(true);
  } finally {
    view.stop();
  }
  return out.text();
}

describe("node output lines", () => {
  test("plain mode: node:line for stdout and stderr, control codes removed, logs as events", async () => {
    const text = await show({ tty: false });
    const lines = text.split("\n");
    expect(lines).toContain("localhost:out-1");
    expect(lines).toContain("localhost:err-1");
    expect(lines).toContain("localhost:ctlx");
    expect(text).not.toContain("\u001b");
    expect(lines.some((l) => /^\d\d:\d\d:\d\d\.\d{3} \| fn a log line$/.test(l))).toBe(true);
  });

  test("formats: time-host, raw, log", async () => {
    expect((await show({ tty: false, lines: "time-host" })).split("\n")).toEqual(
      expect.arrayContaining([expect.stringMatching(/^\d\d-\d\d-\d\d:localhost:out-1$/)]),
    );
    expect((await show({ tty: false, lines: "raw" })).split("\n")).toContain("out-1");
    expect((await show({ tty: false, lines: "log" })).split("\n")).toEqual(
      expect.arrayContaining([expect.stringMatching(/^\S+ \| cmd \[localhost\] out-1$/)]),
    );
  });

  test("live mode prints node lines only with `lines`, above the view", async () => {
    expect(await show({ tty: true })).not.toContain("localhost:out-1");
    const text = await show({ tty: true, lines: "host" });
    expect(text).toContain("localhost:out-1\n");
    expect(text).toContain("localhost:err-1\n");
    // the debrief comes after the streamed lines
    expect(text.indexOf("localhost:out-1")).toBeLessThan(text.lastIndexOf("cmd"));
  });
});
