#!/usr/bin/env node
// The aiorch command. Scenario files are TypeScript: tsx compiles them (and aiorch's own
// sources) on the fly, so `npx aiorch run x.scenario.ts` works right after `npm install`.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../src/cli/main.ts");
process.exitCode = await main(process.argv);
