/**
 * Test harness: a throwaway OpenSSH server on loopback addresses only.
 *
 * Starts `/usr/sbin/sshd -D -e` with its own host key, client key, config, authorized keys
 * and pid file in a temp dir, logging to stderr (read by this process: readiness and
 * connection counts come from log lines, no polling). Logs in as a dedicated user with a
 * plain `/bin/sh` (created with useradd when missing and running as root).
 *
 * A missing or failing sshd THROWS: in CI that is a test failure, never a skip.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:net";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";

export const SSHD = "/usr/sbin/sshd";
export const TEST_USER = "aiorchtest";

/** A generated key pair. */
export interface KeyPair {
  /** private key path */
  path: string;
  /** public key line */
  pub: string;
}

/** Options of {@link startSshd}. */
export interface SshdOptions {
  /** loopback addresses to listen on (at most 16 per sshd) @default ["127.0.0.2"] */
  addresses?: string[];
  /** port, same on every address @default a free high port */
  port?: number;
  /** reuse a directory holding keys (several sshd sharing host key and client key) */
  keys?: SshKeys;
  /** `MaxSessions` @default 10 */
  maxSessions?: number;
  /** `LogLevel` (`DEBUG1` also logs each global request the client sends) @default "VERBOSE" */
  logLevel?: "VERBOSE" | "DEBUG1";
}

/** Host key, client key and a known_hosts file for them. */
export interface SshKeys {
  dir: string;
  hostKey: KeyPair;
  clientKey: KeyPair;
  /** a second client key that is NOT authorized */
  wrongKey: KeyPair;
}

/** A running sshd. */
export interface Sshd {
  addresses: string[];
  port: number;
  user: string;
  keys: SshKeys;
  /** a known_hosts file listing every address of this sshd with its host key */
  knownHosts: string;
  /** pid of the listening sshd */
  pid: number;
  /** log lines so far */
  log: string[];
  /** connections accepted (authenticated) so far, optionally only those to `address` */
  accepted(address?: string): number;
  /** current per-connection sshd processes (children of the listener) */
  children(): number[];
  /** the value of AIORCH_TEST_RUN in the environment of every session process */
  marker: string;
  /** processes of this sshd's sessions still alive (however reparented), with their command line */
  leftovers(): { pid: number; cmdline: string }[];
  /** resolves with the leftovers once there are none, or after `timeoutMs` (polls /proc) */
  waitNoLeftovers(timeoutMs?: number): Promise<{ pid: number; cmdline: string }[]>;
  /** SIGKILL every process of every connection of this sshd (the listener stays) */
  killConnections(): void;
  /** resolves when a log line matching `re` appears (already present counts) */
  waitLog(re: RegExp, timeoutMs?: number): Promise<string>;
  /** resolves when at least `n` log lines match `re` */
  waitLogCount(re: RegExp, n: number, timeoutMs?: number): Promise<void>;
  /**
   * Stop sshd. Throws (after killing them) when session processes are left 3 s after the
   * last connection: every SSH test file checks that a run leaves nothing behind.
   */
  stop(): Promise<void>;
}

/** Session environment variable naming the sshd a process comes from. */
export const MARKER_VAR = "AIORCH_TEST_RUN";

/** Live processes whose environment holds `AIORCH_TEST_RUN=marker`. */
export function findMarked(marker: string): { pid: number; cmdline: string }[] {
  const needle = `${MARKER_VAR}=${marker}\0`;
  const out: { pid: number; cmdline: string }[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (!`${readFileSync(`/proc/${name}/environ`, "latin1")}\0`.includes(needle)) continue;
      const cmdline = readFileSync(`/proc/${name}/cmdline`, "latin1").replaceAll("\0", " ").trim();
      // zombies have an empty command line: they are gone, only not reaped yet
      if (cmdline !== "") out.push({ pid: Number(name), cmdline });
    } catch {
      // process gone
    }
  }
  return out;
}

/** Fail loudly when the environment cannot run sshd. */
function checkEnvironment(): void {
  if (!existsSync(SSHD))
    throw new Error(`${SSHD} not found: install openssh-server (SSH tests require it)`);
  if (userInfo().uid !== 0) throw new Error("SSH tests must run as root (sshd needs it)");
  mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });
  ensureUser();
}

/** Create the test login user with a plain /bin/sh, and unlock it for key logins. */
function ensureUser(): void {
  try {
    execFileSync("id", [TEST_USER], { stdio: "ignore" });
  } catch {
    execFileSync("useradd", ["-m", "-s", "/bin/sh", TEST_USER], { stdio: "inherit" });
  }
  // a "!" (locked) password makes sshd refuse every login when UsePAM is off
  const shadow = readFileSync("/etc/shadow", "utf8");
  if (new RegExp(`^${TEST_USER}:!`, "m").test(shadow))
    execFileSync("usermod", ["-p", "*", TEST_USER], { stdio: "inherit" });
  const home = execFileSync("sh", ["-c", `getent passwd ${TEST_USER} | cut -d: -f6`], {
    encoding: "utf8",
  }).trim();
  if (!existsSync(home)) {
    mkdirSync(home, { recursive: true });
    execFileSync("chown", [`${TEST_USER}:`, home]);
  }
}

function keygen(path: string, comment: string): KeyPair {
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", path], {
    stdio: "ignore",
  });
  return { path, pub: readFileSync(`${path}.pub`, "utf8").trim() };
}

/** Generate host and client keys in a fresh temp dir. */
export function createKeys(): SshKeys {
  checkEnvironment();
  const dir = mkdtempSync(join(tmpdir(), "aiorch-sshd-"));
  execFileSync("chmod", ["755", dir]);
  const keys: SshKeys = {
    dir,
    hostKey: keygen(join(dir, "host_ed25519"), "aiorch-test-host"),
    clientKey: keygen(join(dir, "client_ed25519"), "aiorch-test-client"),
    wrongKey: keygen(join(dir, "wrong_ed25519"), "aiorch-test-wrong"),
  };
  writeFileSync(join(dir, "authorized_keys"), `${keys.clientKey.pub}\n`, { mode: 0o644 });
  return keys;
}

/** A free TCP port on 127.0.0.1 (the same port is then used on every loopback address). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** A known_hosts line for every address:port with the host key. */
export function knownHostsLine(addresses: string[], port: number, keys: SshKeys): string {
  const names = addresses.map((a) => (port === 22 ? a : `[${a}]:${port}`)).join(",");
  const [type, blob] = keys.hostKey.pub.split(" ");
  return `${names} ${type} ${blob}\n`;
}

/** Start an sshd on loopback addresses; resolves once it listens on all of them. */
export async function startSshd(opts: SshdOptions = {}): Promise<Sshd> {
  checkEnvironment();
  const addresses = opts.addresses ?? ["127.0.0.2"];
  if (addresses.length > 16) throw new Error("one sshd listens on at most 16 addresses");
  for (const a of addresses)
    if (!a.startsWith("127.")) throw new Error(`not a loopback address: ${a}`);
  const keys = opts.keys ?? createKeys();
  const port = opts.port ?? (await freePort());
  const id = `${addresses[0]}-${port}`;
  const marker = `${process.pid}-${id}`;
  const config = join(keys.dir, `sshd_config-${id}`);
  const pidFile = join(keys.dir, `sshd-${id}.pid`);
  writeFileSync(
    config,
    [
      ...addresses.map((a) => `ListenAddress ${a}:${port}`),
      `HostKey ${keys.hostKey.path}`,
      `PidFile ${pidFile}`,
      `AuthorizedKeysFile ${join(keys.dir, "authorized_keys")}`,
      "UsePAM no",
      "StrictModes no",
      "PubkeyAuthentication yes",
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      `AllowUsers ${TEST_USER}`,
      `MaxSessions ${opts.maxSessions ?? 10}`,
      "MaxStartups 400",
      "MaxAuthTries 10",
      "UseDNS no",
      "PrintMotd no",
      "PrintLastLog no",
      "AllowTcpForwarding yes",
      "X11Forwarding no",
      `LogLevel ${opts.logLevel ?? "VERBOSE"}`,
      "Subsystem sftp internal-sftp",
      // every process of this sshd's sessions carries the marker (found in /proc/PID/environ,
      // also once reparented): leftovers of THIS run, not of other tests of the same user
      `SetEnv ${MARKER_VAR}=${marker}`,
      "",
    ].join("\n"),
  );
  const knownHosts = join(keys.dir, `known_hosts-${id}`);
  writeFileSync(knownHosts, knownHostsLine(addresses, port, keys));

  const child: ChildProcess = spawn(SSHD, ["-D", "-e", "-f", config], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  const log: string[] = [];
  const waiters = new Set<{ check: () => string | undefined; resolve: (l: string) => void }>();
  let partial = "";
  let exited: string | undefined;
  const exitWaiters = new Set<() => void>();
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (chunk: string) => {
    const lines = (partial + chunk).split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines) {
      log.push(line);
      for (const w of waiters) {
        const found = w.check();
        if (found !== undefined) {
          waiters.delete(w);
          w.resolve(found);
        }
      }
    }
  });
  child.on("exit", (code, sig) => {
    exited = `sshd exited (${code ?? sig}): ${log.slice(-5).join(" | ")}`;
    for (const w of exitWaiters) w();
  });

  const waitFor = (
    check: () => string | undefined,
    what: string,
    timeoutMs: number,
  ): Promise<string> => {
    const found = check();
    if (found !== undefined) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const onExit = () => done(new Error(exited));
      const timer = setTimeout(
        () => done(new Error(`sshd: no ${what} after ${timeoutMs} ms`)),
        timeoutMs,
      );
      const w = { check, resolve: (l: string) => done(undefined, l) };
      const done = (err?: Error, line?: string) => {
        clearTimeout(timer);
        waiters.delete(w);
        exitWaiters.delete(onExit);
        if (err) reject(err);
        else resolve(line as string);
      };
      if (exited !== undefined) return done(new Error(exited));
      waiters.add(w);
      exitWaiters.add(onExit);
    });
  };

  const waitLog = (re: RegExp, timeoutMs = 10_000): Promise<string> =>
    waitFor(() => log.find((l) => re.test(l)), `log line ${re}`, timeoutMs);
  const waitLogCount = async (re: RegExp, n: number, timeoutMs = 10_000): Promise<void> => {
    await waitFor(
      () => (log.filter((l) => re.test(l)).length >= n ? "ok" : undefined),
      `${n} log lines ${re}`,
      timeoutMs,
    );
  };

  for (const a of addresses)
    await waitLog(new RegExp(`Server listening on ${a.replaceAll(".", "\\.")} port ${port}`));
  const pid = child.pid as number;

  const parents = (): Map<number, number> => {
    const m = new Map<number, number>();
    for (const name of readdirSync("/proc")) {
      if (!/^\d+$/.test(name)) continue;
      try {
        const stat = readFileSync(`/proc/${name}/stat`, "utf8");
        m.set(Number(name), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
      } catch {
        // process gone
      }
    }
    return m;
  };
  const children = (): number[] =>
    [...parents()].filter(([, ppid]) => ppid === pid).map(([p]) => p);
  /** every process started (directly or not) by this sshd */
  const descendants = (): number[] => {
    const ppids = parents();
    const out = new Set<number>([pid]);
    let grew = true;
    while (grew) {
      grew = false;
      for (const [p, pp] of ppids)
        if (!out.has(p) && out.has(pp)) {
          out.add(p);
          grew = true;
        }
    }
    out.delete(pid);
    return [...out];
  };

  const waitNoLeftovers = async (timeoutMs = 3000) => {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const left = findMarked(marker);
      if (left.length === 0 || Date.now() >= until) return left;
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  return {
    addresses,
    port,
    user: TEST_USER,
    keys,
    knownHosts,
    pid,
    log,
    accepted(address?: string) {
      // "Connection from A port P on ADDR port N" then "Accepted publickey for …" per connection
      if (address === undefined) return log.filter((l) => l.includes("Accepted publickey")).length;
      return log.filter((l) =>
        new RegExp(`^Connection from .* on ${address.replaceAll(".", "\\.")} port`).test(l),
      ).length;
    },
    children,
    marker,
    leftovers: () => findMarked(marker),
    waitNoLeftovers,
    killConnections() {
      for (const c of descendants()) {
        try {
          process.kill(c, "SIGKILL");
        } catch {
          // already gone
        }
      }
    },
    waitLog,
    waitLogCount,
    async stop() {
      const left = await waitNoLeftovers();
      for (const p of left) {
        try {
          process.kill(p.pid, "SIGKILL");
        } catch {
          // already gone
        }
      }
      if (exited === undefined)
        await new Promise<void>((resolve) => {
          exitWaiters.add(resolve);
          child.kill("SIGTERM");
        });
      // keys made for this sshd alone go with it
      if (!opts.keys) removeKeys(keys);
      if (left.length > 0)
        throw new Error(
          `processes of the test run left behind (killed now): ${left.map((p) => `${p.pid} ${p.cmdline}`).join("; ")}`,
        );
    },
  };
}

/** Remove a keys dir made by {@link createKeys}. */
export function removeKeys(keys: SshKeys): void {
  rmSync(keys.dir, { recursive: true, force: true });
}
