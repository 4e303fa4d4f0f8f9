import { deployerPolicy } from "../deployer-policy.js";

/**
 * The IAM documents of the CI roles. The deploy roles get what `pulumi up` needs (the deployer
 * policy, infra/deployer-policy.ts) and what `npm run release` needs (below); the preview role
 * gets only the deployer policy's reads.
 */

export interface PolicyDocument {
  Version: string;
  Statement: { Sid: string; Effect: string; Action: string[]; Resource: string[]; Condition?: unknown }[];
}

/** What release/aws.ts calls: read and move the live alias, run CodeDeploy deployments, read the alarms. */
export function releasePolicy(): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "LiveAlias",
        Effect: "Allow",
        Action: ["lambda:GetAlias", "lambda:ListVersionsByFunction", "lambda:UpdateAlias"],
        Resource: ["arn:aws:lambda:*:*:function:calcburst-*", "arn:aws:lambda:*:*:function:calcburst-*:*"],
      },
      {
        Sid: "CanaryDeployments",
        Effect: "Allow",
        Action: [
          "codedeploy:CreateDeployment",
          "codedeploy:GetDeployment",
          "codedeploy:StopDeployment",
          "codedeploy:GetDeploymentGroup",
        ],
        Resource: ["arn:aws:codedeploy:*:*:deploymentgroup:calcburst-*/*"],
      },
      {
        Sid: "Revisions",
        Effect: "Allow",
        Action: ["codedeploy:RegisterApplicationRevision", "codedeploy:GetApplicationRevision"],
        Resource: ["arn:aws:codedeploy:*:*:application:calcburst-*"],
      },
      {
        Sid: "DeploymentConfigs",
        Effect: "Allow",
        Action: ["codedeploy:GetDeploymentConfig"],
        Resource: ["arn:aws:codedeploy:*:*:deploymentconfig:CodeDeployDefault.*"],
      },
      {
        // DescribeAlarms takes no resource.
        Sid: "Alarms",
        Effect: "Allow",
        Action: ["cloudwatch:DescribeAlarms"],
        Resource: ["*"],
      },
    ],
  };
}

/** An action that only reads: what `pulumi preview` calls for the program's lookups and refreshes. */
const READS = /^[a-z0-9-]+:(Get|Describe|List)/;

/**
 * Reads of data rather than of resources: the table's items and the Grafana password's value. A
 * preview needs neither, and it runs the pull request's code with the role's credentials.
 */
const DATA_READS = /^(dynamodb:(GetItem|Query|Scan)|ssm:GetParameters?)$/;

/** The deployer policy with its reads of resources only, for the pull-request preview role. */
export function previewPolicy(): PolicyDocument {
  const deployer = deployerPolicy() as PolicyDocument;
  return {
    Version: deployer.Version,
    Statement: deployer.Statement.map((statement) => ({
      ...statement,
      Action: statement.Action.filter((action) => READS.test(action) && !DATA_READS.test(action)),
    })).filter((statement) => statement.Action.length > 0),
  };
}

/** The Pulumi backend's bucket and secrets key, when the stack keeps its state in the account (docs/DEPLOY.md#state-and-secrets). */
export function backendPolicy(
  stateBucket: string | undefined,
  secretsKeyArn: string | undefined,
): PolicyDocument | undefined {
  const statements: PolicyDocument["Statement"] = [];
  if (stateBucket !== undefined) {
    statements.push(
      {
        Sid: "PulumiState",
        Effect: "Allow",
        Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
        Resource: [`arn:aws:s3:::${stateBucket}/*`],
      },
      { Sid: "PulumiStateList", Effect: "Allow", Action: ["s3:ListBucket"], Resource: [`arn:aws:s3:::${stateBucket}`] },
    );
  }
  if (secretsKeyArn !== undefined) {
    statements.push({
      Sid: "PulumiSecrets",
      Effect: "Allow",
      Action: ["kms:Encrypt", "kms:Decrypt"],
      Resource: [secretsKeyArn],
    });
  }
  return statements.length === 0 ? undefined : { Version: "2012-10-17", Statement: statements };
}
