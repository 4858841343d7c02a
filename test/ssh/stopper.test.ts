/**
 * A command stopped while its channel is still opening (the open cannot be withdrawn once
 * asked): once the channel opens, its process group gets TERM, then KILL after the grace,
 * as a running command would; it used to run on until the connection closed.
 */
import { describe, expect, test, vi } from "vitest";
import { STOP_GRACE_MS } from "../../src/ssh/groups.ts";
import { CommandStopper, type StopHolder } from "../../src/ssh/stop.ts";

function holder(): { h: StopHolder; job: AbortController } {
  const job = new AbortController();
  return { h: { signal: job.signal }, job };
}

describe("CommandStopper", () => {
  test("stopped before its channel opened: TERM at the open, KILL after the grace", () => {
    vi.useFakeTimers();
    try {
      const { h, job } = holder();
      const s = new CommandStopper(h, undefined);
      job.abort(new Error("run cancelled"));
      // before the open: the wait is aborted, nothing to signal yet
      expect(s.stop.signal.aborted).toBe(true);
      const sent: string[] = [];
      s.started((sig) => sent.push(sig));
      expect(sent).toEqual(["TERM"]);
      vi.advanceTimersByTime(STOP_GRACE_MS - 1);
      expect(sent).toEqual(["TERM"]);
      vi.advanceTimersByTime(1);
      expect(sent).toEqual(["TERM", "KILL"]);
    } finally {
      vi.useRealTimers();
    }
  });

  test("a timeout that fires while the channel opens stops the command the same way", () => {
    vi.useFakeTimers();
    try {
      const { h } = holder();
      const s = new CommandStopper(h, 50);
      vi.advanceTimersByTime(50);
      expect(s.timedOut).toBe(true);
      const sent: string[] = [];
      s.started((sig) => sent.push(sig));
      expect(sent).toEqual(["TERM"]);
      vi.advanceTimersByTime(STOP_GRACE_MS);
      expect(sent).toEqual(["TERM", "KILL"]);
    } finally {
      vi.useRealTimers();
    }
  });

  test("not stopped: the open sends nothing; a later cancel sends TERM then KILL", () => {
    vi.useFakeTimers();
    try {
      const { h, job } = holder();
      const s = new CommandStopper(h, undefined);
      const sent: string[] = [];
      s.started((sig) => sent.push(sig));
      expect(sent).toEqual([]);
      job.abort(new Error("run cancelled"));
      expect(sent).toEqual(["TERM"]);
      vi.advanceTimersByTime(STOP_GRACE_MS);
      expect(sent).toEqual(["TERM", "KILL"]);
      s.done();
    } finally {
      vi.useRealTimers();
    }
  });

  test("a command that ended is never signalled by a late open", () => {
    const { h, job } = holder();
    const s = new CommandStopper(h, undefined);
    job.abort(new Error("run cancelled"));
    s.done();
    const sent: string[] = [];
    s.started((sig) => sent.push(sig));
    expect(sent).toEqual([]);
  });
});
