import { beforeAll, describe, expect, it, vi } from "vitest";
import { type ProgramRun, runProgramUnderMocks } from "../mock-runtime.js";
import { named, ofType } from "./support/program.js";

const REPOSITORY = "example-org/calcburst";

function runBootstrap(config: Record<string, unknown>): Promise<ProgramRun> {
  vi.resetModules();
  return runProgramUnderMocks({ "aws:region": "us-east-1", ...config }, () => import("../bootstrap/index.js"), {
    stack: "ci",
  });
}

interface Statement {
  Sid?: string;
  Action: string[];
  Resource: string[];
  Condition?: Record<string, Record<string, string>>;
  Principal?: { Federated?: string };
}
const statementsOf = (document: unknown) => (JSON.parse(String(document)) as { Statement: Statement[] }).Statement;

describe("the CI bootstrap program", () => {
  let run: ProgramRun;
  const policiesOf = (role: string) =>
    ofType(run, "aws:iam/rolePolicy:RolePolicy").filter((policy) => policy.name.startsWith(`${role}-`));

  beforeAll(async () => {
    run = await runBootstrap({ "calcburst-bootstrap:githubRepository": REPOSITORY });
  });

  it("trusts GitHub's OIDC tokens for AWS STS", () => {
    const providers = ofType(run, "aws:iam/openIdConnectProvider:OpenIdConnectProvider");

    expect(providers).toHaveLength(1);
    expect(providers[0]?.inputs).toMatchObject({
      url: "https://token.actions.githubusercontent.com",
      clientIdLists: ["sts.amazonaws.com"],
    });
  });

  it.each([
    ["calcburst-github-preview", `repo:${REPOSITORY}:pull_request`],
    ["calcburst-github-deploy-staging", `repo:${REPOSITORY}:environment:staging`],
    ["calcburst-github-deploy-prod", `repo:${REPOSITORY}:environment:prod`],
  ])("lets only %s's own workflow subject assume it", (role, subject) => {
    const [trust] = statementsOf(named(run, "aws:iam/role:Role", role).inputs.assumeRolePolicy);

    expect(trust?.Principal?.Federated).toBe(
      named(run, "aws:iam/openIdConnectProvider:OpenIdConnectProvider", "github").state.arn,
    );
    expect(trust?.Condition?.StringEquals).toEqual({
      "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
      "token.actions.githubusercontent.com:sub": subject,
    });
  });

  it("gives the deploy roles what pulumi up and npm run release need, within IAM's inline size", () => {
    for (const role of ["calcburst-github-deploy-staging", "calcburst-github-deploy-prod"]) {
      const actions = policiesOf(role).flatMap((policy) => statementsOf(policy.inputs.policy).flatMap((s) => s.Action));

      expect(actions).toEqual(
        expect.arrayContaining([
          "lambda:UpdateFunctionCode",
          "codedeploy:CreateDeploymentGroup",
          "codedeploy:CreateDeployment",
          "codedeploy:StopDeployment",
          "lambda:UpdateAlias",
          "cloudwatch:DescribeAlarms",
        ]),
      );
      // IAM allows 10,240 characters of inline policy per role, whitespace not counted.
      const size = policiesOf(role).reduce(
        (sum, policy) => sum + String(policy.inputs.policy).replace(/\s/g, "").length,
        0,
      );
      expect(size).toBeLessThanOrEqual(10_240);
    }
  });

  it("lets a pull request's preview read and never write", () => {
    const actions = policiesOf("calcburst-github-preview").flatMap((policy) =>
      statementsOf(policy.inputs.policy).flatMap((statement) => statement.Action),
    );

    expect(actions.length).toBeGreaterThan(0);
    expect(actions.filter((action) => !/:(Get|Describe|List)/.test(action))).toEqual([]);
  });

  it("lets a pull request's preview read no item of the table and no parameter's value", () => {
    const actions = policiesOf("calcburst-github-preview").flatMap((policy) =>
      statementsOf(policy.inputs.policy).flatMap((statement) => statement.Action),
    );

    expect(actions).toEqual(expect.arrayContaining(["dynamodb:DescribeTable", "ssm:DescribeParameters"]));
    expect(actions.filter((action) => /Item$|:Scan$|:Query$|ssm:GetParameter/.test(action))).toEqual([]);
  });

  it("adds the state bucket and secrets key only when the stack names them", async () => {
    const withBackend = await runBootstrap({
      "calcburst-bootstrap:githubRepository": REPOSITORY,
      "calcburst-bootstrap:stateBucket": "calcburst-state",
      "calcburst-bootstrap:secretsKeyArn": "arn:aws:kms:us-east-1:123456789012:key/calcburst",
    });

    expect(ofType(run, "aws:iam/rolePolicy:RolePolicy").some((policy) => policy.name.endsWith("-backend"))).toBe(false);
    const backend = named(withBackend, "aws:iam/rolePolicy:RolePolicy", "calcburst-github-deploy-prod-backend");
    expect(statementsOf(backend.inputs.policy).flatMap((statement) => statement.Resource)).toEqual([
      "arn:aws:s3:::calcburst-state/*",
      "arn:aws:s3:::calcburst-state",
      "arn:aws:kms:us-east-1:123456789012:key/calcburst",
    ]);
  });

  it("refuses a repository that is not owner/name", async () => {
    await expect(runBootstrap({ "calcburst-bootstrap:githubRepository": "calcburst" })).rejects.toThrow(
      'githubRepository must be owner/name, such as example-org/calcburst, not "calcburst"',
    );
  });
});
