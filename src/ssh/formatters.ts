/**
 * Output formatters: subscribers to the run's event stream that print `job-output` lines.
 * Placeholders (`{host}`, `{time}`, `{line}`, `{stream}`, `{label}`) are expanded in ONE
 * pass over the template, so remote text containing `{host}` is never rewritten (fixes B23).
 * Nothing is printed unless a formatter is attached (no chatter by default, fixes B28).
 */
import { createWriteStream, mkdirSync, type WriteStream } from "node:fs";
import { join } from "node:path";
import type { JobOutputEvent, RunEvent } from "../events.ts";
import { holdUntilDrained } from "./pressure.ts";

/** Where formatted lines go. */
export interface LineSink {
  write(text: string): unknown;
  /** exact bytes (with `bytes: true`); sinks without it get the decoded line */
  writeBytes?(data: Uint8Array): unknown;
}

/** A process stream as a sink taking text and bytes. */
function streamSink(s: NodeJS.WriteStream): LineSink {
  // a slow reader (a pipe): the commands pause until it drains (src/ssh/pressure.ts)
  const put = (x: string | Uint8Array) => s.write(x) || holdUntilDrained(s);
  return { write: put, writeBytes: put };
}

/** A formatter: a run listener plus a `close()` flushing its files. */
export interface OutputFormatter {
  /** pass to `scheduler.on(...)` */
  readonly listener: (event: RunEvent) => void;
  /** flush and close files (per-host formatter); no-op for terminal ones */
  close(): Promise<void>;
}

/** Built-in line formats. */
export type FormatName = "raw" | "host" | "time-host";

/** Templates of the built-in formats. */
export const FORMATS: Readonly<Record<FormatName, string>> = {
  raw: "{line}",
  host: "{host}:{line}",
  "time-host": "{time}:{host}:{line}",
};

/** `HH-MM-SS` (local time), as apssh's `{time}`. */
export function formatTime(epochMs: number): string {
  const d = new Date(epochMs);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${p(d.getHours())}-${p(d.getMinutes())}-${p(d.getSeconds())}`;
}

/** The short host name: text before the first dot, IP addresses kept whole. */
export function shortHost(host: string): string {
  if (/^[\d.]+(:\d+)?$/.test(host) || host.includes(":")) return host;
  return host.split(".")[0] ?? host;
}

/** Expand a template for one event, in a single pass. */
export function expandTemplate(template: string, e: JobOutputEvent): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => {
    switch (name) {
      case "line":
        return e.line;
      case "host":
        return shortHost(e.host ?? "");
      case "fqdn":
        return e.host ?? "";
      case "time":
        return formatTime(e.time);
      case "stream":
        return e.stream;
      case "label":
        return e.label;
      default:
        return whole;
    }
  });
}

/** Options of {@link lineFormatter}. */
export interface LineFormatterOptions {
  /** a built-in format name or a template @default "host" */
  format?: FormatName | string;
  /** @default process.stdout */
  stdout?: LineSink;
  /** @default process.stderr */
  stderr?: LineSink;
  /** include `log` lines (ctx.log) on stderr @default false */
  logs?: boolean;
  /**
   * with the `raw` format, write the exact bytes the commands printed (no UTF-8 decoding,
   * no line-end change; `aiorch ssh -r`) @default false
   */
  bytes?: boolean;
}

/**
 * Print output lines to the terminal: stdout lines to stdout, stderr lines to stderr.
 * @example scheduler.on(lineFormatter({ format: "time-host" }).listener)
 */
export function lineFormatter(opts: LineFormatterOptions = {}): OutputFormatter {
  const template = FORMATS[opts.format as FormatName] ?? opts.format ?? FORMATS.host;
  const out = opts.stdout ?? streamSink(process.stdout);
  const err = opts.stderr ?? streamSink(process.stderr);
  const exact = opts.bytes === true && template === FORMATS.raw;
  return {
    listener(event) {
      if (event.type !== "job-output") return;
      if (event.stream === "log" && !opts.logs) return;
      const sink = event.stream === "stdout" ? out : err;
      if (exact && event.bytes && sink.writeBytes) sink.writeBytes(event.bytes);
      else sink.write(`${expandTemplate(template, event)}\n`);
    },
    close: () => Promise.resolve(),
  };
}

/** Options of {@link fileFormatter}. */
export interface FileFormatterOptions {
  /** directory receiving `<host>.out` and `<host>.err` */
  dir: string;
  /** template for each line; with `"{line}"` the files get the exact bytes printed @default "{line}" */
  format?: FormatName | string;
}

/**
 * Write each host's stdout to `DIR/<host>.out` and stderr to `DIR/<host>.err`
 * (files created on the host's first line, truncated).
 */
export function fileFormatter(opts: FileFormatterOptions): OutputFormatter {
  const template = FORMATS[opts.format as FormatName] ?? opts.format ?? FORMATS.raw;
  const files = new Map<string, WriteStream>();
  mkdirSync(opts.dir, { recursive: true });
  const file = (host: string, ext: string) => {
    const key = `${host}.${ext}`;
    let f = files.get(key);
    if (!f) {
      f = createWriteStream(join(opts.dir, safeName(key)));
      files.set(key, f);
    }
    return f;
  };
  return {
    listener(event) {
      if (event.type !== "job-output" || event.stream === "log") return;
      const f = file(event.host ?? "local", event.stream === "stdout" ? "out" : "err");
      const ok =
        template === FORMATS.raw && event.bytes
          ? f.write(event.bytes)
          : f.write(`${expandTemplate(template, event)}\n`);
      // the disk is behind: the commands pause until the file drains (src/ssh/pressure.ts)
      if (!ok) holdUntilDrained(f);
    },
    close: () =>
      Promise.all([...files.values()].map((f) => new Promise<void>((r) => f.end(() => r())))).then(
        () => {
          files.clear();
        },
      ),
  };
}

/** Make a host name safe as a file name. */
export function safeName(name: string): string {
  return name.replace(/[/\\\0]/g, "_");
}
