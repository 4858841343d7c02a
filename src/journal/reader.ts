import { existsSync, readFileSync } from "node:fs";
import { AiorchError } from "../errors.ts";
import { checkTrace } from "../trace/file.ts";
import type { Trace, TraceError, TraceNode } from "../trace/types.ts";
import { traceIdentity } from "./identity.ts";
import { journalPathFor } from "./writer.ts";
import {
  JOURNAL_VERSION,
  type Journal,
  type JournalEndEntry,
  type JournalHeader,
  type JournalJobEntry,
} from "./types.ts";

/**
 * Read a journal. Every line is checked; a last line that is not complete JSON (the
 * controller died while writing it) is ignored and said so in `warnings`; any other bad
 * line is a `JOURNAL` error naming `file:line` and the field.
 */
export function readJournal({ file }: { file: string }): Journal {
  const text = readText(file);
  return parseJournal({ text, file });
}

/** {@link readJournal} on text already read. */
export function parseJournal({ text, file }: { text: string; file: string }): Journal {
  const lines = text.split("\n");
  // a complete journal ends with a newline: the last element is then ""
  const torn = lines[lines.length - 1] !== "";
  if (!torn) lines.pop();
  const warnings: string[] = [];
  const bad = (n: number, what: string): AiorchError =>
    new AiorchError("JOURNAL", `${file}:${n}: ${what}`, { file, line: n });
  let header: JournalHeader | undefined;
  const jobs = new Map<string, JournalJobEntry>();
  let end: JournalEndEntry | undefined;
  for (let i = 0; i < lines.length; i++) {
    const n = i + 1;
    const line = lines[i]!;
    let data: unknown;
    try {
      data = JSON.parse(line);
    } catch {
      if (torn && i === lines.length - 1 && i > 0) {
        warnings.push(
          `${file}:${n}: last line is incomplete (the run was stopped while writing it): ignored`,
        );
        break;
      }
      throw bad(n, i === 0 ? "not an aiorch journal (no JSON header line)" : "not JSON");
    }
    if (i === 0) {
      header = checkHeader(data, (what) => bad(n, what));
      continue;
    }
    const type = (data as { type?: unknown } | null)?.type;
    if (type === "job") {
      const entry = checkJobEntry(data as Record<string, unknown>, (what) => bad(n, what));
      jobs.set(entry.label, entry);
    } else if (type === "run-end") {
      const d = data as Record<string, unknown>;
      if (typeof d.ok !== "boolean") throw bad(n, `"ok" must be a boolean`);
      end = {
        type: "run-end",
        ok: d.ok,
        reason: String(d.reason),
        at: typeof d.at === "number" ? d.at : 0,
      };
    } else throw bad(n, `"type" must be "job" or "run-end", got ${JSON.stringify(type)}`);
  }
  if (!header)
    throw new AiorchError("JOURNAL", `${file} is empty: not an aiorch journal`, { file });
  return { file, header, jobs, ...(end ? { end } : {}), warnings };
}

function checkHeader(data: unknown, bad: (what: string) => AiorchError): JournalHeader {
  const h = data as Partial<JournalHeader> | null;
  if (!h || typeof h !== "object" || h.format !== "aiorch-journal")
    throw bad(`not an aiorch journal (no "format": "aiorch-journal")`);
  if (typeof h.version !== "number" || Math.floor(h.version) !== JOURNAL_VERSION)
    throw bad(
      `journal version ${String(h.version)} is not supported (this aiorch reads version ${JOURNAL_VERSION})`,
    );
  if (typeof h.scenario !== "string") throw bad(`"scenario" must be a string`);
  return {
    format: "aiorch-journal",
    version: h.version,
    scenario: h.scenario,
    ...(typeof h.file === "string" ? { file: h.file } : {}),
    startedAt: typeof h.startedAt === "number" ? h.startedAt : 0,
  };
}

function checkJobEntry(
  d: Record<string, unknown>,
  bad: (what: string) => AiorchError,
): JournalJobEntry {
  if (typeof d.label !== "string" || d.label === "")
    throw bad(`"label" must be a non-empty string`);
  const where = `job "${d.label}": `;
  if (!Array.isArray(d.path) || !d.path.every((p) => typeof p === "string"))
    throw bad(`${where}"path" must be an array of strings`);
  if (d.state !== "done" && d.state !== "cancelled")
    throw bad(`${where}"state" must be "done" or "cancelled", got ${JSON.stringify(d.state)}`);
  if (typeof d.ok !== "boolean") throw bad(`${where}"ok" must be a boolean`);
  for (const k of ["identity", "unrestorable"] as const)
    if (d[k] !== undefined && typeof d[k] !== "string")
      throw bad(`${where}"${k}" must be a string`);
  return {
    type: "job",
    label: d.label,
    path: d.path as string[],
    state: d.state,
    ok: d.ok,
    ...(typeof d.identity === "string" ? { identity: d.identity } : {}),
    ...(d.result !== undefined ? { result: d.result as JournalJobEntry["result"] & {} } : {}),
    ...(typeof d.unrestorable === "string" ? { unrestorable: d.unrestorable } : {}),
    ...(d.restored === true ? { restored: true as const } : {}),
    ...(typeof d.attempts === "number" ? { attempts: d.attempts } : {}),
    ...(isTraceError(d.error) ? { error: d.error } : {}),
    at: typeof d.at === "number" ? d.at : 0,
  };
}

function isTraceError(e: unknown): e is TraceError {
  const x = e as Partial<TraceError> | null;
  return (
    typeof x === "object" &&
    x !== null &&
    typeof x.name === "string" &&
    typeof x.message === "string"
  );
}

function readText(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (err) {
    throw new AiorchError("JOURNAL", `cannot read ${file}: ${(err as Error).message}`, {
      file,
      cause: err,
    });
  }
}

/**
 * What `--resume FILE` reads: a journal, or a trace. For a trace, the journal beside it
 * (`run.trace.journal.jsonl`) is read when it exists (it is flushed at every job end, the
 * trace only at the end of the run: after a `kill -9` only the journal is there); else the
 * trace's own jobs are used (plain JSON results only).
 */
export function readResumeSource({ file }: { file: string }): Journal {
  const beside = journalPathFor(file);
  if (!existsSync(file)) {
    if (/\.json$/i.test(file) && existsSync(beside)) return readJournal({ file: beside });
    throw new AiorchError(
      "JOURNAL",
      `cannot resume from ${file}: no such file${/\.json$/i.test(file) ? ` (nor ${beside})` : ""}`,
      { file },
    );
  }
  const text = readText(file);
  if (/^\s*\{\s*"format"\s*:\s*"aiorch-journal"/.test(text)) return parseJournal({ text, file });
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new AiorchError("JOURNAL", `${file} is neither an aiorch journal nor a trace`, { file });
  }
  const trace = checkTrace({ data, file });
  if (existsSync(beside)) return readJournal({ file: beside });
  return journalOfTrace({ trace, file });
}

/** The jobs of a trace as journal entries (results noted `projected` and the like are not restorable). */
export function journalOfTrace({ trace, file }: { trace: Trace; file: string }): Journal {
  const jobs = new Map<string, JournalJobEntry>();
  const walk = (nodes: readonly TraceNode[], path: string[]): void => {
    for (const n of nodes) {
      if (n.type === "scheduler") {
        walk(n.jobs, [...path, n.label]);
        continue;
      }
      if (n.state !== "done" && n.state !== "cancelled") continue;
      const ok = n.state === "done" && n.error === undefined;
      const id = traceIdentity(n);
      jobs.set(n.label, {
        type: "job",
        label: n.label,
        path,
        state: n.state,
        ok,
        ...(id === undefined ? {} : { identity: id }),
        ...(n.result !== undefined ? { result: n.result } : {}),
        ...(n.resultNote
          ? {
              unrestorable: `its recorded result is ${n.resultNote} (the trace keeps no restorable copy; resume from the journal)`,
            }
          : {}),
        at: trace.run.startedAt + (n.endedAt ?? 0),
      });
    }
  };
  walk(trace.scenario.jobs, []);
  return {
    file,
    header: {
      format: "aiorch-journal",
      version: JOURNAL_VERSION,
      scenario: trace.scenario.label,
      ...(trace.file ? { file: trace.file } : {}),
      startedAt: trace.run.startedAt,
    },
    jobs,
    end: { type: "run-end", ok: trace.run.ok, reason: trace.run.reason, at: trace.run.endedAt },
    warnings: [],
  };
}
