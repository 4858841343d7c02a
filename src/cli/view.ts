import { writeFileSync } from "node:fs";
import { createLogUpdate } from "log-update";
import pc from "picocolors";
import { AiorchError } from "../errors.ts";
import { createLiveState, frame, type LiveState, reduceLiveState } from "../render/live.ts";
import type { DebriefLine, DebriefTone } from "../render/list.ts";
import { plainLine } from "../render/plain.ts";
import { renderReport } from "../render/report.ts";
import { buildTimeline } from "../render/timeline.ts";
import { stripControls } from "../render/cells.ts";
import type { Scheduler } from "../scheduler.ts";
import type { JobOutputEvent } from "../events.ts";
import { expandTemplate, FORMATS, type FormatName } from "../ssh/formatters.ts";

/** How the CLI shows a run: live view on a TTY, plain lines otherwise, nothing when quiet. */
export type ViewMode = "live" | "plain" | "quiet";

/** A view attached to a scheduler's events. */
export interface AttachedView {
  /** Detach, then print the final screen (the debrief). Idempotent. */
  stop(): void;
  /** Print a message on stderr without breaking the live lines (they are redrawn below it). */
  note(message: string): void;
  /** what the view knows of the run */
  readonly state: LiveState;
}

/** A stream the view writes to; `columns`/`rows`/`isTTY` as on a `tty.WriteStream`. */
export type ViewStream = NodeJS.WritableStream & {
  isTTY?: boolean;
  columns?: number;
  rows?: number;
};

/** Options of {@link attachView}. */
export interface AttachViewOptions {
  scheduler: Scheduler;
  mode: ViewMode;
  /** @default process.stdout */
  out?: ViewStream;
  /** shown in the header @default the scheduler's label */
  title?: string;
  /** ANSI colours in live mode @default colorEnabled(out) */
  color?: boolean;
  /** most redraws per second in live mode @default 10 */
  fps?: number;
  /** write the HTML report of the run to this file when the view stops */
  report?: string;
  /** when to print the debrief at stop @default "failed" in quiet mode, "always" otherwise */
  debrief?: "always" | "failed" | "never";
  /**
   * How output lines of jobs on a node print (`host`: `fit01:line` as apssh, `time-host`:
   * `12-32-36:fit01:line`, `raw`, or `log`: the timestamped event line with the label).
   * In plain mode they always print; in live mode only when this is given, above the
   * live lines.
   * @default "host" in plain mode, none in live mode
   */
  lines?: LineFormat;
}

/** How {@link AttachViewOptions.lines} prints node output lines. */
export type LineFormat = FormatName | "log";

/** The line for a node's output event in `format`, or undefined to print it as an event. */
function nodeLine(e: JobOutputEvent, format: LineFormat): string | undefined {
  if (format === "log" || e.host === undefined || e.stream === "log") return undefined;
  return expandTemplate(FORMATS[format], { ...e, line: stripControls(e.line) });
}

/**
 * The mode for the usual flags: quiet wins, then `--plain`, a non-TTY stream or
 * `TERM=dumb` give plain; else live.
 * @example chooseViewMode({ plain: false, quiet: false }) // "live" on a terminal
 */
export function chooseViewMode({
  quiet = false,
  plain = false,
  out = process.stdout,
}: {
  quiet?: boolean;
  plain?: boolean;
  out?: ViewStream;
}): ViewMode {
  if (quiet) return "quiet";
  return plain || out.isTTY !== true || process.env.TERM === "dumb" ? "plain" : "live";
}

/** Colours unless `NO_COLOR` is set (non-empty); `FORCE_COLOR` forces them; else TTY only. */
export function colorEnabled(out: ViewStream = process.stdout): boolean {
  const env = process.env;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== "0") return true;
  return out.isTTY === true && env.TERM !== "dumb";
}

/**
 * Show a scheduler's run: `live` redraws one line per job in place (at most `fps` times a
 * second, through log-update), with node output lines above it when `lines` is given;
 * `plain` writes one timestamped line per event, node output lines as `fit01:line`;
 * `quiet` writes nothing. `stop()` replaces the live lines with the debrief. Call it before
 * `scheduler.run()`; the redraw timer never keeps the process alive.
 *
 * @example
 * ```ts
 * const view = attachView({ scheduler, mode: chooseViewMode({ plain: false }) });
 * let ok = false;
 * try { ok = await scheduler.run(); } finally { view.stop(); }
 * ```
 */
export function attachView(opts: AttachViewOptions): AttachedView {
  const { scheduler, mode } = opts;
  const out = opts.out ?? process.stdout;
  const color = opts.color ?? colorEnabled(out);
  const state = createLiveState({
    title: opts.title ?? "",
    tail: opts.report !== undefined ? 20 : 1,
  });
  let live: ReturnType<typeof createLogUpdate> | undefined;
  let timer: NodeJS.Timeout | undefined;
  const draw = (): void => {
    live?.(frame(state, { rows: out.rows ?? 24, cols: out.columns ?? 80, now: Date.now(), color }));
  };
  if (mode === "live") {
    live = createLogUpdate(out, { defaultWidth: 100, defaultHeight: 30 });
    timer = setInterval(draw, Math.round(1000 / Math.max(1, opts.fps ?? 10)));
    timer.unref();
  }
  // plain lines are batched: one write per turn of the event loop, not one per event
  let stopped = false;
  let pending = "";
  let flushing: NodeJS.Immediate | undefined;
  const flush = (): void => {
    flushing = undefined;
    if (pending === "") return;
    // live mode: the lines go above the live region, which is drawn again below them
    live?.clear();
    out.write(pending);
    pending = "";
    if (live && !stopped) draw();
  };
  const queue = (line: string): void => {
    pending += `${line}\n`;
    if (pending.length > 65_536) flush();
    else flushing ??= setImmediate(flush);
  };
  const format = opts.lines ?? (mode === "plain" ? "host" : undefined);
  const off = scheduler.on((e) => {
    reduceLiveState(state, e);
    if (mode === "plain") {
      const line =
        (e.type === "job-output" ? nodeLine(e, format ?? "host") : undefined) ?? plainLine(e);
      if (line !== undefined) queue(line);
    } else if (live) {
      if (e.type === "run-start" && e.scheduler === state.root) draw();
      else if (format !== undefined && e.type === "job-output") {
        const line = nodeLine(e, format);
        if (line !== undefined) queue(line);
      }
    }
  });
  return {
    state,
    note(message: string): void {
      if (live && !stopped) {
        live.clear();
        process.stderr.write(`${message}\n`);
        draw();
      } else process.stderr.write(`${message}\n`);
    },
    stop(): void {
      if (stopped) return;
      stopped = true;
      off();
      if (flushing) clearImmediate(flushing);
      flush();
      if (timer) clearInterval(timer);
      if (live) {
        live.clear();
        live.done();
      }
      const reason = scheduler.endReason();
      const when = opts.debrief ?? (mode === "quiet" ? "failed" : "always");
      if (reason !== undefined && (when === "always" || (when === "failed" && reason !== "ok")))
        out.write(`${paintDebrief(scheduler.debriefLines(), mode === "live" && color)}\n`);
      if (opts.report !== undefined) writeReport(opts.report, state, scheduler);
    },
  };
}

function writeReport(file: string, state: LiveState, scheduler: Scheduler): void {
  const model = buildTimeline({ state, debrief: scheduler.debrief() });
  try {
    writeFileSync(file, renderReport({ model }));
  } catch (err) {
    throw new AiorchError("FILE", `cannot write the report ${file}: ${(err as Error).message}`, {
      file,
      cause: err,
    });
  }
}

const colors = pc.createColors(true);

/** How each tone of debrief line is coloured. */
const TONES: Record<DebriefTone, (s: string) => string> = {
  "verdict-ok": (s) => colors.green(colors.bold(s)),
  "verdict-failed": (s) => colors.red(colors.bold(s)),
  heading: colors.bold,
  critical: colors.red,
  "non-critical": colors.yellow,
  plain: (s) => s,
};

/** Colour the verdict line and the failure lines of a debrief, by their tone. */
function paintDebrief(lines: readonly DebriefLine[], color: boolean): string {
  return lines.map((l) => (color ? TONES[l.tone](l.text) : l.text)).join("\n");
}
