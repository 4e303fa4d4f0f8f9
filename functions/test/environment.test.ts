import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { BUNDLE_PATH } from "./support/bundle.js";

/** Loads the bundle in a fresh Node process, as a Lambda cold start does. */
function coldStart(env: Record<string, string>, script = `require(${JSON.stringify(BUNDLE_PATH)})`) {
  const { PATH, HOME } = process.env;
  return spawnSync(process.execPath, ["-e", script], {
    env: { PATH: PATH ?? "", HOME: HOME ?? "", ...env },
    encoding: "utf8",
  });
}

describe("environment contract", () => {
  it("fails at cold start, naming TABLE_NAME, when it is missing", () => {
    const result = coldStart({ AWS_REGION: "us-east-1" });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain("TABLE_NAME is required");
  });

  it("fails at cold start when AWS_REGION is missing", () => {
    const result = coldStart({ TABLE_NAME: "t" });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain("AWS_REGION is required");
  });

  it("refuses a kill switch value other than true or false", () => {
    const result = coldStart({ TABLE_NAME: "t", AWS_REGION: "us-east-1", CALCBURST_REGION_DISABLED: "yes" });
    expect(result.stderr).toContain("CALCBURST_REGION_DISABLED must be true or false");
  });

  it("exports a handler from a CommonJS bundle that leaves the AWS SDK to the runtime", () => {
    const result = coldStart(
      { TABLE_NAME: "t", AWS_REGION: "us-east-1" },
      `const m = require(${JSON.stringify(BUNDLE_PATH)}); console.log(typeof m.handler, Object.keys(require.cache).some((k) => k.includes("@aws-sdk")))`,
    );
    expect(result.stdout.trim()).toBe("function false");
    const source = readFileSync(BUNDLE_PATH, "utf8");
    expect(source.includes('import("@aws-sdk/lib-dynamodb")')).toBe(true);
    expect(source.includes("DynamoDBServiceException")).toBe(false);
  });
});
