import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["**/test/**/*.test.ts"],
    exclude: ["**/node_modules/**", "**/dist/**", "**/.cache/**"],
    globalSetup: ["./test/global-setup.ts"],
    env: { LOG_LEVEL: "silent" },
    // Suites that start DynamoDB Local (a JVM each) share two cores; more workers only thrash.
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
