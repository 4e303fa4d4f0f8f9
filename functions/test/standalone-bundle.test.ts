import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { BUNDLE_PATH } from "./support/bundle.js";
import { TEST_REGION, TEST_TABLE, useDynamoDbLocal } from "./support/dynamodb.js";

const database = useDynamoDbLocal();
const ROOT = path.resolve(__dirname, "..", "..");
const elsewhere = mkdtempSync(path.join(os.tmpdir(), "calcburst-bundle-"));
const copy = path.join(elsewhere, "handler.js");
copyFileSync(BUNDLE_PATH, copy);
afterAll(() => rmSync(elsewhere, { recursive: true, force: true }));

/** Requires the copied bundle in a fresh Node process run from `cwd`, and invokes it once. */
function invokeCopy(cwd: string, id: string) {
  const event = {
    version: "2.0",
    rawPath: "/v1/calculations",
    headers: { "content-type": "application/json" },
    requestContext: { http: { method: "POST" }, requestId: id, stage: "$default" },
    body: JSON.stringify({ operation: "add", operands: [0.1, 0.2], id }),
    isBase64Encoded: false,
  };
  const script = `require(${JSON.stringify(copy)}).handler(${JSON.stringify(event)}).then((r) => console.log(JSON.stringify(r)))`;
  const run = spawnSync(process.execPath, ["-e", script], {
    cwd,
    env: {
      ...process.env,
      TABLE_NAME: TEST_TABLE,
      AWS_REGION: TEST_REGION,
      DYNAMODB_ENDPOINT: database.endpoint,
      LOG_LEVEL: "error",
    },
    encoding: "utf8",
  });
  const lines = run.stdout.trim().split("\n");
  return { response: JSON.parse(lines.at(-1) ?? "{}"), log: lines.slice(0, -1).join("\n") };
}

describe("the bundle on its own", () => {
  it("serves a calculation when copied away from the repository and run from a folder with the SDK", () => {
    const { response } = invokeCopy(ROOT, "standalone-1");
    expect(response.statusCode).toBe(201);
    expect(JSON.parse(response.body).result).toBe("0.3");
  });

  it("answers 503 and logs what is missing when no AWS SDK can be found", () => {
    const { response, log } = invokeCopy(elsewhere, "standalone-2");
    expect(response.statusCode).toBe(503);
    expect(log).toContain("AWS SDK v3 not found");
  });
});
