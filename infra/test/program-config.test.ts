import { describe, expect, it } from "vitest";
import { readStackValues } from "../../shared/stack-file.js";
import { runProgram } from "./support/program.js";

describe("the Pulumi program with a bad config", () => {
  it("refuses a single region with the schema's message", async () => {
    const config = { ...readStackValues("prod").values, "calcburst:regions": ["us-east-1"] };

    await expect(runProgram(config)).rejects.toThrow("regions must list at least two distinct AWS regions");
  });

  it("refuses a stack that leaves the default provider's region to the deployer's shell", async () => {
    const { "aws:region": _region, ...withoutRegion } = readStackValues("prod").values;

    await expect(runProgram(withoutRegion)).rejects.toThrow(
      "aws:region is not set for stack prod: run pulumi config set aws:region us-east-1",
    );
  });
});
