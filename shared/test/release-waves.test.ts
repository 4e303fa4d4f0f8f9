import { describe, expect, it } from "vitest";
import { parseStackConfig } from "../stack-config.js";
import { loadStack } from "../stack-file.js";
import { problemsOf } from "./support/problems.js";

const THREE_REGIONS = {
  "calcburst:regions": ["us-east-1", "eu-west-1", "ap-southeast-2"],
  "calcburst:domain": "example.com",
  "calcburst:hostedZoneId": "Z0123456789ABC",
  "calcburst:monitoringRegion": "us-east-1",
  "calcburst:peakRequestsPerSecond": 500,
  "calcburst:alertEmail": "oncall@example.com",
};

const problemsWith = (releaseWaves: unknown) =>
  problemsOf({ ...THREE_REGIONS, "calcburst:releaseWaves": releaseWaves });

describe("the release waves of a stack", () => {
  it("defaults to the first region alone, then the rest together", () => {
    const config = parseStackConfig(THREE_REGIONS);

    expect(config.releaseWaves).toEqual([["us-east-1"], ["eu-west-1", "ap-southeast-2"]]);
  });

  it("takes waves that hold every region once", () => {
    const waves = [["eu-west-1"], ["ap-southeast-2"], ["us-east-1"]];

    expect(parseStackConfig({ ...THREE_REGIONS, "calcburst:releaseWaves": waves }).releaseWaves).toEqual(waves);
  });

  it("gives every shipped stack waves that cover its regions", () => {
    for (const stack of ["prod", "staging", "global3"]) {
      const { config } = loadStack(stack);

      expect(config.releaseWaves.flat().sort(), stack).toEqual([...config.regions].sort());
    }
  });

  it.each([
    [[], "releaseWaves lists no wave"],
    [[["us-east-1"], [], ["eu-west-1", "ap-southeast-2"]], "releaseWaves: wave 2 is empty"],
    [
      [
        ["us-east-1", "eu-west-1"],
        ["eu-west-1", "ap-southeast-2"],
      ],
      "releaseWaves lists eu-west-1 in more than one wave",
    ],
    [
      [["us-east-1"], ["eu-west-1", "ap-southeast-2", "sa-east-1"]],
      "releaseWaves names sa-east-1, not among the stack's regions",
    ],
    [[["us-east-1"], ["eu-west-1"]], "releaseWaves leaves out ap-southeast-2: every region is in one wave"],
    [[["us-east-1"], ["not a region"]], '"not a region" is not an AWS region name'],
    ["us-east-1", "releaseWaves must be a list of waves"],
  ])("refuses %j with a sentence that says why", (waves, message) => {
    expect(problemsWith(waves).join("\n")).toContain(message);
  });
});
