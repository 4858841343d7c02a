/**
 * `LocalNode`: the same interface as SshNode, on this machine. Commands run through
 * `/bin/sh -c` in their own process group (a timeout or cancel signals the whole group);
 * push/pull copy files; scripts are staged in a private temp dir and removed afterwards.
 */
import { spawn } from "node:child_process";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import type { JobContext, Resource } from "../job.ts";
import type { ExecStatus } from "./connection.ts";
import { SshChannelError } from "./errors.ts";
import { ProcessGroups, stopNotConfirmed } from "./groups.ts";
import { copyPaths } from "./local-copy.ts";
import { pauseWhileBehind } from "./pressure.ts";
import { abortReason } from "./limits.ts";
import type { CommandNode, NodeExecOptions, StagedFile } from "./types.ts";

/** Options of {@link LocalNode}. */
export interface LocalNodeOptions {
  /** shell used for commands @default "/bin/sh" */
  shell?: string;
}

/**
 * Commands on the local machine.
 * @example new SshJob(new LocalNode(), [run("make", "-j4")])
 */
export class LocalNode implements CommandNode {
  readonly host = "localhost";
  readonly user: string;
  readonly shell: string;
  /** process groups of the commands still running */
  readonly #groups = new ProcessGroups();
  /** registered with each run using this node: stops what still runs at the end */
  readonly resource: Resource;

  constructor(opts: LocalNodeOptions = {}) {
    this.user = safeUser();
    this.shell = opts.shell ?? "/bin/sh";
    this.resource = {
      name: "local commands",
      close: async () => {
        const n = await this.#groups.stopAll();
        if (n > 0) throw stopNotConfirmed(this.name, this.host, n);
      },
    };
  }

  get name(): string {
    return `${this.user}@localhost`;
  }

  get shortName(): string {
    return "localhost";
  }

  toString(): string {
    return "localhost";
  }

  exec(opts: NodeExecOptions): Promise<ExecStatus> {
    if (opts.signal?.aborted) return Promise.reject(abortReason(opts.signal));
    opts.ctx?.use(this.resource);
    let kill: ((sig: string) => void) | undefined;
    const done = new Promise<ExecStatus>((resolve, reject) => {
      const child = spawn(this.shell, ["-c", opts.command], {
        detached: true,
        stdio: ["ignore", "pipe", "pipe"],
      });
      kill = (sig: string) => {
        try {
          if (child.pid)
            process.kill(-child.pid, `SIG${sig.replace(/^SIG/, "")}` as NodeJS.Signals);
        } catch {
          // group already gone
        }
      };
      const closer = opts.closeSignal ?? opts.signal;
      const onClose = () => {
        kill?.("KILL");
        child.stdout.resume();
        child.stderr.resume();
      };
      closer?.addEventListener("abort", onClose, { once: true });
      // a sink behind (an -o file, a slow stdout): stop reading, the pipe fills, it waits
      child.stdout.on("data", (c: Buffer) => {
        opts.onStdout(c);
        pauseWhileBehind(child.stdout);
      });
      child.stderr.on("data", (c: Buffer) => {
        opts.onStderr(c);
        pauseWhileBehind(child.stderr);
      });
      child.once("error", (err) => {
        closer?.removeEventListener("abort", onClose);
        reject(
          new SshChannelError(
            `cannot run "${opts.display ?? opts.command}" locally: ${err.message}`,
            {
              host: this.host,
              user: this.user,
              command: opts.display ?? opts.command,
              cause: err,
            },
          ),
        );
      });
      child.once("close", (code, sig) => {
        closer?.removeEventListener("abort", onClose);
        resolve({ exitCode: code, signal: sig ? sig.replace(/^SIG/, "") : null });
      });
    });
    // stopped at the end of the run (TERM, KILL after the grace) if it still runs then
    const signal = this.#groups.add(kill as (sig: string) => void, done, opts.stopGrace);
    opts.onStart?.(signal);
    return done;
  }

  /** Copy local paths; stops (no write after) when `signal` (the run) or `stop` (a timeout) aborts. */
  async push(opts: {
    locals: readonly string[];
    remote: string;
    signal?: AbortSignal;
    stop?: AbortSignal | undefined;
  }): Promise<number> {
    return this.#copy(opts.locals, opts.remote, opts);
  }

  /** The same as {@link push}, the other way round (both sides are this machine). */
  async pull(opts: {
    remotes: readonly string[];
    local: string;
    signal?: AbortSignal;
    stop?: AbortSignal | undefined;
  }): Promise<number> {
    return this.#copy(opts.remotes, opts.local, opts);
  }

  /** Copy; stopped by the run's signal or the transfer's own stop, whichever aborts first. */
  #copy(
    sources: readonly string[],
    dest: string,
    o: { signal?: AbortSignal; stop?: AbortSignal | undefined },
  ): Promise<number> {
    const all = [o.signal, o.stop].filter((x): x is AbortSignal => x !== undefined);
    const signal = all.length > 1 ? AbortSignal.any(all) : all[0];
    return copyPaths({ sources, dest, node: this, signal });
  }

  async stage(opts: { files: readonly StagedFile[]; signal?: AbortSignal; ctx?: JobContext }) {
    const dir = await mkdtemp(join(tmpdir(), "aiorch-local-"));
    for (const f of opts.files) {
      await writeFile(join(dir, f.name), f.data);
      await chmod(join(dir, f.name), f.mode);
    }
    return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
  }

  describe(): Record<string, unknown> {
    return { type: "local", ...(this.shell !== "/bin/sh" ? { shell: this.shell } : {}) };
  }

  /** Stop the commands still running (TERM, KILL after the grace); never throws. */
  async close(): Promise<void> {
    await this.#groups.stopAll();
  }
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return "localuser";
  }
}
