/**
 * Labels, results and error messages are untrusted (YAML scenarios, remote answers): no
 * view writes their control characters to a terminal or a log. A label that clears the
 * screen, sets the window title, or rewrites its line with `\r` is shown escaped instead.
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { Job, Scheduler } from "../../src/index.ts";
import { visibleText } from "../../src/render/cells.ts";
import { createLiveState, frame, reduceLiveState } from "../../src/render/live.ts";
import { plainLine } from "../../src/render/plain.ts";

// ESC, BEL, CR, other C0/C1 controls, DEL and the bidirectional overrides
const ACTING = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]/;
const EVIL = "evil\u001b]0;PWNED\u0007\u001b[2J\nsecond\rX\u202e";

describe("visibleText()", () => {
  test("shows controls as escapes; keeps newlines and tabs unless oneLine", () => {
    expect(visibleText("a\u001b[2Jb\u0007c\rd\u202ee")).toBe("a\\e[2Jb\\x07c\\rd\\u202ee");
    expect(visibleText("one\ntwo\tthree")).toBe("one\ntwo\tthree");
    expect(visibleText("one\ntwo\tthree", { oneLine: true })).toBe("one\\ntwo\\tthree");
    expect(visibleText("plain ✓ text")).toBe("plain ✓ text");
  });

  test("no control character survives, and a second pass changes nothing (property)", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), fc.boolean(), (s, oneLine) => {
        const v = visibleText(s, { oneLine });
        const acting = oneLine ? /[\u0000-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]/ : ACTING;
        expect(acting.test(v)).toBe(false);
        expect(visibleText(v, { oneLine })).toBe(v);
      }),
      { numRuns: 500 },
    );
  });
});

describe("views of a run with a hostile label and error", () => {
  async function hostileRun() {
    const bad = new Job(
      async () => {
        throw new Error("boom\u001b[2J\u0007");
      },
      { label: EVIL, critical: false },
    );
    const ok = new Job(async () => "v\u001b[31m", { label: "ok" });
    const s = new Scheduler([bad, ok], { label: "hostile\u001b[31m" });
    const plain: string[] = [];
    const state = createLiveState({ title: "t" });
    s.on((e) => {
      const l = plainLine(e, { ascii: true, time: () => "T" });
      if (l !== undefined) plain.push(l);
      reduceLiveState(state, e);
    });
    expect(await s.run()).toBe(true);
    return { s, bad, plain, state };
  }

  test("plain log, list, debrief, toString and the live frame show the controls escaped", async () => {
    const { s, bad, plain, state } = await hostileRun();
    const live = frame(state, { rows: 20, cols: 200, now: Date.now(), color: false, ascii: true });
    for (const text of [plain.join("\n"), s.list(), s.debrief(), String(bad), live])
      expect(ACTING.test(text), text).toBe(false);
    const shown = "evil\\e]0;PWNED\\x07\\e[2J\\nsecond\\rX\\u202e";
    expect(plain.join("\n")).toContain(`${shown} failed`);
    expect(plain.join("\n")).toContain("Error: boom\\e[2J\\x07");
    expect(s.list()).toContain(`Job ${shown} !! Error: boom\\e[2J\\x07`);
    expect(s.list()).toContain("-> 'v\\x1B[31m'"); // results are shown as inspect() quotes them
    expect(s.debrief()).toContain(`non-critical: ${shown}: Error: boom\\e[2J\\x07`);
    expect(String(bad)).toContain(shown);
    expect(live).toContain("evil\\e]0;PWNED");
    // one line per job in the live frame: the \n of the label did not break it
    expect(live.split("\n").filter((l) => l.includes("evil")).length).toBe(1);
  });
});
