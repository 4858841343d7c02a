/**
 * File transfers over SFTP, binary-safe. Copy rules (documented in docs/ssh.md):
 * a source ending in `/` copies the directory's contents, otherwise the file or directory
 * itself; the destination is a directory when it ends in `/`, already is one, or when
 * several sources are given (created as needed), else it names the copied file.
 */
import { lstat, mkdir, readdir } from "node:fs/promises";
import { basename, isAbsolute, join, relative, resolve } from "node:path";
import { posix } from "node:path";
import type { SFTPWrapper, Stats } from "ssh2";
import { SshFileError } from "./errors.ts";

/** Facts for errors. */
export interface FileFacts {
  host: string;
  user: string;
}

function call<T>(fn: (cb: (err: Error | undefined | null, v: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => fn((err, v) => (err ? reject(err) : resolve(v))));
}

/** Remote path: `~/x` and `~` are relative to the home directory (SFTP's start dir). */
export function remotePath(p: string): string {
  if (p === "~" || p === "~/") return ".";
  return p.startsWith("~/") ? p.slice(2) : p;
}

async function remoteStat(sftp: SFTPWrapper, p: string): Promise<Stats | undefined> {
  try {
    return await call<Stats>((cb) => sftp.stat(p, cb));
  } catch {
    return undefined;
  }
}

/** mkdir -p on the remote side. */
export async function remoteMkdirP(sftp: SFTPWrapper, dir: string): Promise<void> {
  const st = await remoteStat(sftp, dir);
  if (st?.isDirectory()) return;
  const parent = posix.dirname(dir);
  if (parent !== dir && parent !== "." && parent !== "/") await remoteMkdirP(sftp, parent);
  try {
    await call<void>((cb) => sftp.mkdir(dir, (err) => cb(err, undefined)));
  } catch (err) {
    if (!(await remoteStat(sftp, dir))?.isDirectory()) throw err;
  }
}

async function putTree(sftp: SFTPWrapper, local: string, remote: string): Promise<number> {
  const st = await lstat(local);
  if (st.isDirectory()) {
    await remoteMkdirP(sftp, remote);
    let n = 0;
    for (const name of await readdir(local))
      n += await putTree(sftp, join(local, name), posix.join(remote, name));
    return n;
  }
  if (!st.isFile()) return 0; // sockets, fifos, symlinks: skipped
  await call<void>((cb) =>
    sftp.fastPut(local, remote, { mode: st.mode & 0o7777 }, (err) => cb(err, undefined)),
  );
  return 1;
}

/**
 * Why a name from a remote `readdir` cannot be a file name under the destination: empty,
 * `.`/`..`, or containing `/` or NUL (a hostile server answering `../../x` must not write
 * outside the tree). `undefined` when the name is fine.
 */
export function badRemoteName(name: unknown): string | undefined {
  if (typeof name !== "string" || name === "") return "an empty name";
  if (name === "." || name === "..") return `the name ${JSON.stringify(name)}`;
  if (name.includes("/")) return `a name with "/"`;
  if (name.includes("\0")) return "a name with a NUL byte";
  return undefined;
}

/** Where a pull may write: the resolved destination root, checked for every local path. */
interface PullScope {
  root: string;
  facts: FileFacts;
}

function checkInside(scope: PullScope, local: string, remote: string): void {
  const rel = relative(scope.root, resolve(local));
  if (rel === "" || (!rel.startsWith("..") && !isAbsolute(rel))) return;
  throw new SshFileError(
    `pull: ${scope.facts.user}@${scope.facts.host}:${remote} would be written outside ${scope.root} (as ${local}): refused`,
    { ...scope.facts, file: remote },
  );
}

/** Regular files and directories only: symlinks (never followed), devices, fifos skipped. */
async function getTree(
  sftp: SFTPWrapper,
  remote: string,
  local: string,
  st: Stats,
  scope: PullScope,
): Promise<number> {
  checkInside(scope, local, remote);
  if (st.isDirectory()) {
    await mkdir(local, { recursive: true });
    let n = 0;
    const list = await call<{ filename: string; attrs: Stats }[]>((cb) => sftp.readdir(remote, cb));
    // the whole listing is checked before anything of it is written
    const entries = list.filter((e) => e.filename !== "." && e.filename !== "..");
    for (const e of entries) {
      const why = badRemoteName(e.filename);
      if (why)
        throw new SshFileError(
          `pull: ${scope.facts.user}@${scope.facts.host} listed ${why} in ${remote} (${JSON.stringify(e.filename)}): refused`,
          { ...scope.facts, file: `${remote}/${e.filename}` },
        );
    }
    for (const e of entries)
      n += await getTree(
        sftp,
        posix.join(remote, e.filename),
        join(local, e.filename),
        e.attrs,
        scope,
      );
    return n;
  }
  if (!st.isFile()) return 0;
  await call<void>((cb) =>
    // no setuid/setgid/sticky bits from a remote host
    sftp.fastGet(remote, local, { mode: st.mode & 0o777 }, (err) => cb(err, undefined)),
  );
  return 1;
}

/** Upload local files/dirs; returns the number of files copied. */
export async function pushPaths(
  sftp: SFTPWrapper,
  locals: readonly string[],
  remote: string,
  f: FileFacts,
): Promise<number> {
  const dest = remotePath(remote);
  const contents = locals.some((l) => l.endsWith("/"));
  const destIsDir =
    remote.endsWith("/") ||
    locals.length > 1 ||
    contents ||
    (await remoteStat(sftp, dest))?.isDirectory() === true;
  if (destIsDir) await remoteMkdirP(sftp, dest.replace(/\/+$/, "") || "/");
  let n = 0;
  for (const local of locals) {
    let st: Awaited<ReturnType<typeof lstat>>;
    try {
      st = await lstat(local);
    } catch {
      throw new SshFileError(`push: local file ${local} not found`, { ...f, file: local });
    }
    const target = !destIsDir
      ? dest
      : st.isDirectory() && local.endsWith("/")
        ? dest
        : posix.join(dest, basename(local));
    try {
      n += await putTree(sftp, local.replace(/\/+$/, "") || "/", target);
    } catch (err) {
      throw new SshFileError(
        `push: ${local} -> ${f.user}@${f.host}:${remote} failed: ${(err as Error).message}`,
        {
          ...f,
          file: local,
          cause: err,
        },
      );
    }
  }
  return n;
}

/** Download remote files/dirs; returns the number of files copied. */
export async function pullPaths(
  sftp: SFTPWrapper,
  remotes: readonly string[],
  local: string,
  f: FileFacts,
): Promise<number> {
  const contents = remotes.some((r) => r.endsWith("/"));
  let localIsDir = local.endsWith("/") || remotes.length > 1 || contents;
  if (!localIsDir) {
    try {
      localIsDir = (await lstat(local)).isDirectory();
    } catch {
      localIsDir = false;
    }
  }
  if (localIsDir) await mkdir(local, { recursive: true });
  let n = 0;
  for (const remote of remotes) {
    const src = remotePath(remote).replace(/(.)\/+$/, "$1");
    const st = await remoteStat(sftp, src);
    if (!st)
      throw new SshFileError(`pull: remote file ${remote} not found on ${f.user}@${f.host}`, {
        ...f,
        file: remote,
      });
    const target = !localIsDir
      ? local
      : st.isDirectory() && remote.endsWith("/")
        ? local
        : join(local, posix.basename(src));
    try {
      n += await getTree(sftp, src, target, st, { root: resolve(local), facts: f });
    } catch (err) {
      if (err instanceof SshFileError) throw err;
      throw new SshFileError(
        `pull: ${f.user}@${f.host}:${remote} -> ${local} failed: ${(err as Error).message}`,
        {
          ...f,
          file: remote,
          cause: err,
        },
      );
    }
  }
  return n;
}

/** Write a remote file with a mode. */
export function writeRemoteFile(
  sftp: SFTPWrapper,
  path: string,
  data: Buffer | string,
  mode: number,
): Promise<void> {
  return call<void>((cb) => sftp.writeFile(path, data, { mode }, (err) => cb(err, undefined)));
}

/** Remove remote files then a directory; errors ignored (best-effort cleanup). */
export async function removeRemote(
  sftp: SFTPWrapper,
  files: readonly string[],
  dir?: string,
): Promise<void> {
  await Promise.all(
    files.map((p) =>
      call<void>((cb) => sftp.unlink(p, (err) => cb(err, undefined))).catch(() => {}),
    ),
  );
  if (dir) await call<void>((cb) => sftp.rmdir(dir, (err) => cb(err, undefined))).catch(() => {});
}
