import * as pulumi from "@pulumi/pulumi";
import { CONFIG_NAMESPACE, parseStackConfig, type StackConfig, schema } from "../shared/stack-config.js";

/**
 * The stack's config, as `pulumi config` holds it, checked by the schema the local cloud uses
 * too. Structured values arrive as JSON text; plain strings as themselves.
 */
export function readStackConfig(): StackConfig {
  const config = new pulumi.Config(CONFIG_NAMESPACE);
  const values: Record<string, unknown> = {};
  for (const key of Object.keys(schema.shape)) {
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

/** The names the API answers on: the global latency-routed name and each region's own. */
export function apiNames(domain: string, region: string): { global: string; regional: string } {
  return { global: `api.${domain}`, regional: `${region}.api.${domain}` };
}
