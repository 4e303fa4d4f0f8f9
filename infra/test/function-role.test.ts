import { describe, expect, it } from "vitest";
import { readStackValues } from "../../shared/stack-file.js";
import { named, ofType, useProgram } from "./support/program.js";

const { values } = readStackValues("prod");
const REGIONS = values["calcburst:regions"] as string[];

interface Statement {
  Action: string[];
  Resource: string;
}

describe("the function's role", () => {
  const theRun = useProgram(values);

  it.each(REGIONS)("in %s lets the function write to its own log group and no other", (region) => {
    const role = named(theRun(), "aws:iam/role:Role", `calcburst-${region}-role`);
    const policy = named(theRun(), "aws:iam/rolePolicy:RolePolicy", `calcburst-${region}-policy`);
    const logs = named(theRun(), "aws:cloudwatch/logGroup:LogGroup", `calcburst-${region}-function-logs`);

    const statements = (JSON.parse(String(policy.inputs.policy)) as { Statement: Statement[] }).Statement;
    const logStatements = statements.filter((statement) =>
      statement.Action.some((action) => action.startsWith("logs:")),
    );
    expect(logStatements).toEqual([
      expect.objectContaining({
        Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
        Resource: `${logs.state.arn}:*`,
      }),
    ]);
    // A managed policy (AWSLambdaVPCAccessExecutionRole has logs:* on every log group) would widen that.
    const attached = ofType(theRun(), "aws:iam/rolePolicyAttachment:RolePolicyAttachment").filter(
      (attachment) => attachment.inputs.role === role.state.name,
    );
    expect(attached).toEqual([]);
    expect(statements.find((statement) => statement.Action.includes("ec2:CreateNetworkInterface"))?.Resource).toBe("*");
  });

  it.each(REGIONS)("in %s is complete before the function in its region is created", (region) => {
    const fn = named(theRun(), "aws:lambda/function:Function", `calcburst-${region}-function`);
    const policy = named(theRun(), "aws:iam/rolePolicy:RolePolicy", `calcburst-${region}-policy`);

    expect(fn.options.dependencies).toContain(policy.urn);
  });
});
