/**
 * Raw shell words: the explicit escape from quoting. Every argument after the first word of
 * `run` (and every argument of `runScript`/`runString`) is shell-quoted; a `raw(...)` word
 * is passed to the shell as written, for redirections, pipes, `&`, globs, `$VAR`.
 */
import { AiorchError } from "../errors.ts";
import { quoteArg } from "./quote.ts";

const RAW: unique symbol = Symbol.for("aiorch.rawWord");

/** A word given to the shell unquoted; make one with {@link raw}. */
export interface RawWord {
  readonly [RAW]: true;
  /** the shell text, as the shell will read it */
  readonly text: string;
}

/**
 * A shell word that is not quoted: `raw(">")`, `raw("2>&1")`, `raw("&")`. As a tagged
 * template, the literal parts are raw and every `${value}` is quoted:
 * `raw\`> ${file}\`` with `file = "my log"` gives `> 'my log'`.
 *
 * @example
 * ```ts
 * run("head -c 1024", "<", "/dev/urandom");              // '<' is a file name: quoted
 * run("head -c 1024", raw("<"), "/dev/urandom", raw(">"), "f"); // a redirection
 * run("tar czf", raw`${"my dir"}.tgz`, "my dir");        // 'my dir'.tgz
 * ```
 */
export function raw(text: string): RawWord;
export function raw(strings: TemplateStringsArray, ...values: (string | number)[]): RawWord;
export function raw(first: string | TemplateStringsArray, ...values: (string | number)[]): RawWord {
  let text: string;
  if (typeof first === "string") text = first;
  else if (Array.isArray(first) && Array.isArray((first as TemplateStringsArray).raw)) {
    text = first[0] ?? "";
    values.forEach((v, i) => {
      if (typeof v !== "string" && !(typeof v === "number" && Number.isFinite(v)))
        throw new AiorchError(
          "INVALID_ARGUMENT",
          `raw\`…\`: value ${i + 1} must be a string or a number, got ${typeof v}`,
        );
      text += quoteArg(String(v)) + (first[i + 1] ?? "");
    });
  } else
    throw new AiorchError(
      "INVALID_ARGUMENT",
      `raw: expects a string or a template, got ${typeof first}`,
    );
  return Object.freeze({ [RAW]: true as const, text });
}

/** True for a word made by {@link raw}. */
export function isRawWord(x: unknown): x is RawWord {
  return typeof x === "object" && x !== null && (x as { [RAW]?: unknown })[RAW] === true;
}
