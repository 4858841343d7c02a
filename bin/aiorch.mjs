#!/usr/bin/env node
// The aiorch command. The installed package runs its compiled JavaScript (dist/); tsx is
// loaded only to import the user's scenario file. In a source checkout (src/ present, as in
// this repository; the package does not ship it) aiorch's own sources run through tsx, with
// the "aiorch-source" export condition so scenarios importing "aiorch" get the same sources.
import { existsSync } from "node:fs";
import { register } from "node:module";

const sources = new URL("../src/cli/main.ts", import.meta.url);
let main;
if (existsSync(sources)) {
  await import("tsx");
  register(new URL("./source-condition.mjs", import.meta.url));
  ({ main } = await import(sources.href));
} else {
  ({ main } = await import("../dist/src/cli/main.js"));
}
process.exitCode = await main(process.argv);
