import { beforeAll, describe, expect, it } from "vitest";
import { readStackValues } from "../../shared/stack-file.js";
import type { ProgramRun } from "../mock-runtime.js";
import { assertRegion, physicalNames, policyViolations, runProgram } from "./support/program.js";

const prod = readStackValues("prod").values;
const staging = readStackValues("staging").values;

describe("the staging stack beside prod in one account", () => {
  let prodRun: ProgramRun;
  let stagingRun: ProgramRun;

  beforeAll(async () => {
    prodRun = await runProgram(prod, { stack: "prod" });
    stagingRun = await runProgram(staging, { stack: "staging" });
  });

  it("shares no physical name with prod", () => {
    const prodNames = physicalNames(prodRun);
    const stagingNames = new Set(physicalNames(stagingRun));

    expect(prodNames.length).toBeGreaterThan(0);
    expect(prodNames.filter((name) => stagingNames.has(name))).toEqual([]);
  });

  it.each(staging["calcburst:regions"] as string[])("deploys the whole regional service in %s", (region) => {
    assertRegion(stagingRun, region, staging["calcburst:domain"] as string, "staging");
  });

  it("passes every policy of the policy pack", async () => {
    expect(await policyViolations(stagingRun.resources)).toEqual([]);
  });
});
