/**
 * A hostile SSH/SFTP server for tests: ssh2's `Server` on a loopback address and a free high
 * port, accepting any login, serving a made-up tree whose `readdir` answers are whatever the
 * test says (`../../x`, names with NUL, symlinks out of the tree…). Reads of files return
 * their given bytes; every write request is refused.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Attributes, type Connection, Server, utils } from "ssh2";
import { freePort, knownHostsLine, type SshKeys } from "./sshd.ts";

const { STATUS_CODE } = utils.sftp;

/** One entry of the served tree: a directory listing, a file's bytes or a symlink. */
export type HostileEntry =
  | { type: "dir"; names: string[] }
  | { type: "file"; data: Buffer }
  | { type: "link"; target: string };

/** A running hostile server. */
export interface HostileServer {
  address: string;
  port: number;
  /** paths the client asked to open for reading */
  opened: string[];
  stop(): Promise<void>;
}

function attrsOf(e: HostileEntry | undefined): Attributes {
  const now = Math.floor(Date.now() / 1000);
  const mode = e?.type === "dir" ? 0o40755 : e?.type === "link" ? 0o120777 : 0o104755;
  const size = e?.type === "file" ? e.data.length : 0;
  return { mode, uid: 0, gid: 0, size, atime: now, mtime: now };
}

/** Serve `tree` (absolute remote paths -> entries) on `address`, with the test host key. */
export async function startHostileSftp(opts: {
  address: string;
  keys: SshKeys;
  tree: Record<string, HostileEntry>;
  /** the only login accepted: password authentication with this password @default any login */
  password?: string;
  /** bytes served for any other path opened for reading (`../` names resolve elsewhere) */
  fallback?: Buffer;
}): Promise<HostileServer> {
  const port = await freePort();
  const opened: string[] = [];
  const clients = new Set<Connection>();
  const server = new Server({ hostKeys: [readFileSync(opts.keys.hostKey.path)] }, (client) => {
    clients.add(client);
    client.on("close", () => clients.delete(client));
    client.on("error", () => {});
    client.on("authentication", (ctx) => {
      if (opts.password === undefined) return ctx.accept();
      if (ctx.method === "password" && ctx.password === opts.password) return ctx.accept();
      ctx.reject(["password"]);
    });
    client.on("ready", () => {
      client.on("session", (acceptSession) => {
        const session = acceptSession();
        session.on("sftp", (acceptSftp) => {
          const sftp = acceptSftp();
          const handles = new Map<string, { path: string; done: boolean }>();
          let next = 0;
          const handle = (path: string) => {
            const h = Buffer.from(String(next++));
            handles.set(h.toString(), { path, done: false });
            return h;
          };
          const lookup = (path: string): HostileEntry | undefined =>
            opts.tree[path.replace(/(.)\/+$/, "$1")] ??
            (opts.fallback ? { type: "file", data: opts.fallback } : undefined);
          const stat = (id: number, path: string) => {
            const e = lookup(path);
            if (e) sftp.attrs(id, attrsOf(e));
            else sftp.status(id, STATUS_CODE.NO_SUCH_FILE);
          };
          sftp.on("REALPATH", (id, path) =>
            sftp.name(id, [
              { filename: path === "." ? "/" : path, longname: "", attrs: {} as Attributes },
            ]),
          );
          sftp.on("STAT", stat);
          sftp.on("LSTAT", stat);
          sftp.on("OPENDIR", (id, path) => {
            if (opts.tree[path.replace(/(.)\/+$/, "$1")]?.type === "dir")
              sftp.handle(id, handle(path));
            else sftp.status(id, STATUS_CODE.NO_SUCH_FILE);
          });
          sftp.on("READDIR", (id, h) => {
            const open = handles.get(h.toString());
            const e = open && lookup(open.path);
            if (!open || e?.type !== "dir" || open.done) return sftp.status(id, STATUS_CODE.EOF);
            open.done = true;
            const base = open.path.replace(/\/+$/, "");
            sftp.name(
              id,
              e.names.map((filename) => ({
                filename,
                longname: filename,
                attrs: attrsOf(
                  opts.tree[`${base}/${filename}`] ?? { type: "file", data: Buffer.from("x") },
                ),
              })),
            );
          });
          sftp.on("OPEN", (id, path, flags) => {
            const e = lookup(path);
            if (flags !== utils.sftp.OPEN_MODE.READ || e?.type !== "file")
              return sftp.status(id, STATUS_CODE.PERMISSION_DENIED);
            opened.push(path);
            sftp.handle(id, handle(path));
          });
          sftp.on("FSTAT", (id, h) => stat(id, handles.get(h.toString())?.path ?? ""));
          sftp.on("READ", (id, h, offset, length) => {
            const e = lookup(handles.get(h.toString())?.path ?? "");
            const data = e?.type === "file" ? e.data : Buffer.alloc(0);
            if (offset >= data.length) return sftp.status(id, STATUS_CODE.EOF);
            sftp.data(id, data.subarray(offset, offset + length));
          });
          sftp.on("CLOSE", (id, h) => {
            handles.delete(h.toString());
            sftp.status(id, STATUS_CODE.OK);
          });
          for (const op of ["WRITE", "MKDIR", "REMOVE", "RMDIR", "RENAME", "SETSTAT", "SYMLINK"])
            sftp.on(op as "MKDIR", (id: number) => sftp.status(id, STATUS_CODE.PERMISSION_DENIED));
        });
      });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, opts.address, () => resolve());
  });
  return {
    address: opts.address,
    port,
    opened,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const c of clients) c.end();
        server.close(() => resolve());
      }),
  };
}

/** A known_hosts file in `dir` naming the server with the test host key; its path. */
export function writeKnownHosts(p: { server: HostileServer; keys: SshKeys; dir: string }): string {
  const file = join(p.dir, `known_hosts.${p.server.port}`);
  writeFileSync(file, knownHostsLine([p.server.address], p.server.port, p.keys));
  return file;
}
