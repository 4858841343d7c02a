/**
 * `npm run bench`: every benchmark section, each printing a table with ratios against peers
 * measured in the same run. Pass section names to run only some: `npm run bench -- engine`.
 */
import { benchEngine } from "./engine.ts";

const sections: Record<string, () => Promise<void>> = {
  engine: () => benchEngine(),
};

const wanted = process.argv.slice(2);
for (const [name, run] of Object.entries(sections)) {
  if (wanted.length > 0 && !wanted.includes(name)) continue;
  console.log(`\n# ${name}`);
  await run();
}
