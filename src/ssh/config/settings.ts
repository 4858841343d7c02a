/**
 * From a host's OpenSSH configuration and the options given in code to the settings an
 * SshNode connects with: explicit options win, then the files, then aiorch's defaults.
 * `ProxyJump a,b` becomes the gateway chain a -> b -> node; jump hosts are resolved through
 * the same files (the first one with its own ProxyJump, as `ssh -J` does) and shared.
 */
import { homedir, userInfo } from "node:os";
import { join } from "node:path";
import { AiorchError } from "../../errors.ts";
import type { HostKeyPolicy } from "../connection.ts";
import { type HopSpec, parseHop } from "../targets.ts";
import {
  expandIdentityFile,
  type ResolvedSshConfig,
  resolveSshConfig,
  type SshConfigSource,
} from "./resolve.ts";

/** The connection settings of a node. */
export interface NodeSettings {
  config: ResolvedSshConfig | undefined;
  host: string;
  port: number;
  user: string;
  /** explicit keys (only these), or the config's identity files (after the agent) */
  keys: readonly string[] | undefined;
  keysFrom: "option" | "config" | "default";
  identitiesOnly: boolean;
  /** where new host keys are recorded: the first of {@link knownHostsFiles} */
  knownHosts: string;
  /** every known_hosts file read to verify a host key, in order (OpenSSH reads them all) */
  knownHostsFiles: readonly string[];
  hostKeys: HostKeyPolicy;
  connectTimeout: number;
  keepaliveInterval: number;
  keepaliveCountMax: number;
  /** hops from the config's ProxyJump, first hop first; null: `ProxyJump none` */
  jumps: HopSpec[] | null | undefined;
}

/** What the code gave (undefined: not given). */
export interface GivenSettings {
  host: string;
  port?: number | undefined;
  user?: string | undefined;
  keys?: readonly string[] | undefined;
  knownHosts?: string | readonly string[] | undefined;
  hostKeys?: HostKeyPolicy | undefined;
  connectTimeout?: number | undefined;
  keepaliveInterval?: number | undefined;
  keepaliveCountMax?: number | undefined;
  /** a gateway was given (a node, or null for none): the config's ProxyJump is not used */
  gatewayGiven: boolean;
  sshConfig?: SshConfigSource | undefined;
}

const POLICY = { yes: "verify", ask: "verify", "accept-new": "accept-new", no: "off" } as const;

/** Parse a ProxyJump value into hops (`ssh://user@host:port` accepted too). */
export function parseProxyJump(value: string, where: string): HopSpec[] {
  return value.split(",").map((hop) => {
    const text = hop
      .trim()
      .replace(/^ssh:\/\//, "")
      .replace(/\/$/, "");
    try {
      return parseHop(text);
    } catch {
      throw new AiorchError("SSH_CONFIG", `${where}: invalid ProxyJump hop ${JSON.stringify(hop)}`);
    }
  });
}

/** Settings for a node: explicit values, else the configuration's, else the defaults. */
export function settleNode(given: GivenSettings): NodeSettings {
  const config =
    given.sshConfig === false
      ? undefined
      : resolveSshConfig({
          host: given.host,
          user: given.user,
          port: given.port,
          source: given.sshConfig,
        });
  if (config?.proxyCommand && config.proxyCommand.toLowerCase() !== "none" && !given.gatewayGiven)
    throw new AiorchError(
      "SSH_CONFIG",
      `${config.sources.proxycommand}: ProxyCommand is not supported by aiorch (host ${given.host}); use ProxyJump, or give a gateway`,
      { host: given.host },
    );
  const fileKeys = config?.identityFiles.map((f) => expandIdentityFile(f, config));
  const strict = config?.strictHostKeyChecking;
  const givenKnown = given.knownHosts;
  const knownFiles: readonly string[] =
    givenKnown === undefined
      ? config?.userKnownHostsFiles?.length
        ? config.userKnownHostsFiles
        : [join(homedir(), ".ssh", "known_hosts")]
      : typeof givenKnown === "string"
        ? [givenKnown]
        : Array.isArray(givenKnown)
          ? givenKnown
          : [];
  if (knownFiles.length === 0 || knownFiles.some((f) => typeof f !== "string" || f === ""))
    throw new AiorchError("INVALID_ARGUMENT", "SshNode: knownHosts must name at least one file", {
      option: "knownHosts",
    });
  const jump = config?.proxyJump;
  return {
    config,
    host: config?.hostname ?? given.host,
    port: given.port ?? config?.port ?? 22,
    user: given.user ?? config?.user ?? userInfo().username,
    keys: given.keys ?? (fileKeys?.length ? fileKeys : undefined),
    keysFrom: given.keys ? "option" : fileKeys?.length ? "config" : "default",
    identitiesOnly: config?.identitiesOnly ?? false,
    knownHosts: knownFiles[0]!,
    knownHostsFiles: knownFiles,
    hostKeys: given.hostKeys ?? (strict ? POLICY[strict] : "verify"),
    connectTimeout:
      given.connectTimeout ??
      (config?.connectTimeout ? config.connectTimeout * 1000 : undefined) ??
      30_000,
    keepaliveInterval: given.keepaliveInterval ?? (config?.serverAliveInterval ?? 0) * 1000,
    keepaliveCountMax: given.keepaliveCountMax ?? config?.serverAliveCountMax ?? 3,
    jumps:
      given.gatewayGiven || jump === undefined
        ? undefined
        : jump === "none"
          ? null
          : parseProxyJump(jump, config?.sources.proxyjump ?? ""),
  };
}
