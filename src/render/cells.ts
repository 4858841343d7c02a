/**
 * Terminal cell arithmetic for the live view: display width, truncation, padding, and
 * cleaning of job output so a line never breaks the layout. No escape codes go in here:
 * colour is applied after the text is cut to size.
 */

// East Asian wide / fullwidth ranges and emoji pictographs: two cells each.
const WIDE =
  /[\u1100-\u115F\u2E80-\u303E\u3041-\u33FF\u3400-\u4DBF\u4E00-\u9FFF\uA000-\uA4CF\uAC00-\uD7A3\uF900-\uFAFF\uFE30-\uFE4F\uFF00-\uFF60\uFFE0-\uFFE6]|[\u{1F300}-\u{1F64F}\u{1F900}-\u{1F9FF}\u{20000}-\u{3FFFD}]/u;
// combining marks (variation selectors included), zero-width spaces and joiners: no cell
const ZERO = /\p{M}|[\u200B-\u200F]/u;

/** Cells taken by one code point. */
function charWidth(ch: string): number {
  const c = ch.codePointAt(0) ?? 0;
  if (c < 0x300) return 1; // fast path: ASCII and Latin
  if (ZERO.test(ch)) return 0;
  return WIDE.test(ch) ? 2 : 1;
}

/** Display width of plain text (no escape codes) in terminal cells. */
export function measureWidth(text: string): number {
  let w = 0;
  for (const ch of text) w += charWidth(ch);
  return w;
}

/**
 * Cut plain text to at most `width` cells, ending with `…` when something was cut.
 * @example truncateText({ text: "compiling main.c", width: 10 }) // "compiling…"
 */
export function truncateText({ text, width }: { text: string; width: number }): string {
  if (width <= 0) return "";
  let w = 0;
  let i = 0;
  let cut = -1; // index where the text must end to leave one cell for the ellipsis
  for (const ch of text) {
    const cw = charWidth(ch);
    if (w + cw > width - 1 && cut < 0) cut = i;
    w += cw;
    if (w > width) return `${text.slice(0, cut)}…`;
    i += ch.length;
  }
  return text;
}

/** Pad (or cut) plain text to exactly `width` cells; `align` right puts the padding first. */
export function fitText({
  text,
  width,
  align = "left",
}: {
  text: string;
  width: number;
  align?: "left" | "right";
}): string {
  const cut = truncateText({ text, width });
  const pad = " ".repeat(Math.max(0, width - measureWidth(cut)));
  return align === "right" ? pad + cut : cut + pad;
}

// CSI sequences, OSC sequences (BEL or ST terminated), other two-byte escapes
const ESCAPES =
  /\u001B\[[0-?]*[ -/]*[@-~]|\u001B\][^\u0007\u001B]*(?:\u0007|\u001B\\)|\u001B[@-Z\\-_]/g;
// C0 and C1 controls, DEL
const CONTROLS = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/g;

/**
 * A job's output line made safe for one terminal row: escape sequences removed, tabs
 * expanded to spaces, carriage-return progress bars reduced to their last state, other
 * control characters dropped, surrounding blanks trimmed.
 */
export function cleanLine(line: string): string {
  return stripControls(line).trim();
}

/** `cleanLine` without the trimming: for logs, where indentation matters. */
export function stripControls(line: string): string {
  let s = line.includes("\u001B") ? line.replace(ESCAPES, "") : line;
  const cr = s.lastIndexOf("\r", s.length - 2);
  if (cr >= 0) s = s.slice(cr + 1);
  return s.replace(/\t/g, "  ").replace(CONTROLS, "");
}

/**
 * A duration for humans, at most 6 cells: `0.4s`, `12.3s`, `1m05s`, `2h07m`.
 * @example formatDuration(65_000) // "1m05s"
 */
export function formatDuration(ms: number): string {
  const t = Math.max(0, ms);
  if (t < 60_000) return `${(Math.floor(t / 100) / 10).toFixed(1)}s`;
  const s = Math.floor(t / 1000);
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  const m = Math.floor(s / 60);
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`;
}

// C0 and C1 controls, DEL, and the bidirectional overrides and isolates that reorder text
const UNSEEN = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]/g;
const UNSEEN_OR_NEWLINE = /[\u0000-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]/g;
const NAMED: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t", "\u001B": "\\e" };

/**
 * Untrusted text (a label, an error message, a remote answer) made harmless for a terminal
 * or a log: every control character is shown as an escape (`\e`, `\r`, `\x07`, `\u202e`)
 * instead of acting (no screen clear, no window title, no line rewritten by a `\r`);
 * newlines and tabs are kept unless `oneLine`, which shows them as `\n` and `\t`.
 * @example visibleText("a\u001b[2Jb") // "a\\e[2Jb"
 */
export function visibleText(text: string, opts: { oneLine?: boolean } = {}): string {
  const re = opts.oneLine ? UNSEEN_OR_NEWLINE : UNSEEN;
  re.lastIndex = 0;
  if (!re.test(text)) return text;
  return text.replace(re, (c) => {
    const named = NAMED[c];
    if (named !== undefined) return named;
    const code = c.charCodeAt(0);
    return code < 0x100
      ? `\\x${code.toString(16).padStart(2, "0")}`
      : `\\u${code.toString(16).padStart(4, "0")}`;
  });
}

/** {@link visibleText} on one line: labels, results, host names. */
export function oneLine(text: string): string {
  return visibleText(text, { oneLine: true });
}
