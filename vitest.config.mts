import { defineConfig } from "vitest/config";
import SlowestFirstSequencer from "./test/sequencer.mjs";

/**
 * Test files that load the whole machine on purpose (CPU spinners) or measure a failover under
 * load. They run after every other file, one at a time: beside another file's local cloud, the
 * spinners starve that cloud, and a failover's survivor shares two cores with a second cloud and
 * misses its deadlines, so a failure would be the suite's, not the product's.
 */
const MACHINE_WIDE = ["local/test/busy-machine.test.ts", "local/test/load.test.ts"];

const shared = {
  globalSetup: ["./test/global-setup.ts"],
  env: { LOG_LEVEL: "silent" },
  testTimeout: 30_000,
  hookTimeout: 60_000,
};

export default defineConfig({
  test: {
    // CI also keeps a JSON report, from which .ci/run prints a plain "N passed, N failed" line.
    reporters: process.env.CI ? ["default", ["json", { outputFile: ".local/vitest-report.json" }]] : ["default"],
    // Suites that start DynamoDB Local (a JVM each) share two cores; more workers only thrash.
    maxWorkers: 2,
    // The slow files first, so that the two workers finish together (test/sequencer.ts).
    sequence: { sequencer: SlowestFirstSequencer },
    projects: [
      {
        test: {
          ...shared,
          name: "suite",
          include: ["**/test/**/*.test.ts"],
          exclude: ["**/node_modules/**", "**/dist/**", "**/.cache/**", ...MACHINE_WIDE],
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          ...shared,
          name: "machine-wide",
          include: MACHINE_WIDE,
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
