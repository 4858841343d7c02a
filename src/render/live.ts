import pc from "picocolors";
import { fitText, formatDuration, measureWidth, oneLine, truncateText } from "./cells.ts";
import { jobBadge, useAscii } from "./line.ts";
import { type LiveJob, type LiveState, bucketOf } from "./live-state.ts";

export {
  type LiveCounts,
  type LiveJob,
  type LiveState,
  createLiveState,
  reduceLiveState,
} from "./live-state.ts";

/** Size, clock and style of one frame. */
export interface FrameOptions {
  /** terminal rows: the frame has at most `rows - 1` lines (the cursor keeps the last) */
  rows: number;
  /** terminal columns: no line is wider than `cols - 1` */
  cols: number;
  /** epoch ms used for elapsed times, so frames are reproducible */
  now: number;
  /** ANSI colours @default false */
  color?: boolean;
  /** ASCII badges @default useAscii() */
  ascii?: boolean;
}

type Style = "dim" | "bold" | "red" | "green" | "yellow" | "magenta" | "cyan" | "plain";
/** A run of text in one style; frames are built from these and painted after cutting. */
interface Segment {
  text: string;
  style: Style;
}

const STATE_STYLE = {
  idle: "dim",
  scheduled: "dim",
  running: "yellow",
  done: "green",
  restored: "cyan",
  failed: "red",
  cancelled: "magenta",
} as const;
const colors = { on: pc.createColors(true), off: pc.createColors(false) };

/**
 * One frame of the live view: a header with counts and times, then one line per job
 * (badge, label, elapsed, host, last output line or error), nested schedulers as indented
 * groups. When the jobs do not fit, failed and running jobs come first, then the most
 * recently ended, then a summary line for the rest. Pure: same state and options, same text.
 *
 * @example
 * ```ts
 * const state = createLiveState({ title: "deploy" });
 * scheduler.on((e) => reduceLiveState(state, e));
 * console.log(frame(state, { rows: 40, cols: 120, now: Date.now(), color: true }));
 * ```
 */
export function frame(state: LiveState, opts: FrameOptions): string {
  const width = Math.max(10, opts.cols - 1);
  const ascii = opts.ascii ?? useAscii();
  const paint = (segs: Segment[]) => paintLine({ segs, width, color: opts.color ?? false });
  const lines = [paint(headerSegments(state, opts.now, ascii))];
  const budget = Math.max(0, opts.rows - 2);
  if (budget === 0) return lines.join("\n");
  const overflow = state.jobs.length > budget;
  const shown = overflow ? pickRows(state, budget - 1) : state.jobs;
  const layout = measureLayout(state, shown, width, overflow);
  for (const j of shown) lines.push(paint(jobSegments({ j, layout, now: opts.now, ascii })));
  if (overflow) lines.push(paint(summarySegments(state, shown)));
  return lines.join("\n");
}

function headerSegments(state: LiveState, now: number, ascii: boolean): Segment[] {
  const b = (name: keyof typeof STATE_STYLE) => jobBadge(name, ascii);
  const c = state.counts;
  const segs: Segment[] = [{ text: state.title || "aiorch", style: "bold" }];
  const count = (n: number, badge: string, word: string, style: Style, always = true) => {
    if (n === 0 && !always) return;
    segs.push({ text: `  ${badge} ${n} ${word}`, style: n === 0 ? "dim" : style });
  };
  count(c.done, b("done"), "done", "green");
  count(c.restored, b("restored"), "restored", "cyan", false);
  count(c.running, b("running"), "running", "yellow");
  count(c.idle + c.scheduled, b("idle"), "idle", "plain");
  count(c.failed, b("failed"), "failed", "red");
  count(c.cancelled, b("cancelled"), "cancelled", "magenta", false);
  if (state.startedAt > 0) {
    const end = state.endedAt > 0 ? state.endedAt : now;
    const elapsed = end - state.startedAt;
    let times = `  │ ${formatDuration(elapsed)} elapsed`;
    if (state.result) times += state.result.ok ? " · ok" : ` · ${state.result.reason}`;
    else if (state.timeout !== undefined)
      times += ` · ${formatDuration(state.timeout - elapsed)} left of ${formatDuration(state.timeout)}`;
    segs.push({ text: times, style: "dim" });
  }
  return segs;
}

/** Column widths shared by every job line of a frame. */
interface Layout {
  label: number;
  host: number;
  flat: boolean;
}

function measureLayout(state: LiveState, shown: LiveJob[], width: number, flat: boolean): Layout {
  let label = 4;
  let host = 0;
  for (const j of shown) {
    label = Math.max(label, measureWidth(labelText(j, flat)));
    if (j.host !== undefined) host = Math.max(host, measureWidth(j.host));
  }
  return {
    label: Math.min(label, Math.max(12, Math.floor(width * 0.35))),
    host: state.hosts ? Math.min(host, 24) : 0,
    flat,
  };
}

function labelText(j: LiveJob, flat: boolean): string {
  // labels are untrusted: control characters shown, never sent to the terminal
  const base = flat
    ? oneLine([...j.path, j.label].join("/"))
    : `${"  ".repeat(j.path.length)}${oneLine(j.label)}`;
  return j.forever ? `${base} ∞` : base;
}

function jobSegments({
  j,
  layout,
  now,
  ascii,
}: {
  j: LiveJob;
  layout: Layout;
  now: number;
  ascii: boolean;
}): Segment[] {
  const bucket = bucketOf(j);
  const style: Style = STATE_STYLE[bucket];
  const badge = jobBadge(bucket, ascii);
  const label = fitText({ text: labelText(j, layout.flat), width: layout.label });
  const segs: Segment[] = [
    { text: badge, style },
    { text: " ", style: "plain" },
    { text: label, style: j.group ? "bold" : bucket === "failed" ? "red" : "plain" },
    { text: ` ${fitText({ text: elapsedText(j, now), width: 6, align: "right" })}`, style: "dim" },
  ];
  if (layout.host > 0)
    segs.push({
      text: ` ${fitText({ text: oneLine(j.host ?? ""), width: layout.host })}`,
      style: "cyan",
    });
  const detail = detailSegment(j, ascii);
  if (detail.text !== "") segs.push({ text: "  ", style: "plain" }, detail);
  return segs;
}

function elapsedText(j: LiveJob, now: number): string {
  if (j.startedAt === 0) return "";
  return formatDuration((j.endedAt > 0 ? j.endedAt : now) - j.startedAt);
}

/** What follows the columns: the error, the last output line, or what an idle job waits for. */
function detailSegment(j: LiveJob, ascii: boolean): Segment {
  if (j.state === "cancelled") return { text: oneLine(j.error ?? "cancelled"), style: "magenta" };
  if (j.failed) {
    const mark = j.critical ? (ascii ? "CRITICAL " : "⚠ ") : "";
    return { text: `${mark}${oneLine(j.error ?? "failed")}`, style: "red" };
  }
  const last = j.output[j.output.length - 1];
  if (j.restored) return { text: "restored from the journal", style: "cyan" };
  if (j.retryNote !== undefined && j.state === "running") {
    const now = `attempt ${j.attempt}/${j.attempts}`;
    return { text: last ? `${now} · ${last}` : `${now} · ${j.retryNote}`, style: "yellow" };
  }
  if (j.group) {
    const progress = `${j.membersEnded}/${j.members} ended`;
    return { text: last ? `${progress} · ${last}` : progress, style: "dim" };
  }
  if (last !== undefined) return { text: last, style: j.state === "running" ? "plain" : "dim" };
  if (j.state === "scheduled") return { text: "waiting for a slot (window)", style: "dim" };
  if (j.state === "idle") {
    const waits = j.requires.filter((r) => r.state !== "done").map((r) => r.label);
    if (waits.length) return { text: `after ${waits.join(", ")}`, style: "dim" };
  }
  return { text: "", style: "plain" };
}

/** Rows when the jobs do not fit: failed, running, recently ended, then the rest in order. */
function pickRows(state: LiveState, room: number): LiveJob[] {
  if (room <= 0) return [];
  const failed: LiveJob[] = [];
  const running: LiveJob[] = [];
  const ended: LiveJob[] = [];
  const waiting: LiveJob[] = [];
  for (const j of state.jobs) {
    if (j.failed) failed.push(j);
    else if (j.state === "running") running.push(j);
    else if (j.state === "done" || j.state === "cancelled") ended.push(j);
    else waiting.push(j);
  }
  failed.sort((a, b) => b.endedAt - a.endedAt);
  // leaves before groups: a running group tells less than the jobs inside it
  running.sort((a, b) => Number(a.group) - Number(b.group) || a.startedAt - b.startedAt);
  ended.sort((a, b) => b.endedAt - a.endedAt);
  const picked: LiveJob[] = [];
  for (const list of [failed, running, ended, waiting])
    for (const j of list) {
      if (picked.length >= room) return picked;
      picked.push(j);
    }
  return picked;
}

function summarySegments(state: LiveState, shown: LiveJob[]): Segment[] {
  const seen = new Set(shown);
  const rest = { running: 0, done: 0, restored: 0, failed: 0, cancelled: 0, idle: 0 };
  let n = 0;
  for (const j of state.jobs)
    if (!seen.has(j)) {
      const b = bucketOf(j);
      rest[b === "scheduled" ? "idle" : b]++;
      n++;
    }
  const parts = Object.entries(rest)
    .filter(([, v]) => v > 0)
    .map(([k, v]) => `${v} ${k}`);
  return [{ text: `… ${n} more: ${parts.join(" · ")}`, style: "dim" }];
}

/** Cut the segments' plain text to `width` cells, then colour each piece. */
function paintLine({
  segs,
  width,
  color,
}: {
  segs: Segment[];
  width: number;
  color: boolean;
}): string {
  const c = color ? colors.on : colors.off;
  let left = width;
  const cut: Segment[] = [];
  for (const s of segs) {
    if (left <= 0) break;
    const w = measureWidth(s.text);
    cut.push(w <= left ? s : { text: truncateText({ text: s.text, width: left }), style: s.style });
    left -= Math.min(w, left);
  }
  // trailing blanks go before painting, so colour codes do not keep them alive
  while (cut.length > 0) {
    const last = cut[cut.length - 1]!;
    const text = last.text.trimEnd();
    if (text !== "") {
      cut[cut.length - 1] = { text, style: last.style };
      break;
    }
    cut.pop();
  }
  let out = "";
  for (const s of cut) out += s.style === "plain" || !color ? s.text : c[s.style](s.text);
  return out;
}
