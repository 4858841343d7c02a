/**
 * push/pull of a LocalNode: copies with the SFTP copy rules (see sftp.ts), that stop when
 * their signal aborts (the command's timeout, the run's end): each file goes through a
 * stream pipeline bound to the signal, so no write goes on after the stop.
 */
import { createReadStream, createWriteStream } from "node:fs";
import { lstat, mkdir, readdir, readlink, rm, symlink } from "node:fs/promises";
import { once } from "node:events";
import { basename, join } from "node:path";
import { pipeline } from "node:stream/promises";
import { SshFileError } from "./errors.ts";
import { abortReason } from "./limits.ts";

/** Copy `sources` to `dest` (a directory when it ends in `/`, is one, or several sources). */
export async function copyPaths(opts: {
  sources: readonly string[];
  dest: string;
  node: { host: string; user: string };
  signal?: AbortSignal | undefined;
}): Promise<number> {
  const { sources, dest, node, signal } = opts;
  const contents = sources.some((s) => s.endsWith("/"));
  let destIsDir = dest.endsWith("/") || sources.length > 1 || contents;
  if (!destIsDir)
    destIsDir = await lstat(dest).then(
      (s) => s.isDirectory(),
      () => false,
    );
  try {
    if (destIsDir) await mkdir(dest, { recursive: true });
    let n = 0;
    for (const src of sources) {
      const st = await lstat(src).catch(() => undefined);
      if (!st) throw new SshFileError(`copy: ${src} not found`, { ...node, file: src });
      const target = !destIsDir
        ? dest
        : st.isDirectory() && src.endsWith("/")
          ? dest
          : join(dest, basename(src));
      await copyTree(src, target, { node, signal });
      n++;
    }
    return n;
  } catch (err) {
    if (signal?.aborted) throw abortReason(signal);
    throw err;
  }
}

/** One file, link or directory (recursively), checking the signal between entries. */
async function copyTree(
  src: string,
  target: string,
  ctx: { node: { host: string; user: string }; signal?: AbortSignal | undefined },
): Promise<void> {
  if (ctx.signal?.aborted) throw abortReason(ctx.signal);
  const st = await lstat(src);
  if (st.isDirectory()) {
    await mkdir(target, { recursive: true });
    for (const name of await readdir(src)) await copyTree(join(src, name), join(target, name), ctx);
  } else if (st.isSymbolicLink()) {
    // copied as a link, its target as is (never followed)
    await rm(target, { force: true });
    await symlink(await readlink(src), target);
  } else if (st.isFile()) {
    // a link at the target is replaced, not written through
    const old = await lstat(target).catch(() => undefined);
    if (old?.isSymbolicLink()) await rm(target, { force: true });
    const out = createWriteStream(target, { mode: st.mode & 0o777 });
    try {
      await pipeline(createReadStream(src), out, ...(ctx.signal ? [{ signal: ctx.signal }] : []));
    } catch (err) {
      // the pipeline rejects at the abort while a write may still be in flight in the
      // thread pool: the stream closes its file only after that write, so wait for that
      if (!out.closed) await once(out, "close").catch(() => undefined);
      throw err;
    }
  } else
    throw new SshFileError(`copy: ${src} is not a file, a directory or a symbolic link`, {
      ...ctx.node,
      file: src,
    });
}
