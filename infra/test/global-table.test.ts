import { describe, expect, it } from "vitest";
import { GlobalTable } from "../components/global-table.js";
import { runProgramUnderMocks } from "../mock-runtime.js";

describe("GlobalTable in MRSC mode", () => {
  it("makes the replica STRONG and places the witness, with the TTL off", async () => {
    const run = await runProgramUnderMocks({}, async () => {
      new GlobalTable("strong", {
        regions: ["us-east-1", "us-east-2"],
        consistency: "MRSC",
        witnessRegion: "us-west-2",
        ttlEnabled: false,
      });
      return {};
    });

    const table = run.resources.find((resource) => resource.type === "aws:dynamodb/table:Table");
    expect(table?.inputs).toMatchObject({
      ttl: { enabled: false },
      replicas: [{ regionName: "us-east-2", consistencyMode: "STRONG", pointInTimeRecovery: true }],
      globalTableWitness: { regionName: "us-west-2" },
    });
  });

  it("refuses MRSC with the TTL on", () => {
    expect(
      () => new GlobalTable("strong", { regions: ["us-east-1", "us-east-2", "us-west-2"], consistency: "MRSC" }),
    ).toThrow("MRSC cannot be combined with the TTL");
  });
});
