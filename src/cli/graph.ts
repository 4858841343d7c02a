import type { Command } from "commander";

/** Placeholder until `aiorch graph` / `aiorch report` land. */
export function registerGraphCommands(_program: Command, _setCode: (code: number) => void): void {}
