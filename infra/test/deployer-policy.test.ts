import { readFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../../shared/paths.js";
import { listStacks, readStackValues } from "../../shared/stack-file.js";
import { deployerPolicy, PERMISSION_SETS, PERMISSIONS_BY_TYPE } from "../deployer-policy.js";
import { PROGRAM_RUN_DEADLINE_MS, runProgram } from "./support/program.js";

/** IAM's resource matching: `*` stands for any run of characters. */
function globMatches(pattern: string, resource: string): boolean {
  const source = pattern
    .split("*")
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
    .join(".*");
  return new RegExp(`^${source}$`).test(resource);
}

/** Resource sets that may name every resource, because AWS gives these resources random ids or none. */
const UNNAMEABLE = [
  "ServiceLinkedRoles",
  "AccessLogDelivery",
  "Certificates",
  "HealthChecks",
  "ParameterLookups",
  "Networks",
  "Peerings",
  "Instances",
  "Volumes",
  "Quotas",
];

describe("the deploying identity's IAM policy", () => {
  /** Every resource type and lookup any stack file's program makes. */
  const used = new Set<string>();

  beforeAll(async () => {
    for (const stack of listStacks()) {
      const run = await runProgram(readStackValues(stack).values, { stack });
      for (const resource of run.resources.filter((one) => one.custom)) used.add(resource.type);
      for (const call of run.calls) used.add(call.token);
    }
  }, PROGRAM_RUN_DEADLINE_MS * listStacks().length);

  it("grants something for every resource type and lookup the program makes, in every stack", () => {
    expect([...used].filter((type) => PERMISSIONS_BY_TYPE[type] === undefined)).toEqual([]);
  });

  it("grants nothing for a type the program does not make, and no set no type needs", () => {
    expect(Object.keys(PERMISSIONS_BY_TYPE).filter((type) => !used.has(type))).toEqual([]);
    const needed = new Set(Object.values(PERMISSIONS_BY_TYPE).flat());
    expect(Object.keys(PERMISSION_SETS).filter((set) => !needed.has(set as keyof typeof PERMISSION_SETS))).toEqual([]);
  });

  it("names every action, and names the resources wherever AWS lets a name be known", () => {
    const statements = deployerPolicy().Statement as { Sid: string; Action: string[]; Resource: string[] }[];

    const wildcards = statements.flatMap((statement) =>
      statement.Action.filter((action) => action === "*" || action.endsWith(":*") || /\*/.test(action)),
    );
    // EC2's Describe actions take no resource and reveal no data plane: the one wildcard.
    expect(wildcards).toEqual(["ec2:Describe*"]);
    const everywhere = statements.filter((statement) => statement.Resource.includes("*")).map(({ Sid }) => Sid);
    expect(everywhere.filter((sid) => !UNNAMEABLE.includes(sid))).toEqual([]);
    // It changes no IAM policy but the program's roles', and touches items only to seed a replica.
    expect(
      statements.flatMap((statement) => statement.Action).filter((action) => /PutUserPolicy|CreatePolicy/.test(action)),
    ).toEqual([]);
    const itemStatements = statements.filter((statement) =>
      statement.Action.some((action) => /Item$|:Scan$|:Query$/.test(action)),
    );
    expect(itemStatements.map(({ Sid, Resource }) => [Sid, Resource])).toEqual([
      ["ReplicaSeeding", ["arn:aws:dynamodb:*:*:table/calculations-table-*"]],
    ]);
  });

  it("grants, in every region, what DynamoDB requires of whoever adds or removes a replica", () => {
    // Prepare: the actions AWS lists for version 2019.11.21 replicas (V2gt_IAM.html), and a
    // replica of the table as the program names it, in a region no stack uses yet.
    const documented = [
      "dynamodb:UpdateTable",
      "dynamodb:CreateTable",
      "dynamodb:CreateTableReplica",
      "dynamodb:Scan",
      "dynamodb:Query",
      "dynamodb:UpdateItem",
      "dynamodb:PutItem",
      "dynamodb:GetItem",
      "dynamodb:DeleteItem",
      "dynamodb:BatchWriteItem",
      "dynamodb:DeleteTable",
      "dynamodb:DeleteTableReplica",
    ];
    const replica = "arn:aws:dynamodb:sa-east-1:123456789012:table/calculations-table-1a2b3c4";

    // Act
    const statements = deployerPolicy().Statement as { Action: string[]; Resource: string[] }[];
    const allowed = (action: string) =>
      statements.some(
        (statement) =>
          statement.Action.includes(action) && statement.Resource.some((pattern) => globMatches(pattern, replica)),
      );

    // Assess
    expect(documented.filter((action) => !allowed(action))).toEqual([]);
  });

  it("is what infra/deployer-policy.json holds", () => {
    const committed = JSON.parse(readFileSync(path.join(PROJECT_ROOT, "infra", "deployer-policy.json"), "utf8"));

    expect(committed).toEqual(deployerPolicy());
  });
});
