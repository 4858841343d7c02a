/**
 * Named SSH errors. Each is an {@link AiorchError} with a code from the closed union and the
 * facts as fields (`host`, `user`, `port`, `command`, `exitCode`, `signal`), so callers
 * branch on `err.code` or `instanceof` instead of parsing messages. Messages read like
 * `"apt-get install -y iperf3" exited 100 on root@10.0.0.3`. No secret ever goes in.
 */
import { AiorchError, type AiorchErrorFacts } from "../errors.ts";

/** Why a TCP connection could not be made. */
export type ConnectFailure = "refused" | "timeout" | "reset" | "unreachable" | "closed" | "other";

/** TCP connection refused, reset, unreachable or timed out (code `SSH_CONNECT`). */
export class SshConnectError extends AiorchError {
  readonly reason: ConnectFailure;
  constructor(message: string, facts: AiorchErrorFacts & { reason: ConnectFailure }) {
    const { reason, ...rest } = facts;
    super("SSH_CONNECT", message, rest);
    this.reason = reason;
  }
}

/** Host name lookup failed (code `SSH_DNS`). */
export class SshDnsError extends AiorchError {
  constructor(message: string, facts: AiorchErrorFacts) {
    super("SSH_DNS", message, facts);
  }
}

/** No key was accepted, or a key could not be read or decrypted (code `SSH_AUTH`). */
export class SshAuthError extends AiorchError {
  constructor(message: string, facts: AiorchErrorFacts) {
    super("SSH_AUTH", message, facts);
  }
}

/** The host key is unknown (in `verify` mode), changed, or revoked (code `SSH_HOST_KEY`). */
export class SshHostKeyError extends AiorchError {
  /** `unknown`: not in known_hosts; `changed`: another key is recorded; `revoked`: @revoked */
  readonly reason: "unknown" | "changed" | "revoked";
  /** SHA256 fingerprint of the key the server offered */
  readonly fingerprint: string;
  constructor(
    message: string,
    facts: AiorchErrorFacts & { reason: "unknown" | "changed" | "revoked"; fingerprint: string },
  ) {
    const { reason, fingerprint, ...rest } = facts;
    super("SSH_HOST_KEY", message, rest);
    this.reason = reason;
    this.fingerprint = fingerprint;
  }
}

/** A channel or SFTP session could not be opened, or the connection dropped (code `SSH_CHANNEL`). */
export class SshChannelError extends AiorchError {
  constructor(message: string, facts: AiorchErrorFacts) {
    super("SSH_CHANNEL", message, facts);
  }
}

/** A command exited with a code or signal not in `allowedExits` (code `COMMAND_FAILED`). */
export class CommandFailedError extends AiorchError {
  /** last line the command wrote on stderr, also appended to the message ("" when none) */
  readonly stderrTail: string;
  constructor(message: string, facts: AiorchErrorFacts & { stderrTail?: string }) {
    const { stderrTail, ...rest } = facts;
    super("COMMAND_FAILED", message, rest);
    this.stderrTail = stderrTail ?? "";
  }
}

/** A command ran longer than its `timeout` and was stopped (code `TIMEOUT`). */
export class CommandTimeoutError extends AiorchError {
  constructor(message: string, facts: AiorchErrorFacts) {
    super("TIMEOUT", message, facts);
  }
}

/** A local or remote file to push, pull, run or include is missing or unreadable (code `FILE`). */
export class SshFileError extends AiorchError {
  constructor(message: string, facts: AiorchErrorFacts) {
    super("FILE", message, facts);
  }
}

/** True for errors that mean "this host cannot be reached/used at all" (CLI: unreachable). */
export function isUnreachableError(err: unknown): boolean {
  return (
    err instanceof SshConnectError ||
    err instanceof SshDnsError ||
    err instanceof SshAuthError ||
    err instanceof SshHostKeyError
  );
}
