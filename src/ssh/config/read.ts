/**
 * Reading OpenSSH client configuration files into flat entries: each directive with its
 * file:line and the Host/Match conditions it sits under. `Include` is expanded here
 * (globs, `~`, relative paths from `~/.ssh` or `/etc/ssh`, nesting bounded as OpenSSH does).
 * Tokenizing is the `ssh-config` package's; evaluation is resolve.ts's.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { isAbsolute, join } from "node:path";
import SSHConfig, { type Directive, type Line } from "ssh-config";
import { AiorchError } from "../../errors.ts";
import { matchPattern } from "./patterns.ts";

/** A `Host` or `Match` line; entries under it apply only when it matches. */
export type Condition =
  | { kind: "host"; patterns: readonly string[]; file: string; line: number }
  | { kind: "match"; criteria: readonly MatchCriterion[]; file: string; line: number };

/** One criterion of a `Match` line, e.g. `!host fit*`. */
export interface MatchCriterion {
  name: string;
  negated: boolean;
  arg?: string;
}

/** One directive as read: keyword in lower case, its words, where, and under what. */
export interface ConfigEntry {
  keyword: string;
  args: readonly string[];
  file: string;
  line: number;
  when: readonly Condition[];
}

/** Whether a file is a user file (`Include` relative to ~/.ssh) or the system one (/etc/ssh). */
export type ConfigKind = "user" | "system";

const NO_ARGUMENT = new Set(["all", "canonical", "final"]);
const MAX_DEPTH = 16;

/** @internal parsed files, reused while their size and mtime are unchanged */
const cache = new Map<string, { stamp: string; lines: Line[] }>();

/** The parsed lines of a file, or undefined when it does not exist. */
function parseFile(file: string): Line[] | undefined {
  // no exception for the usual case of a missing ~/.ssh/config (node creation stays cheap)
  const st = statSync(file, { throwIfNoEntry: false });
  if (!st?.isFile()) return undefined;
  const stamp = `${st.size}:${st.mtimeMs}`;
  const hit = cache.get(file);
  if (hit?.stamp === stamp) return hit.lines;
  const lines = [...SSHConfig.parse(readFileSync(file, "utf8"))];
  cache.set(file, { stamp, lines });
  return lines;
}

function words(value: Directive["value"]): string[] {
  return typeof value === "string" ? [value] : value.map((v) => v.val);
}

function newlines(s: string): number {
  let n = 0;
  for (const c of s) if (c === "\n") n++;
  return n;
}

function configError(file: string, line: number, msg: string): AiorchError {
  return new AiorchError("SSH_CONFIG", `${file}:${line}: ${msg}`, { file, line });
}

function parseCriteria(args: readonly string[], file: string, line: number): MatchCriterion[] {
  const out: MatchCriterion[] = [];
  for (let i = 0; i < args.length; i++) {
    const word = args[i] as string;
    const negated = word.startsWith("!");
    const name = (negated ? word.slice(1) : word).toLowerCase();
    if (NO_ARGUMENT.has(name)) {
      out.push({ name, negated });
      continue;
    }
    const arg = args[++i];
    if (arg === undefined) throw configError(file, line, `Match ${name} needs an argument`);
    out.push({ name, negated, arg });
  }
  if (out.length === 0) throw configError(file, line, "Match needs criteria");
  return out;
}

/** `~/x` and relative Include paths, then globs (sorted, as glob(3) gives them). */
function includeFiles(pattern: string, kind: ConfigKind): string[] {
  let path = pattern.startsWith("~/") ? join(homedir(), pattern.slice(2)) : pattern;
  if (!isAbsolute(path)) path = join(kind === "user" ? join(homedir(), ".ssh") : "/etc/ssh", path);
  if (!/[*?[]/.test(path)) return [path];
  let found = ["/"];
  for (const part of path.split("/").filter((p) => p !== "")) {
    const next: string[] = [];
    for (const dir of found) {
      if (!/[*?[]/.test(part)) {
        next.push(join(dir, part));
        continue;
      }
      let names: string[] = [];
      try {
        names = readdirSync(dir).sort();
      } catch {}
      for (const n of names)
        if (!n.startsWith(".") && matchPattern(part, n)) next.push(join(dir, n));
    }
    found = next;
  }
  return found;
}

/**
 * Every entry of `file` and the files it includes, in order. A missing file gives none
 * (OpenSSH ignores a missing config); a file that cannot be read throws `SSH_CONFIG`.
 */
export function readConfigFile({
  file,
  kind,
  when = [],
  depth = 0,
}: {
  file: string;
  kind: ConfigKind;
  when?: readonly Condition[];
  depth?: number;
}): ConfigEntry[] {
  let lines: Line[] | undefined;
  try {
    lines = parseFile(file);
  } catch (e) {
    throw new AiorchError("SSH_CONFIG", `cannot read ssh config ${file}: ${String(e)}`, {
      file,
      cause: e,
    });
  }
  if (!lines) return [];
  const out: ConfigEntry[] = [];
  let at = 1;
  let current = when;
  const visit = (l: Line): void => {
    at += newlines(l.before);
    if (l.type === SSHConfig.DIRECTIVE) {
      const keyword = l.param.toLowerCase();
      const args = words(l.value);
      const line = at;
      if (keyword === "host") {
        current = [...when, { kind: "host", patterns: args, file, line }];
      } else if (keyword === "match") {
        current = [
          ...when,
          { kind: "match", criteria: parseCriteria(args, file, line), file, line },
        ];
      } else if (keyword === "include") {
        if (depth >= MAX_DEPTH) throw configError(file, line, "Include nested too deeply");
        for (const pattern of args)
          for (const f of includeFiles(pattern, kind))
            out.push(...readConfigFile({ file: f, kind, when: current, depth: depth + 1 }));
      } else out.push({ keyword, args, file, line, when: current });
    }
    at += newlines(l.after);
    if ("config" in l) for (const c of l.config) visit(c);
  };
  for (const l of lines) visit(l);
  return out;
}
