/**
 * `aiorch ssh`, `aiorch push`, `aiorch pull`: run a command (or script), upload or download
 * files on many hosts in parallel, then print a per-host summary. Exit codes (docs/ssh.md):
 * 0 every host ok · 1 some command failed · 3 some host unreachable (wins over 1) · 2 usage.
 */
import type { Command } from "commander";
import { AiorchError } from "../errors.ts";
import type { SshCliOptions } from "./ssh-options.ts";

export type { SshCliOptions };

const collect = (v: string, prev: string[]) => [...prev, v];

function count(option: string): (v: string) => number {
  return (v) => {
    if (!/^\d+$/.test(v.trim()))
      throw new AiorchError("USAGE", `${option} expects a whole number, got ${JSON.stringify(v)}`, {
        option,
      });
    return Number(v);
  };
}

function port(v: string): number {
  const n = count("--port")(v);
  if (n < 1 || n > 65535)
    throw new AiorchError("USAGE", `--port expects 1-65535, got ${JSON.stringify(v)}`, {
      option: "--port",
    });
  return n;
}

function hostKeysMode(v: string): SshCliOptions["hostKeys"] {
  if (v === "verify" || v === "accept-new" || v === "off") return v;
  throw new AiorchError(
    "USAGE",
    `--host-keys expects verify, accept-new or off, got ${JSON.stringify(v)}`,
    {
      option: "--host-keys",
    },
  );
}

function addTargetOptions(cmd: Command): Command {
  return cmd
    .option(
      "-t, --target <targets>",
      "hosts: [user@]host[:port], gw->host, a file, a dir, a comma list (repeatable)",
      collect,
      [],
    )
    .option("-x, --exclude <targets>", "hosts to leave out, same syntax (repeatable)", collect, [])
    .option(
      "-l, --login <user>",
      "user for targets naming none (default: ssh_config, else the local user)",
    )
    .option(
      "-p, --port <port>",
      "port for targets naming none (default: ssh_config, else 22)",
      port,
    )
    .option(
      "-F, --config <file>",
      "OpenSSH client configuration file, or none (default: ~/.ssh/config, /etc/ssh/ssh_config)",
    )
    .option("-g, --gateway <hop>", "gateway for targets that name none: [user@]host[:port][->…]")
    .option("-w, --window <n>", "most hosts at once (0: no limit)", count("--window"), 0)
    .option(
      "-k, --key <file>",
      "private key file (repeatable; default: agent, ~/.ssh/id_*)",
      collect,
      [],
    )
    .option(
      "-c, --connect-timeout <ms>",
      "connect + handshake timeout per host (default: ssh_config ConnectTimeout, else 30000)",
      count("--connect-timeout"),
    )
    .option("--timeout <ms>", "timeout of the command on each host", count("--timeout"))
    .option("--total-timeout <ms>", "timeout of the whole run", count("--total-timeout"))
    .option(
      "--retry <n>",
      "connect again up to N times to a host that refused or timed out (exponential backoff with jitter)",
      count("--retry"),
    )
    .option(
      "--known-hosts <file>",
      "known_hosts file (default: ssh_config, else ~/.ssh/known_hosts)",
    )
    .option(
      "--host-keys <mode>",
      "verify | accept-new | off (default: ssh_config StrictHostKeyChecking, else verify)",
      hostKeysMode,
    )
    .option("-r, --raw", "print output lines as they are")
    .option("--time", "prefix output lines with time and host")
    .option("-o, --out-dir <dir>", "write each host's output to DIR/<host>.out and .err")
    .option("--mark", "with -o: record each host in DIR/0ok/ or DIR/1failed/")
    .option("-n, --dry-run", "list the targets and what would run, then exit")
    .option(
      "--live",
      "one live line per host (state, elapsed, last output line) instead of output lines; the default on a terminal with -o",
    )
    .option("--no-live", "never the live view");
}

/** Add `ssh`, `push` and `pull` to the program (the SSH layer loads only when one runs). */
export function registerSshCommands(program: Command, setCode: (code: number) => void): void {
  program.enablePositionalOptions();
  addTargetOptions(
    program
      .command("ssh")
      .description("run a command (or a script with -s) on many hosts")
      .argument("<command...>", "command line (or with -s: script file and its arguments)")
      .passThroughOptions(),
  )
    .option("-s, --script", "the first word is a local script to upload and run (else its text)")
    .option(
      "-i, --include <file>",
      "with -s: file uploaded next to the script (repeatable)",
      collect,
      [],
    )
    .action(async (words: string[], opts: SshCliOptions) => {
      setCode(await (await import("./ssh-run.ts")).sshMain(words, opts));
    });
  addTargetOptions(
    program
      .command("push")
      .description("upload files to many hosts: aiorch push -t HOSTS LOCAL… @:REMOTE")
      .argument("<paths...>", "local files then @:REMOTE ({host}, {user} expanded)"),
  ).action(async (paths: string[], opts: SshCliOptions) => {
    setCode(await (await import("./ssh-run.ts")).pushMain(paths, opts));
  });
  addTargetOptions(
    program
      .command("pull")
      .description("download files from many hosts: aiorch pull -t HOSTS @:REMOTE… LOCAL")
      .argument("<paths...>", "@:REMOTE… then a local path ({host}, {user} expanded)"),
  ).action(async (paths: string[], opts: SshCliOptions) => {
    setCode(await (await import("./ssh-run.ts")).pullMain(paths, opts));
  });
}
