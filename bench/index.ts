/**
 * `npm run bench`: every benchmark section, each printing a table with ratios against peers
 * measured in the same run. Pass section names to run only some: `npm run bench -- engine`.
 */
import { benchCodegen } from "./codegen.ts";
import { benchDslTypecheck } from "./dsl-typecheck.ts";
import { benchEngine } from "./engine.ts";
import { benchMemory } from "./memory.ts";
import { benchScale } from "./scale.ts";
import { benchSsh } from "./ssh.ts";
import { benchStartup } from "./startup.ts";
import { benchView } from "./view.ts";

const sections: Record<string, () => Promise<void>> = {
  engine: () => benchEngine(),
  codegen: () => benchCodegen(),
  dsl: () => benchDslTypecheck(),
  view: () => benchView(),
  ssh: () => benchSsh(),
  startup: () => benchStartup(),
  memory: () => benchMemory(),
  scale: () => benchScale(),
};

const wanted = process.argv.slice(2);
for (const [name, run] of Object.entries(sections)) {
  if (wanted.length > 0 && !wanted.includes(name)) continue;
  console.log(`\n# ${name}`);
  await run();
}
