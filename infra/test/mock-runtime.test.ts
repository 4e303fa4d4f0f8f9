import * as aws from "@pulumi/aws";
import { describe, expect, it } from "vitest";
import { runProgramUnderMocks } from "../mock-runtime.js";

describe("the mock runtime", () => {
  it("fails a program that makes a provider call nobody mocked", async () => {
    const program = async () => {
      const identity = await aws.getCallerIdentity();
      return { account: identity.accountId };
    };

    await expect(runProgramUnderMocks({}, program)).rejects.toThrow(
      "the program made an unmocked provider call: aws:index/getCallerIdentity:getCallerIdentity",
    );
  });
});
