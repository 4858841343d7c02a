/**
 * Test harness: a throwaway redis-server on 127.0.0.1 at a free port, with its own
 * directory and no persistence (`--save ''`), and `aiorch worker` processes against it.
 * A missing redis-server THROWS: in CI that is a test failure, never a skip.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../ssh/sshd.ts";

export const REDIS_SERVER = "/usr/bin/redis-server";

/** A running redis-server. */
export interface RedisServer {
  port: number;
  url: string;
  /** stop it (SIGTERM); `start()` brings it back on the same port */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** stop and remove its directory */
  dispose(): Promise<void>;
}

/** Resolves when `child` prints a line matching `re` (stdout or stderr); rejects on exit. */
export function waitOutput(child: ChildProcess, re: RegExp, timeoutMs = 15_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = "";
    const timer = setTimeout(
      () => done(new Error(`no ${re} within ${timeoutMs} ms; output: ${seen.slice(-2000)}`)),
      timeoutMs,
    );
    const onData = (b: Buffer) => {
      seen += b.toString();
      const m = re.exec(seen);
      if (m) done(undefined, m[0]);
    };
    const onExit = (code: number | null) => done(new Error(`exited ${code} before ${re}: ${seen}`));
    const done = (err?: Error, line?: string) => {
      clearTimeout(timer);
      child.stdout?.off("data", onData);
      child.stderr?.off("data", onData);
      child.off("exit", onExit);
      if (err) reject(err);
      else resolve(line as string);
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.on("exit", onExit);
  });
}

/** Wait for a child to exit; resolves with its code (or 128+signal). */
export function exitOf(child: ChildProcess): Promise<number> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  if (child.signalCode !== null) return Promise.resolve(128);
  return new Promise((resolve) =>
    child.once("exit", (code, signal) => resolve(code ?? (signal ? 128 : 0))),
  );
}

/** Start redis-server on 127.0.0.1 at a free port. */
export async function startRedis(): Promise<RedisServer> {
  if (!existsSync(REDIS_SERVER))
    throw new Error(`${REDIS_SERVER} not found: install redis-server (queue tests require it)`);
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "aiorch-redis-"));
  let child: ChildProcess | undefined;
  const server: RedisServer = {
    port,
    url: `redis://127.0.0.1:${port}`,
    async start() {
      const c = spawn(
        REDIS_SERVER,
        [
          "--port",
          String(port),
          "--bind",
          "127.0.0.1",
          "--dir",
          dir,
          "--save",
          "",
          "--appendonly",
          "no",
        ],
        { stdio: ["ignore", "pipe", "pipe"] },
      );
      child = c;
      await waitOutput(c, /Ready to accept connections/);
    },
    async stop() {
      const c = child;
      child = undefined;
      if (!c || c.exitCode !== null) return;
      c.kill("SIGTERM");
      await exitOf(c);
    },
    async dispose() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await server.start();
  return server;
}

const workerChildren = new Set<ChildProcess>();

/** SIGKILL the workers still running (a test that failed half-way). */
export function killLeftoverWorkers(): void {
  for (const c of workerChildren) c.kill("SIGKILL");
  workerChildren.clear();
}

/** A running `aiorch worker`. */
export interface WorkerProcess {
  child: ChildProcess;
  pid: number;
  /** everything it printed on stderr */
  output(): string;
  /** SIGTERM and wait; resolves with the exit code */
  stop(): Promise<number>;
}

/** Start `aiorch worker --redis URL ARGS…` and wait until it is ready. */
export async function startWorkerProcess(url: string, args: string[] = []): Promise<WorkerProcess> {
  const child = spawn("node", ["bin/aiorch.mjs", "worker", "--redis", url, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  workerChildren.add(child);
  child.once("exit", () => workerChildren.delete(child));
  let out = "";
  child.stderr?.on("data", (b: Buffer) => {
    out += b.toString();
  });
  await waitOutput(child, / ready/);
  return {
    child,
    pid: child.pid as number,
    output: () => out,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      return exitOf(child);
    },
  };
}
