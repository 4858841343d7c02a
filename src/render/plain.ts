import type { RunEvent } from "../events.ts";
import { oneLine, stripControls } from "./cells.ts";
import { badgeOf, jobBadge, shownError, stateBadge, useAscii } from "./line.ts";

let lastTime = Number.NaN;
let lastClock = "";

/** `HH:MM:SS.mmm` of an epoch-ms time, local time. */
export function clock(time: number): string {
  // events come in bursts with the same millisecond: format each one once
  if (time === lastTime) return lastClock;
  const d = new Date(time);
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  lastTime = time;
  lastClock = `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
  return lastClock;
}

/** ` after 3 attempts` when a job was retried. */
function attemptsText(n: number): string {
  return n > 1 ? ` after ${n} attempts` : "";
}

/** Options of {@link plainLine}. */
export interface PlainLineOptions {
  /** ASCII badges @default useAscii() */
  ascii?: boolean;
  /** how a time is printed @default clock (local `HH:MM:SS.mmm`) */
  time?: (epochMs: number) => string;
}

/**
 * One plain line per event for logs and CI (no escape codes, even from job output), or
 * undefined for events not worth a line (`idle`/`scheduled` changes, clean shutdowns).
 * Lines read `TIME BADGE WHERE WHAT`, WHERE being `group/label`:
 *
 * ```text
 * 10:02:03.120 ↺ build/compile started
 * 10:02:03.544 | build/compile [n3] gcc -O2 main.c
 * 10:02:04.010 ★ build/test failed (466 ms): Error: 2 tests failed
 * ```
 */
export function plainLine(e: RunEvent, opts: PlainLineOptions = {}): string | undefined {
  const ascii = opts.ascii ?? useAscii();
  const t = (opts.time ?? clock)(e.time);
  // labels and messages are untrusted: their control characters are shown, never acted on
  const where = (path: readonly string[], label: string) => oneLine([...path, label].join("/"));
  switch (e.type) {
    case "run-start": {
      const extra = [
        e.timeout !== undefined ? `timeout ${e.timeout} ms` : "",
        e.window ? `window ${e.window}` : "",
      ].filter((x) => x !== "");
      return `${t} ${ascii ? "=" : "▶"} run ${where(e.path, e.label)}: ${e.jobs} job(s)${extra.length ? `, ${extra.join(", ")}` : ""}`;
    }
    case "job-state": {
      if (e.state === "idle" || e.state === "scheduled") return undefined;
      const dur =
        e.state === "running" ? "" : ` (${Math.max(0, e.job.endedAt - e.job.startedAt)} ms)`;
      const failed = e.state === "done" && e.error !== undefined;
      const badge = jobBadge(failed ? "failed" : e.state, ascii);
      const what =
        e.state === "running"
          ? "started"
          : e.state === "cancelled"
            ? `cancelled${dur}${e.error !== undefined ? `: ${shownError(e.error).replace(/^cancelled: /, "")}` : ""}`
            : failed
              ? `failed${dur}${attemptsText(e.job.attempts)}${e.job.critical ? " CRITICAL" : ""}: ${shownError(e.error)}`
              : e.restored
                ? "restored (not run: done in the resumed run)"
                : `done${dur}${attemptsText(e.job.attempts)}`;
      return `${t} ${e.restored ? badgeOf("restored", ascii) : badge} ${where(e.path, e.label)} ${what}`;
    }
    case "job-attempt": {
      const next =
        e.delay !== undefined
          ? `, attempt ${e.attempt + 1} in ${e.delay} ms`
          : e.gaveUp !== undefined
            ? `, gave up: ${e.gaveUp}`
            : "";
      return `${t} ${badgeOf("retry", ascii)} ${where(e.path, e.label)} attempt ${e.attempt}/${e.attempts} failed: ${shownError(e.error)}${next}`;
    }
    case "job-ready":
      return `${t} ${stateBadge("running", ascii)} ${where(e.path, e.label)} ready`;
    case "job-output":
      return `${t} ${e.stream === "stderr" ? "!" : "|"} ${where(e.path, e.label)}${e.host ? ` [${oneLine(e.host)}]` : ""} ${stripControls(e.line)}`;
    case "run-end":
      return `${t} ${ascii ? "=" : "■"} end ${where(e.path, e.label)}: ${e.ok ? "ok" : e.reason} after ${e.elapsed} ms`;
    case "shutdown":
      return e.problems.length
        ? e.problems
            .map((p) => `${t} ! shutdown problem: ${p.label}: ${shownError(p.error)}`)
            .join("\n")
        : undefined;
  }
}
