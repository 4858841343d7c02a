import { createHash } from "node:crypto";
import type { AbstractJob } from "../job.ts";
import { Redactor, sanitizeDescription } from "../trace/capture.ts";
import type { JsonValue } from "../json.ts";
import type { TraceJob } from "../trace/types.ts";

/** A job's identity for resume, or why it has none. */
export type JobIdentity = { identity: string } | { undescribable: string };

/**
 * The identity of a job's definition: a hash of its kind and its description (command
 * lines and node of an SSH job, module function of a `moduleJob`), secrets removed. Two
 * runs of an unchanged scenario give the same identities; a changed command does not.
 * A function that does not describe itself has none (it cannot be compared).
 */
export function identifyJob(job: AbstractJob): JobIdentity {
  let work: unknown;
  try {
    work = job.describe();
  } catch (err) {
    return { undescribable: `its describe() threw: ${String(err)}` };
  }
  const kind = (work as { kind?: unknown }).kind;
  if (kind === "opaque")
    return {
      undescribable:
        "its function cannot be described (give it a `source`, or wrap it with moduleJob())",
    };
  if (kind === "scheduler") return { undescribable: "it is a scheduler" };
  return { identity: hashIdentity(job.kind, sanitizeDescription(work, new Redactor())) };
}

/** `sha256:…` of a kind and a sanitized description (as traces record it). */
export function hashIdentity(kind: string, work: JsonValue): string {
  const text = JSON.stringify({ kind, work });
  return `sha256:${createHash("sha256").update(text).digest("hex")}`;
}

/** The identity of a recorded trace job, as {@link identifyJob} gave it live; undefined for opaque ones. */
export function traceIdentity(n: TraceJob): string | undefined {
  if (n.work.kind === "opaque") return undefined;
  return hashIdentity(n.kind, n.work as JsonValue);
}
