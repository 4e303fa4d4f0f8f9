import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["**/test/**/*.test.ts"],
    exclude: ["**/node_modules/**", "**/dist/**", "**/.cache/**"],
    globalSetup: ["./test/global-setup.ts"],
    // CI also keeps a JSON report, from which .ci/run prints a plain "N passed, N failed" line.
    reporters: process.env.CI ? ["default", ["json", { outputFile: ".local/vitest-report.json" }]] : ["default"],
    env: { LOG_LEVEL: "silent" },
    // Suites that start DynamoDB Local (a JVM each) share two cores; more workers only thrash.
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
