/** Options shared by `aiorch ssh/push/pull`, as commander parses them (ssh.ts defines, ssh-run.ts runs). */
export interface SshCliOptions {
  target: string[];
  exclude: string[];
  login?: string;
  port?: number;
  /** ssh_config file (`-F`), or false (`-F none`) */
  config?: string;
  gateway?: string;
  window: number;
  key: string[];
  connectTimeout?: number;
  timeout?: number;
  totalTimeout?: number;
  /** retries of a host that cannot be connected to (connection refused, reset, timed out) */
  retry?: number;
  knownHosts?: string;
  hostKeys?: "verify" | "accept-new" | "off";
  raw?: boolean;
  time?: boolean;
  outDir?: string;
  mark?: boolean;
  dryRun?: boolean;
  /** live view on the terminal instead of output lines (default: on a terminal with -o) */
  live?: boolean;
  script?: boolean;
  include: string[];
}
