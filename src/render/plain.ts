import { describeError } from "../errors.ts";
import type { RunEvent } from "../events.ts";

/** `HH:MM:SS.mmm` of an epoch-ms time, local time. */
export function clock(time: number): string {
  const d = new Date(time);
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

/** One plain line per event (no escape codes), or undefined for events not worth a line. */
export function plainLine(e: RunEvent): string | undefined {
  const where = (path: readonly string[], label: string) => [...path, label].join("/");
  switch (e.type) {
    case "run-start":
      return `${clock(e.time)} run ${where(e.path, e.label)}: ${e.jobs} job(s)${e.timeout !== undefined ? `, timeout ${e.timeout} ms` : ""}${e.window ? `, window ${e.window}` : ""}`;
    case "job-state": {
      if (e.state === "idle" || e.state === "scheduled") return undefined;
      const what =
        e.state === "running"
          ? "started"
          : e.state === "cancelled"
            ? "cancelled"
            : e.error !== undefined
              ? `failed: ${describeError(e.error)}`
              : "done";
      const dur = e.state === "running" ? "" : ` (${e.job.endedAt - e.job.startedAt} ms)`;
      return `${clock(e.time)} ${where(e.path, e.label)} ${what}${dur}`;
    }
    case "job-output":
      return `${clock(e.time)} ${where(e.path, e.label)}${e.host ? ` [${e.host}]` : ""}${e.stream === "stderr" ? " !" : " |"} ${e.line}`;
    case "run-end":
      return `${clock(e.time)} end ${where(e.path, e.label)}: ${e.ok ? "ok" : e.reason} after ${e.elapsed} ms`;
    case "shutdown":
      return e.problems.length
        ? e.problems
            .map((p) => `${clock(e.time)} shutdown problem: ${p.label}: ${describeError(p.error)}`)
            .join("\n")
        : undefined;
  }
}
