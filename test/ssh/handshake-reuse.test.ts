/**
 * Handshake shortcuts against a real sshd (LogLevel DEBUG1, which logs every global request
 * the client sends): known_hosts parses reused only while the file is unchanged, and the
 * `hostkeys-prove-00@openssh.com` round trip skipped, or harmlessly left to ssh2 when its
 * internals are not what the shortcut expects.
 */
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Client } from "ssh2";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { SshHostKeyError, SshJob, type SshNode } from "../../src/ssh/index.ts";
import { hostKeysProofStats, skipHostKeysProof } from "../../src/ssh/handshake.ts";
import { readKnownHosts } from "../../src/ssh/knownhosts.ts";
import { nodeOn, runJobs } from "./helpers.ts";
import { type Sshd, startSshd } from "./sshd.ts";

const PROVE = /rtype hostkeys-prove-00@openssh\.com/;
const DISCONNECT = /^Received disconnect from /;

let sshd: Sshd;
let dir: string;

beforeAll(async () => {
  sshd = await startSshd({ addresses: ["127.0.0.2", "127.0.0.3"], logLevel: "DEBUG1" });
  dir = mkdtempSync(join(sshd.keys.dir, "hs-"));
});

afterAll(async () => {
  await sshd?.stop();
});

afterEach(() => {
  vi.restoreAllMocks();
});

/** Connect every node (one job each, in one run); the error of each failed job. */
async function connectAll(...nodes: SshNode[]): Promise<unknown[]> {
  const jobs = nodes.map((n, i) => new SshJob(n, "true", { label: `c${i}`, critical: false }));
  await runJobs(jobs);
  return jobs.map((j) => j.raisedException());
}

/** Run `connect`, then wait until the server has logged every disconnect; the new log lines. */
async function logOf(connect: () => Promise<unknown>, disconnects: number): Promise<string[]> {
  const from = sshd.log.length;
  const before = sshd.log.filter((l) => DISCONNECT.test(l)).length;
  await connect();
  await sshd.waitLogCount(DISCONNECT, before + disconnects);
  return sshd.log.slice(from);
}

describe("known_hosts reuse", () => {
  it("reuses the parse while the file is unchanged and notices a replaced host key", async () => {
    const kh = join(dir, "known_hosts");
    copyFileSync(sshd.knownHosts, kh);
    const node = () => nodeOn(sshd, "127.0.0.2", { knownHosts: kh, hostKeys: "verify" });
    expect(await connectAll(node())).toEqual([undefined]);
    const first = await readKnownHosts(kh);
    expect(await readKnownHosts(kh)).toBe(first); // same parse, not a new one

    // the host key replaced by another ed25519 key: same type, same length, same line count
    const good = readFileSync(kh, "utf8");
    const [, wrongBlob] = sshd.keys.wrongKey.pub.split(" ");
    const [, hostBlob] = sshd.keys.hostKey.pub.split(" ");
    const bad = good.replace(hostBlob as string, wrongBlob as string);
    expect(bad.length).toBe(good.length);
    writeFileSync(kh, bad);
    const [err] = await connectAll(node());
    expect(err).toBeInstanceOf(SshHostKeyError);
    expect((err as SshHostKeyError).code).toBe("SSH_HOST_KEY");
    expect((err as SshHostKeyError).reason).toBe("changed");
    expect(await readKnownHosts(kh)).not.toBe(first);

    // restored: accepted again
    writeFileSync(kh, good);
    expect(await connectAll(node())).toEqual([undefined]);
  });

  it("notices a host line removed (verify: unknown host refused)", async () => {
    const kh = join(dir, "known_hosts-removed");
    copyFileSync(sshd.knownHosts, kh);
    const node = () => nodeOn(sshd, "127.0.0.3", { knownHosts: kh });
    expect(await connectAll(node())).toEqual([undefined]);
    writeFileSync(kh, "# emptied\n");
    const [err] = await connectAll(node());
    expect(err).toBeInstanceOf(SshHostKeyError);
    expect((err as SshHostKeyError).reason).toBe("unknown");
  });
});

describe("host key proof round trip", () => {
  it("the server log shows the proof request when a client asks for it (ssh2 alone)", async () => {
    const lines = await logOf(
      () =>
        new Promise<void>((resolve, reject) => {
          const c = new Client();
          c.on("error", reject);
          c.on("ready", () => {
            // the proof request follows authentication: wait for the server to log it
            sshd.waitLog(PROVE).then(
              () => {
                c.end();
                resolve();
              },
              (e: unknown) => {
                c.end();
                reject(e);
              },
            );
          });
          c.connect({
            host: "127.0.0.2",
            port: sshd.port,
            username: sshd.user,
            privateKey: readFileSync(sshd.keys.clientKey.path),
          });
        }),
      1,
    );
    expect(lines.filter((l) => PROVE.test(l))).toHaveLength(1);
  });

  it("aiorch connections acknowledge the announcement without asking for the proof", async () => {
    const installed = hostKeysProofStats.installed;
    const skipped = hostKeysProofStats.skipped;
    const accepted = sshd.accepted();
    const lines = await logOf(async () => {
      const nodes = [nodeOn(sshd, "127.0.0.2"), nodeOn(sshd, "127.0.0.3")];
      // a few commands, so the connections live past the announcement
      const jobs = nodes.map(
        (n, i) => new SshJob(n, ["true", "echo x", "true"], { label: `p${i}`, critical: true }),
      );
      expect((await runJobs(jobs, { critical: true })).ok).toBe(true);
    }, 2);
    expect(sshd.accepted()).toBe(accepted + 2);
    expect(lines.filter((l) => /server_input_global_request/.test(l))).toEqual([]);
    expect(hostKeysProofStats.installed).toBe(installed + 2);
    expect(hostKeysProofStats.skipped).toBe(skipped + 2);
  });

  it("stays harmless when ssh2's handlers cannot be replaced: the connection still works", async () => {
    const connect = Client.prototype.connect;
    vi.spyOn(Client.prototype, "connect").mockImplementation(function (
      this: Client,
      ...args: Parameters<Client["connect"]>
    ) {
      const out = connect.apply(this, args);
      const proto = (this as unknown as { _protocol?: { _handlers?: object } })._protocol;
      if (proto?._handlers) Object.freeze(proto._handlers); // assignment now throws
      return out;
    });
    const installed = hostKeysProofStats.installed;
    const proofs = sshd.log.filter((l) => PROVE.test(l)).length;
    const lines = await logOf(async () => {
      const job = new SshJob(nodeOn(sshd, "127.0.0.2"), ["echo x", "true"], {
        label: "frozen",
        critical: true,
      });
      expect((await runJobs([job], { critical: true })).ok).toBe(true);
      // ssh2's own behaviour: it asks for the proof
      await sshd.waitLogCount(PROVE, proofs + 1);
    }, 1);
    expect(hostKeysProofStats.installed).toBe(installed);
    expect(lines.filter((l) => PROVE.test(l))).toHaveLength(1);
  });

  it("does nothing and never throws on objects of another shape", () => {
    const getterThrows = {
      _protocol: {
        get _handlers(): never {
          throw new Error("no");
        },
      },
    };
    const shapes: unknown[] = [
      {},
      { _protocol: null },
      { _protocol: { _handlers: null } },
      { _protocol: { _handlers: {} } },
      { _protocol: { _handlers: { GLOBAL_REQUEST: "not a function" } } },
      { _protocol: { _handlers: Object.freeze({ GLOBAL_REQUEST: () => {} }) } },
      getterThrows,
    ];
    for (const [i, shape] of shapes.entries())
      expect(skipHostKeysProof(shape as unknown as Client), `shape ${i}`).toBe(false);
  });

  it("passes every other request, and an unexpected argument shape, to ssh2's handler", () => {
    const calls: unknown[][] = [];
    const handlers: { GLOBAL_REQUEST: (...a: unknown[]) => void } = {
      GLOBAL_REQUEST: (...a: unknown[]) => {
        calls.push(a);
      },
    };
    expect(skipHostKeysProof({ _protocol: { _handlers: handlers } } as unknown as Client)).toBe(
      true,
    );
    let acks = 0;
    const proto = { requestSuccess: () => acks++ };
    handlers.GLOBAL_REQUEST(proto, "hostkeys-00@openssh.com", true, Buffer.alloc(0));
    handlers.GLOBAL_REQUEST(proto, "hostkeys-00@openssh.com", false, Buffer.alloc(0));
    expect(acks).toBe(1);
    expect(calls).toEqual([]);
    handlers.GLOBAL_REQUEST(proto, "keepalive@openssh.com", true, undefined);
    handlers.GLOBAL_REQUEST({}, "hostkeys-00@openssh.com", true, undefined);
    handlers.GLOBAL_REQUEST(undefined, "hostkeys-00@openssh.com", true, undefined);
    expect(calls.map((c) => c[1])).toEqual([
      "keepalive@openssh.com",
      "hostkeys-00@openssh.com",
      "hostkeys-00@openssh.com",
    ]);
  });
});
