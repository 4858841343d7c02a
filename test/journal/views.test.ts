/** Restored jobs and retried attempts as the live view, the report and a trace's timeline show them. */
import { describe, expect, test } from "vitest";
import { Job, Scheduler } from "../../src/index.ts";
import {
  buildTimeline,
  createLiveState,
  frame,
  reduceLiveState,
  renderReport,
  timelineFromTrace,
} from "../../src/render/index.ts";
import { createRecorder } from "../../src/trace/index.ts";

function build() {
  let tries = 0;
  const kept = new Job(async () => 1, { label: "kept" });
  const flaky = new Job(
    async () => {
      if (++tries < 2) throw new Error("flake");
      return 2;
    },
    { label: "flaky", retry: { attempts: 3, backoff: 1 }, required: kept },
  );
  return { s: new Scheduler([kept, flaky], { label: "views" }), kept };
}

describe("views of durable runs", () => {
  test("live view, report and trace timeline show restored jobs and attempts", async () => {
    const { s, kept } = build();
    const state = createLiveState({ tail: 5 });
    s.on((e) => reduceLiveState(state, e));
    const rec = createRecorder({ scheduler: s });
    expect(await s.run({ restore: new Map([[kept, 1]]) })).toBe(true);
    expect(state.counts).toMatchObject({ done: 1, restored: 1, failed: 0 });
    const text = frame(state, { rows: 10, cols: 120, now: Date.now(), ascii: true });
    expect(text).toContain("r 1 restored");
    expect(text).toMatch(/^r kept .*restored from the journal/m);
    const live = buildTimeline({ state });
    expect(live.jobs.map((j) => [j.label, j.outcome, j.attempts])).toEqual([
      ["kept", "restored", undefined],
      ["flaky", "ok", 2],
    ]);
    expect(live.jobs[1]?.retryNote).toMatch(
      /^attempt 1\/3 failed: Error: flake · attempt 2 in \d+ ms$/,
    );
    expect(renderReport({ model: live })).toContain('class="row restored"');
    const fromTrace = timelineFromTrace(rec.finish({ ok: true }));
    expect(fromTrace.jobs.map((j) => [j.label, j.outcome, j.attempts])).toEqual([
      ["kept", "restored", undefined],
      ["flaky", "ok", 2],
    ]);
  });
});
