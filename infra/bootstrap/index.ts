/**
 * The CI bootstrap (its own Pulumi project: infra/bootstrap/Pulumi.yaml). It is apart from the
 * main program because:
 *  - GitHub's OIDC provider is one per account and URL, and staging, prod, global3 and strong
 *    share an account: every stack of the main program would try to create it;
 *  - the deploy roles must exist before CI can run the main program's first `pulumi up`;
 *  - a role that deploys the program which defines its own permissions could widen them itself.
 * A person with IAM rights deploys it once per account; CI never runs it.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { deployerPolicy } from "../deployer-policy.js";
import { backendPolicy, type PolicyDocument, previewPolicy, releasePolicy } from "./policies.js";

export const GITHUB_OIDC_URL = "https://token.actions.githubusercontent.com";
const TOKEN_ISSUER = "token.actions.githubusercontent.com";

/** The roles, by the GitHub token subject that may assume each (workflows name them in .github/workflows). */
export const CI_ROLES = {
  "calcburst-github-preview": (repository: string) => `repo:${repository}:pull_request`,
  "calcburst-github-deploy-staging": (repository: string) => `repo:${repository}:environment:staging`,
  "calcburst-github-deploy-prod": (repository: string) => `repo:${repository}:environment:prod`,
} as const;

const config = new pulumi.Config("calcburst-bootstrap");
const repository = config.require("githubRepository");
if (!/^[A-Za-z0-9-]+\/[A-Za-z0-9._-]+$/.test(repository)) {
  throw new Error(`githubRepository must be owner/name, such as example-org/calcburst, not "${repository}"`);
}
const backend = backendPolicy(config.get("stateBucket"), config.get("secretsKeyArn"));
const tags = { project: "calcburst", purpose: "ci" };

const github = new aws.iam.OpenIdConnectProvider("github", {
  url: GITHUB_OIDC_URL,
  clientIdLists: ["sts.amazonaws.com"],
  // No thumbprints: IAM trusts GitHub's certificate through its own CA library.
  tags,
});

function ciRole(name: keyof typeof CI_ROLES, policies: Record<string, PolicyDocument>): aws.iam.Role {
  const role = new aws.iam.Role(name, {
    name,
    maxSessionDuration: 2 * 3600,
    assumeRolePolicy: pulumi.jsonStringify({
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Principal: { Federated: github.arn },
          Action: "sts:AssumeRoleWithWebIdentity",
          Condition: {
            StringEquals: {
              [`${TOKEN_ISSUER}:aud`]: "sts.amazonaws.com",
              [`${TOKEN_ISSUER}:sub`]: CI_ROLES[name](repository),
            },
          },
        },
      ],
    }),
    tags,
  });
  for (const [policyName, document] of Object.entries(policies)) {
    // Inline: the deployer policy is longer than a managed policy may be (6,144 characters).
    new aws.iam.RolePolicy(`${name}-${policyName}`, {
      role: role.id,
      name: policyName,
      policy: JSON.stringify(document),
    });
  }
  return role;
}

const deployPolicies = {
  deploy: deployerPolicy() as PolicyDocument,
  release: releasePolicy(),
  ...(backend !== undefined && { backend }),
};
const preview = ciRole("calcburst-github-preview", {
  preview: previewPolicy(),
  ...(backend !== undefined && { backend }),
});
const staging = ciRole("calcburst-github-deploy-staging", deployPolicies);
const prod = ciRole("calcburst-github-deploy-prod", deployPolicies);

export const oidcProviderArn = github.arn;
export const roleArns = { preview: preview.arn, staging: staging.arn, prod: prod.arn };
