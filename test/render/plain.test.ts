import { expect, test } from "vitest";
import { CancelledError } from "../../src/index.ts";
import { clock, plainLine } from "../../src/render/plain.ts";
import { T0, demoScript } from "./events.ts";

const offset = (t: number) => `+${String(t - T0).padStart(4, "0")}`;

test("one line per event worth showing, with badges and group/label", () => {
  const t = demoScript();
  t.script
    .state(2600, t.compile, "done")
    .state(2600, t.tests, "running")
    .state(2600, t.unit, "scheduled", ["tests"])
    .state(2700, t.unit, "running", ["tests"])
    .state(
      3000,
      t.unit,
      "cancelled",
      ["tests"],
      new CancelledError("TIMEOUT", "cancelled: timed out after 3000 ms"),
    )
    .end(3000, false, "timeout");
  // durations come from the job objects, which these synthetic events do not set
  const lines = t.script.events.map((e) => plainLine(e, { time: offset, ascii: false }));
  expect(lines.filter((l) => l !== undefined).map((l) => l!.replace(/ \(\d+ ms\)/, ""))).toEqual([
    "+0000 ▶ run demo: 5 job(s), timeout 60000 ms",
    "+0010 ↺ fetch started",
    "+0300 | fetch git clone https://example.org/app.git",
    "+0800 ☓ fetch done",
    "+0800 ↺ compile started",
    "+0800 ↺ lint started",
    "+1200 | compile gcc -O2 -c main.c -o main.o",
    "+1500 | lint checking 12 files",
    "+1700 ★ lint failed: Error: 3 style errors",
    "+2600 ☓ compile done",
    "+2600 ↺ tests started",
    "+2700 ↺ tests/unit started",
    "+3000 ⊘ tests/unit cancelled: timed out after 3000 ms",
    "+3000 ■ end demo: timeout after 3000 ms",
  ]);
  expect(lines.join("\n")).not.toMatch(/\u001b/);
});

test("ASCII badges, host of SSH output, stderr marked, critical failures flagged", () => {
  const t = demoScript();
  const lines = t.script
    .output(1800, t.compile, "warning: unused x", [], "n3.lab")
    .state(1900, t.compile, "done", [], new Error("exit 2"))
    .events.slice(-2)
    .map((e) => plainLine(e, { time: offset, ascii: true }));
  expect(lines).toEqual([
    "+1800 | compile [n3.lab] warning: unused x",
    "+1900 ! compile failed (0 ms) CRITICAL: Error: exit 2",
  ]);
});

test("clock() is local HH:MM:SS.mmm", () => {
  expect(clock(new Date(2026, 0, 1, 9, 5, 7, 42).getTime())).toBe("09:05:07.042");
});
