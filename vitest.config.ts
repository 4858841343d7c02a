import { defaultServerConditions } from "vite";
import { defineConfig } from "vitest/config";

// "aiorch-source": the repository's own tests import aiorch (and its subpaths) from the
// sources, not from dist/ (package.json `exports`, tsconfig `customConditions`)
const conditions = ["aiorch-source", ...defaultServerConditions];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: ["aiorch-source"] } },
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    typecheck: { enabled: true, include: ["test/**/*.test-d.ts"], tsconfig: "./tsconfig.json" },
    pool: "forks",
  },
});
