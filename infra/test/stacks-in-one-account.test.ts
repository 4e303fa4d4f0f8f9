import { beforeAll, describe, expect, it } from "vitest";
import { listStacks, readStackValues } from "../../shared/stack-file.js";
import type { ProgramRun } from "../mock-runtime.js";
import {
  assertRegion,
  PROGRAM_RUN_DEADLINE_MS,
  physicalNames,
  policyViolations,
  runProgram,
} from "./support/program.js";

const STACKS = listStacks();
const staging = readStackValues("staging").values;

describe("every stack in one AWS account (staging beside prod, and the three-region stack)", () => {
  const runs = new Map<string, ProgramRun>();

  beforeAll(async () => {
    for (const stack of STACKS) runs.set(stack, await runProgram(readStackValues(stack).values, { stack }));
  }, PROGRAM_RUN_DEADLINE_MS * STACKS.length);

  it("shares no physical name between any two stacks", () => {
    const shared: string[] = [];
    for (const [index, stack] of STACKS.entries()) {
      const names = new Set(physicalNames(runs.get(stack) as ProgramRun));
      expect(names.size, stack).toBeGreaterThan(0);
      for (const other of STACKS.slice(index + 1)) {
        for (const name of physicalNames(runs.get(other) as ProgramRun)) {
          if (names.has(name)) shared.push(`${stack} and ${other}: ${name}`);
        }
      }
    }

    expect(STACKS).toEqual(expect.arrayContaining(["prod", "staging"]));
    expect(shared).toEqual([]);
  });

  it.each(staging["calcburst:regions"] as string[])("deploys staging's whole regional service in %s", (region) => {
    assertRegion(runs.get("staging") as ProgramRun, region, staging["calcburst:domain"] as string, "staging");
  });

  it("passes every policy of the policy pack with staging", async () => {
    expect(await policyViolations((runs.get("staging") as ProgramRun).resources)).toEqual([]);
  });
});
