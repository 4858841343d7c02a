import { inspect } from "node:util";
import { maskSecrets } from "../redact.ts";
import { describeError } from "../errors.ts";
import type { AbstractJob, JobState } from "../job.ts";

/** Badge characters, unicode and ASCII (reference A6; `cancelled` is ours). */
const UNICODE = {
  critical: "⚠",
  failed: "★",
  ok: "☉",
  forever: "∞",
  idle: "⚐",
  scheduled: "⚑",
  running: "↺",
  done: "☓",
  cancelled: "⊘",
} as const;
const ASCII = {
  critical: "!",
  failed: ":(",
  ok: ":)",
  forever: "8",
  idle: ">",
  scheduled: ".",
  running: "o",
  done: "x",
  cancelled: "/",
} as const;

let asciiDefault: boolean | undefined;

/** Whether to use ASCII badges: `AIORCH_ASCII=1`, or a non-UTF-8 locale. Cached. */
export function useAscii(): boolean {
  if (asciiDefault === undefined) {
    const env = process.env;
    if (env.AIORCH_ASCII !== undefined)
      asciiDefault = env.AIORCH_ASCII !== "0" && env.AIORCH_ASCII !== "";
    else {
      const locale = env.LC_ALL || env.LC_CTYPE || env.LANG || "";
      // unknown locale: assume UTF-8, as terminals today do
      asciiDefault =
        locale !== "" && locale !== "C.UTF-8" && !/utf-?8/i.test(locale) && locale !== "C";
    }
  }
  return asciiDefault;
}

/** The badge as fixed-width columns: critical, outcome, lifecycle, forever. */
export function badgeColumns(
  job: AbstractJob,
  ascii = useAscii(),
): [string, string, string, string] {
  const b = ascii ? ASCII : UNICODE;
  const blank = ascii ? "  " : " ";
  const outcome = job.isFailed()
    ? b.failed
    : job.state === "running" || job.state === "done"
      ? b.ok
      : blank;
  return [
    job.critical ? b.critical : " ",
    outcome,
    stateBadge(job.state, ascii),
    job.forever ? b.forever : " ",
  ];
}

/** Lifecycle badge of a state. */
export function stateBadge(state: JobState, ascii = useAscii()): string {
  return (ascii ? ASCII : UNICODE)[state];
}

/** Short rendering of a value: `200`, `'A'`, `{ a: 1 }`. */
export function formatValue(value: unknown): string {
  const text = inspect(value, {
    depth: 1,
    breakLength: Number.POSITIVE_INFINITY,
    maxStringLength: 80,
    maxArrayLength: 5,
  });
  return maskSecrets(text);
}

/** `-> value`, `!! Error: msg`, `[cancelled]` or `[not done]`. */
export function formatOutcome(job: AbstractJob): string {
  if (job.isFailed())
    return `!! ${job.critical ? "CRITICAL " : ""}${describeError(job.raisedException())}`;
  if (job.state === "done") return `-> ${formatValue(job.result())}`;
  if (job.state === "cancelled") return "[cancelled]";
  return "[not done]";
}

/**
 * The one-line form used by `toString()`: `⚠ ☓ Job b2 -> 200 requires {b1}` (SPEC §3).
 * Blank columns are dropped, and so is the "ran without exception" mark: here the result
 * or `!! exception` that follows already says it.
 */
export function formatJobLine(job: AbstractJob, ascii = useAscii()): string {
  const ok = (ascii ? ASCII : UNICODE).ok;
  const badge = badgeColumns(job, ascii)
    .filter((c) => c.trim() !== "" && c !== ok)
    .join(" ");
  const reqs = [...job.required].map((r) => r.label);
  return [
    badge,
    job.kind,
    job.label,
    formatOutcome(job),
    reqs.length ? `requires {${reqs.join(", ")}}` : "",
  ]
    .filter((x) => x !== "")
    .join(" ");
}
