import { describe, expect, it } from "vitest";
import { readStackValues } from "../../shared/stack-file.js";
import { runProgram } from "./support/program.js";

describe("the Pulumi program asked for MRSC", () => {
  it("refuses MRSC because the item TTL needs MREC", async () => {
    const config = { ...readStackValues("prod").values, "calcburst:tableConsistency": "MRSC" };

    await expect(runProgram(config)).rejects.toThrow("MRSC cannot be combined with the item TTL");
  });
});
