import type { Command } from "commander";

/** Placeholder until the SSH subcommands land. */
export function registerSshCommands(_program: Command, _setCode: (code: number) => void): void {}
