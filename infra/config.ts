import * as pulumi from "@pulumi/pulumi";
import { regionalNames } from "../shared/release.js";
import { CONFIG_NAMESPACE, parseStackConfig, STACK_KEYS, type StackConfig } from "../shared/stack-config.js";

/**
 * The stack's config, as `pulumi config` holds it, checked by the schema the local cloud uses
 * too. Structured values arrive as JSON text; plain strings as themselves.
 */
export function readStackConfig(): StackConfig {
  const config = new pulumi.Config(CONFIG_NAMESPACE);
  const values: Record<string, unknown> = {};
  for (const key of STACK_KEYS) {
    const raw = config.get(key);
    if (raw === undefined) continue;
    try {
      values[key] = JSON.parse(raw);
    } catch {
      values[key] = raw;
    }
  }
  return parseStackConfig(values, `the config of stack ${pulumi.getStack()}`);
}

/**
 * The default provider's region (`aws:region`). The regional resources name their region
 * themselves; IAM and Route 53 (global services) and the provider itself still need one, and it
 * must come from the stack, not from whatever AWS_REGION the deployer's shell happens to hold.
 */
export function requireDefaultRegion(regions: string[]): string {
  const region = new pulumi.Config("aws").get("region");
  if (region === undefined) {
    throw new Error(
      `aws:region is not set for stack ${pulumi.getStack()}: run pulumi config set aws:region ${regions[0] ?? "us-east-1"} (the default provider's region, used by IAM and Route 53; docs/DEPLOY.md)`,
    );
  }
  return region;
}

/** The names the API answers on: the global latency-routed name and each region's own. */
export function apiNames(domain: string, region: string): { global: string; regional: string } {
  return { global: `api.${domain}`, regional: `${region}.api.${domain}` };
}

/**
 * The function's name in a region: fixed, so the CloudWatch exporter and the drills can name it.
 * Like every physical name the program sets, it carries the stack: two stacks (staging beside
 * prod) fit in one account.
 */
export function functionName(region: string): string {
  return regionalNames(pulumi.getStack(), region).functionName;
}

/** The region's CodeDeploy application and deployment group, and the release wave it is in (1 for the first). */
export function releaseOf(
  config: StackConfig,
  region: string,
): { application: string; deploymentGroup: string; wave: number } {
  const { application, deploymentGroup } = regionalNames(pulumi.getStack(), region);
  return { application, deploymentGroup, wave: config.releaseWaves.findIndex((wave) => wave.includes(region)) + 1 };
}

/** The function's and the API stage's log groups in a region. */
export function logGroupNames(region: string): { function: string; access: string } {
  const prefix = `/calcburst/${pulumi.getStack()}/${region}`;
  return { function: `${prefix}/function`, access: `${prefix}/api-access` };
}

/** The key of Grafana's admin password, a secret: `pulumi config set --secret grafanaAdminPassword <password>`. */
export const GRAFANA_PASSWORD_KEY = "grafanaAdminPassword";

export function readGrafanaAdminPassword(): pulumi.Output<string> {
  const config = new pulumi.Config(CONFIG_NAMESPACE);
  const password = config.getSecret(GRAFANA_PASSWORD_KEY);
  if (password === undefined) {
    throw new Error(
      `${CONFIG_NAMESPACE}:${GRAFANA_PASSWORD_KEY} is not set: run pulumi config set --secret ${GRAFANA_PASSWORD_KEY} <a password> (Grafana's admin password on the monitoring instance)`,
    );
  }
  return password;
}
