import type { Command } from "commander";

/** Placeholder until `aiorch codegen` lands. */
export function registerCodegenCommand(_program: Command, _setCode: (code: number) => void): void {}
