import { describe, expect, it } from "vitest";
import { parseStackConfig } from "../../shared/stack-config.js";
import { readStackValues } from "../../shared/stack-file.js";
import { named, runProgram } from "./support/program.js";

const QUOTA_LOOKUP = "aws:servicequotas/getServiceQuota:getServiceQuota";
const { values } = readStackValues("prod");
const config = parseStackConfig(values);

describe("the account's Lambda concurrency quota", () => {
  it("is looked up in every region before the function reserves its concurrency", async () => {
    const run = await runProgram(values);

    const lookups = run.calls.filter((call) => call.token === QUOTA_LOOKUP);
    expect(lookups.map((call) => [call.inputs.region, call.inputs.serviceCode, call.inputs.quotaCode])).toEqual(
      config.regions.map((region) => [region, "lambda", "L-B99A9384"]),
    );
    for (const region of config.regions) {
      const fn = named(run, "aws:lambda/function:Function", `calcburst-${region}-function`);
      expect(fn.inputs.reservedConcurrentExecutions).toBe(config.lambdaReservedConcurrency);
    }
  });

  it("stops the deploy with the quota it found and the quota it needs when a region's is too low", async () => {
    // A new account's quota can be as low as 10; eu-west-1 here has had no increase.
    const lowInEurope = (inputs: Record<string, unknown>) => ({
      ...inputs,
      value: inputs.region === "eu-west-1" ? 10 : 1000,
      defaultValue: 1000,
    });

    const deploy = runProgram(values, { calls: { [QUOTA_LOOKUP]: lowInEurope } });

    const needed = config.lambdaReservedConcurrency + 100;
    await expect(deploy).rejects.toThrow(
      `calcburst-eu-west-1: the account's Lambda concurrency quota in eu-west-1 is 10; reserving ${config.lambdaReservedConcurrency} for calcburst-prod-eu-west-1 needs at least ${needed} (AWS keeps 100 unreserved)`,
    );
  });
});
