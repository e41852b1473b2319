// The cluster tests (test/cluster/): real nginx in front of real web and worker processes of the
// production build, and the chaos soak on processes of that build, so `npm test` runs them after
// `next build` (scripts/test.sh). Same template database, per-file stores and global setup as the
// integration tests, but one file at a time: each starts a whole cluster, which fills two cores.
import { configDefaults, defineConfig } from "vitest/config";
import { integration } from "./vitest.config";

export default defineConfig({
  ...integration,
  test: {
    ...integration.test,
    include: ["test/cluster/**/*.test.ts"],
    exclude: configDefaults.exclude,
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
