import { describe, expect, it } from "vitest";
import { MRSC_REGION_SETS } from "../../shared/stack-config.js";
import { MRSC_REGION_SETS_COPY } from "../policy/policies.js";
import { policyViolations, craftedResource as resource } from "./support/program.js";

const strongTable = {
  region: "us-east-1",
  pointInTimeRecovery: { enabled: true },
  serverSideEncryption: { enabled: false },
  ttl: { attributeName: "expiresAt", enabled: false },
  replicas: [
    { regionName: "us-east-2", pointInTimeRecovery: true, consistencyMode: "STRONG" },
    { regionName: "us-west-2", pointInTimeRecovery: true, consistencyMode: "STRONG" },
  ],
};
const table = (change: Record<string, unknown>) =>
  resource("aws:dynamodb/table:Table", "table", { ...strongTable, ...change });
const mrscViolations = async (change: Record<string, unknown>) =>
  (await policyViolations([table(change)])).filter((violation) => violation.startsWith("dynamodb-mrsc-shape"));

describe("the policy pack's MRSC rule", () => {
  it("passes three STRONG regions of one set with the TTL off", async () => {
    expect(await mrscViolations({})).toEqual([]);
  });

  it("passes two STRONG regions and a witness of the same set", async () => {
    expect(
      await mrscViolations({
        replicas: [{ regionName: "us-east-2", pointInTimeRecovery: true, consistencyMode: "STRONG" }],
        globalTableWitness: { regionName: "us-west-2" },
      }),
    ).toEqual([]);
  });

  it.each([
    ["the TTL on", { ttl: { attributeName: "expiresAt", enabled: true } }, "TTL is on"],
    [
      "one replica left eventual",
      { replicas: [{ ...strongTable.replicas[0] }, { regionName: "us-west-2", pointInTimeRecovery: true }] },
      "1 of 2 replicas are STRONG",
    ],
    [
      "two regions without a witness",
      { replicas: [strongTable.replicas[0]] },
      "MRSC needs three regions, or two and a witness",
    ],
    [
      "a region outside the set",
      { replicas: [strongTable.replicas[0], { ...strongTable.replicas[1], regionName: "eu-west-1" }] },
      "not in one MRSC region set",
    ],
    [
      "a witness in a replica's region",
      { replicas: [strongTable.replicas[0]], globalTableWitness: { regionName: "us-east-2" } },
      "MRSC needs three regions, or two and a witness",
    ],
  ])("reports %s", async (_what, change, message) => {
    const violations = await mrscViolations(change);

    expect(violations.join("\n")).toContain(message);
  });

  it("reports a witness on an MREC table", async () => {
    const violations = await mrscViolations({
      replicas: [{ regionName: "us-east-2", pointInTimeRecovery: true }],
      globalTableWitness: { regionName: "us-west-2" },
    });

    expect(violations.join("\n")).toContain("needs MRSC replicas");
  });

  it("holds the same region sets as the config check", () => {
    expect(MRSC_REGION_SETS_COPY).toEqual(Object.values(MRSC_REGION_SETS));
  });
});
