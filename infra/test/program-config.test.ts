import { describe, expect, it } from "vitest";
import { readStackValues } from "../../shared/stack-file.js";
import { runProgram } from "./support/program.js";

describe("the Pulumi program with a bad config", () => {
  it("refuses a single region with the schema's message", async () => {
    const config = { ...readStackValues("prod").values, "calcburst:regions": ["us-east-1"] };

    await expect(runProgram(config)).rejects.toThrow("regions must list at least two distinct AWS regions");
  });
});
