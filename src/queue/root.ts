/**
 * Project roots of module jobs: the controller sends a module's absolute path with the
 * project root it lies under; a worker started with `--root DIR` imports the module from
 * DIR plus its path relative to that root (a checkout at another path), never from outside
 * DIR. Queue data is untrusted: the mapping refuses what would leave DIR, lexically here
 * and once symlinks are resolved ({@link resolveUnderRoot}).
 */
import { existsSync, realpathSync } from "node:fs";
import { realpath } from "node:fs/promises";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";

/**
 * The project root of a scenario whose file lies in `dir`: the nearest directory at or
 * above it holding a `package.json`, else `dir` itself; symlinks resolved.
 */
export function projectRootOf(dir: string): string {
  const start = realOrResolved(dir);
  for (let d = start; ; d = dirname(d)) {
    if (existsSync(join(d, "package.json"))) return d;
    if (dirname(d) === d) return start;
  }
}

function realOrResolved(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return resolve(p);
  }
}

/** A module path relative to a root, or why it cannot be mapped. */
export type Relative = { rel: string } | { refused: string };

/**
 * `module` relative to `root` (segments joined by `/`), or why not: a NUL byte, a path
 * that is not absolute, or one outside the root (a `..` segment once normalised).
 */
export function relativeToRoot(o: { module: string; root: string }): Relative {
  if (o.module.includes("\0") || o.root.includes("\0")) return { refused: "holds a NUL byte" };
  if (!isAbsolute(o.module) || !isAbsolute(o.root)) return { refused: "is not an absolute path" };
  const rel = relative(o.root, o.module);
  const parts = rel.split(sep);
  if (rel === "" || isAbsolute(rel) || parts.includes(".."))
    return { refused: `is not under the run's project root ${o.root}` };
  return { rel: parts.join("/") };
}

/**
 * What names a module job's module in its job id: its path relative to the project root
 * when under it (so a resume from a checkout at another path finds the same jobs), else
 * its absolute path.
 */
export function moduleRefOf(o: { module: string; root: string }): string {
  const r = relativeToRoot(o);
  return "rel" in r ? r.rel : o.module;
}

/** Where a worker's `--root` maps a module, or why it refuses. */
export type Mapped = { path: string } | { refused: string };

/**
 * The path under `dir` of a module that lies under `root` on the controller (lexical:
 * the result is always under `dir`, or refused); see {@link resolveUnderRoot} for links.
 */
export function mapToRoot(o: { module: string; root: string; dir: string }): Mapped {
  if (o.dir.includes("\0") || !isAbsolute(o.dir)) return { refused: "bad --root" };
  const r = relativeToRoot(o);
  if ("refused" in r) return r;
  const base = resolve(o.dir);
  const path = join(base, ...r.rel.split("/"));
  // relativeToRoot left no `..`: this holds; checked again as the last word before import
  if (!path.startsWith(base === sep ? sep : base + sep)) return { refused: `leaves ${o.dir}` };
  return { path };
}

/**
 * The real path (symlinks resolved) of `path` when it stays under the real path of `dir`,
 * or why not; rejects when `path` does not exist.
 */
export async function resolveUnderRoot(o: { path: string; dir: string }): Promise<Mapped> {
  const [real, realDir] = await Promise.all([realpath(o.path), realpath(o.dir)]);
  const inside = realDir === sep ? real.startsWith(sep) : real.startsWith(realDir + sep);
  return inside ? { path: real } : { refused: `resolves to ${real}, outside ${o.dir}` };
}
