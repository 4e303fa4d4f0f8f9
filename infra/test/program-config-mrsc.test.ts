import { describe, expect, it } from "vitest";
import { readStackValues } from "../../shared/stack-file.js";
import type { ProgramRun } from "../mock-runtime.js";
import { policyViolations, runProgram, useProgram } from "./support/program.js";

const strong = readStackValues("strong").values;
const prod = readStackValues("prod").values;
const tableOf = (run: ProgramRun) => run.resources.find((resource) => resource.type === "aws:dynamodb/table:Table");

describe("the Pulumi program with an MRSC stack (Pulumi.strong.yaml)", () => {
  const run = useProgram(strong, { stack: "strong" });

  it("creates the table with a STRONG replica in each other region and the TTL off", () => {
    expect(tableOf(run())?.inputs).toMatchObject({
      region: "us-east-1",
      ttl: { enabled: false },
      replicas: [
        { regionName: "us-east-2", consistencyMode: "STRONG" },
        { regionName: "us-west-2", consistencyMode: "STRONG" },
      ],
    });
    expect(tableOf(run())?.inputs.globalTableWitness).toBeUndefined();
  });

  it("passes every policy of the policy pack", async () => {
    expect(await policyViolations(run().resources)).toEqual([]);
  });
});

describe("the Pulumi program with two MRSC regions and a witness", () => {
  const run = useProgram(
    {
      ...strong,
      "calcburst:regions": ["us-east-1", "us-east-2"],
      "calcburst:tableWitnessRegion": "us-west-2",
      "calcburst:vpcCidrs": { "us-east-1": "10.40.0.0/16", "us-east-2": "10.41.0.0/16" },
      "calcburst:localClientLatencyMs": { east: { "us-east-1": 8, "us-east-2": 18 } },
    },
    { stack: "strong" },
  );

  it("places the witness in the third region of the set", () => {
    expect(tableOf(run())?.inputs).toMatchObject({
      replicas: [{ regionName: "us-east-2", consistencyMode: "STRONG" }],
      globalTableWitness: { regionName: "us-west-2" },
    });
  });
});

describe("the Pulumi program refuses what AWS would refuse of MRSC", () => {
  it.each([
    ["the item TTL", { "calcburst:tableTtlDays": 30 }, "MRSC cannot be combined with the item TTL"],
    [
      "two regions without a witness",
      {
        "calcburst:regions": ["us-east-1", "us-east-2"],
        "calcburst:vpcCidrs": { "us-east-1": "10.40.0.0/16", "us-east-2": "10.41.0.0/16" },
        "calcburst:localClientLatencyMs": { east: { "us-east-1": 8, "us-east-2": 18 } },
      },
      "MRSC needs exactly three regions, or two and a tableWitnessRegion",
    ],
    [
      "three regions and a witness",
      { "calcburst:tableWitnessRegion": "us-east-2" },
      "tableWitnessRegion goes with exactly two regions",
    ],
    [
      "regions from two region sets",
      {
        "calcburst:regions": ["us-east-1", "us-east-2", "eu-west-1"],
        "calcburst:vpcCidrs": { "us-east-1": "10.40.0.0/16", "us-east-2": "10.41.0.0/16", "eu-west-1": "10.42.0.0/16" },
        "calcburst:localClientLatencyMs": { east: { "us-east-1": 8, "us-east-2": 18, "eu-west-1": 80 } },
      },
      "every replica and the witness in one region set",
    ],
    [
      "a witness that is also a replica",
      {
        "calcburst:regions": ["us-east-1", "us-east-2"],
        "calcburst:tableWitnessRegion": "us-east-2",
        "calcburst:vpcCidrs": { "us-east-1": "10.40.0.0/16", "us-east-2": "10.41.0.0/16" },
        "calcburst:localClientLatencyMs": { east: { "us-east-1": 8, "us-east-2": 18 } },
      },
      "the witness must be a region without a replica",
    ],
  ])("refuses MRSC with %s", async (_what, change, message) => {
    await expect(runProgram({ ...strong, ...change }, { stack: "strong" })).rejects.toThrow(message);
  });

  it("refuses a witness on an MREC table", async () => {
    await expect(runProgram({ ...prod, "calcburst:tableWitnessRegion": "us-west-2" })).rejects.toThrow(
      "tableWitnessRegion us-west-2 is for MRSC tables only",
    );
  });
});
