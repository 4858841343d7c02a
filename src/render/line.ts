import { inspect } from "node:util";
import { maskSecrets } from "../redact.ts";
import { describeError } from "../errors.ts";
import { type JobState, type StatusSource, statusOfJob } from "../model.ts";
import { oneLine, visibleText } from "./cells.ts";

/** What a badge shows: plain facts, from a plan node and its status, or a live job. */
export interface BadgeFacts {
  readonly critical: boolean;
  readonly forever: boolean;
  readonly state: JobState;
  readonly failed: boolean;
}

/** What an outcome column shows. */
export interface OutcomeFacts extends BadgeFacts {
  readonly result?: unknown;
  readonly error?: unknown;
  /** done without running: restored from a journal */
  readonly restored?: boolean;
  /** attempts made, when more than one */
  readonly attempts?: number;
}

/** The part of a job `toString()` reads (an `AbstractJob` is one; render/ never imports it). */
export interface LineJob extends StatusSource {
  readonly critical: boolean;
  readonly forever: boolean;
  readonly kind: string;
  readonly label: string;
  readonly required: Iterable<{ readonly label: string }>;
}

/** The badge and outcome facts of a live job. */
export function factsOf(job: LineJob): OutcomeFacts {
  return { critical: job.critical, forever: job.forever, ...statusOfJob(job) };
}

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
  /** done without running: restored from a journal (`--resume`) */
  restored: "⤺",
  /** a failed attempt of a job with a `retry` option */
  retry: "↻",
  /** one-glyph badge of a failed job, where a single badge stands for the job (live, plain) */
  failedJob: "★",
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
  restored: "r",
  retry: "~",
  failedJob: "!",
} as const;

/** A badge's name in the one table. */
export type BadgeName = keyof typeof UNICODE;

/** The badge `name` from the one table (unicode, or ASCII). */
export function badgeOf(name: BadgeName, ascii = useAscii()): string {
  return (ascii ? ASCII : UNICODE)[name];
}

/** The one badge of a job in a state (`failed` for a job done with an exception). */
export function jobBadge(state: JobState | "failed" | "restored", ascii = useAscii()): string {
  return badgeOf(state === "failed" ? "failedJob" : state, ascii);
}

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
  job: BadgeFacts,
  ascii = useAscii(),
): [string, string, string, string] {
  const b = ascii ? ASCII : UNICODE;
  const blank = ascii ? "  " : " ";
  const outcome = job.failed
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

/** An error's message for a terminal or a log (untrusted): its control characters shown. */
export function shownError(e: unknown): string {
  return visibleText(describeError(e));
}

/** `-> value`, `!! Error: msg`, `[cancelled]` or `[not done]`. */
export function formatOutcome(job: OutcomeFacts): string {
  const attempts = job.attempts ?? 1;
  if (job.failed)
    return `!! ${job.critical ? "CRITICAL " : ""}${oneLine(describeError(job.error))}${attempts > 1 ? ` (after ${attempts} attempts)` : ""}`;
  if (job.state === "done")
    return `-> ${oneLine(formatValue(job.result))}${job.restored ? " (restored)" : attempts > 1 ? ` (${attempts} attempts)` : ""}`;
  if (job.state === "cancelled") return "[cancelled]";
  return "[not done]";
}

/**
 * The one-line form used by `toString()`: `⚠ ☓ Job b2 -> 200 requires {b1}` (SPEC §3).
 * Blank columns are dropped, and so is the "ran without exception" mark: here the result
 * or `!! exception` that follows already says it.
 */
export function formatJobLine(job: LineJob, ascii = useAscii()): string {
  const ok = (ascii ? ASCII : UNICODE).ok;
  const facts = factsOf(job);
  const badge = badgeColumns(facts, ascii)
    .filter((c) => c.trim() !== "" && c !== ok)
    .join(" ");
  const reqs = [...job.required].map((r) => oneLine(r.label));
  return [
    badge,
    job.kind,
    oneLine(job.label),
    formatOutcome(facts),
    reqs.length ? `requires {${reqs.join(", ")}}` : "",
  ]
    .filter((x) => x !== "")
    .join(" ");
}
