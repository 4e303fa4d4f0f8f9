import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import { PROJECT_ROOT } from "./paths.js";
import { CONFIG_NAMESPACE, parseStackConfig, type StackConfig } from "./stack-config.js";

interface ProjectConfigEntry {
  default?: unknown;
  value?: unknown;
}

function readYaml(file: string): Record<string, unknown> {
  const parsed: unknown = parse(readFileSync(file, "utf8"));
  return typeof parsed === "object" && parsed !== null ? (parsed as Record<string, unknown>) : {};
}

/** Project-level defaults from Pulumi.yaml, as namespaced keys. */
function projectDefaults(projectFile: string): Record<string, unknown> {
  const config = readYaml(projectFile).config;
  const defaults: Record<string, unknown> = {};
  if (typeof config !== "object" || config === null) return defaults;
  for (const [key, entry] of Object.entries(config as Record<string, unknown>)) {
    const name = key.includes(":") ? key : `${CONFIG_NAMESPACE}:${key}`;
    if (typeof entry === "object" && entry !== null && !Array.isArray(entry)) {
      const { default: fallback, value } = entry as ProjectConfigEntry;
      if (value !== undefined) defaults[name] = value;
      else if (fallback !== undefined) defaults[name] = fallback;
    } else {
      defaults[name] = entry;
    }
  }
  return defaults;
}

export interface LoadedStack {
  stack: string;
  file: string;
  config: StackConfig;
}

/**
 * Reads a stack's config the way the Pulumi CLI would (Pulumi.yaml defaults, then
 * Pulumi.<stack>.yaml) and checks it with the shared schema. `stackOrFile` is a stack name
 * (`prod`) or a path to a stack file.
 */
export function loadStack(stackOrFile: string, root: string = PROJECT_ROOT): LoadedStack {
  const { stack, file, values } = readStackValues(stackOrFile, root);
  return { stack, file, config: parseStackConfig(values, path.relative(process.cwd(), file) || file) };
}

/** The raw, namespaced values (`calcburst:regions`, …) a stack's config holds, defaults included. */
export function readStackValues(
  stackOrFile: string,
  root: string = PROJECT_ROOT,
): { stack: string; file: string; values: Record<string, unknown> } {
  const isFile = stackOrFile.endsWith(".yaml") || stackOrFile.endsWith(".yml");
  const file = isFile ? path.resolve(stackOrFile) : path.join(root, `Pulumi.${stackOrFile}.yaml`);
  if (!existsSync(file)) {
    throw new Error(
      `no stack file ${path.relative(process.cwd(), file) || file}: the stacks here are ${listStacks(root).join(", ") || "none"}`,
    );
  }
  const stack = isFile ? path.basename(file).replace(/^Pulumi\.|\.ya?ml$/g, "") : stackOrFile;
  const stackConfig = readYaml(file).config;
  const values = {
    ...projectDefaults(path.join(root, "Pulumi.yaml")),
    ...(typeof stackConfig === "object" && stackConfig !== null ? stackConfig : {}),
  };
  return { stack, file, values };
}

export function listStacks(root: string = PROJECT_ROOT): string[] {
  return readdirSync(root)
    .filter((name) => /^Pulumi\..+\.yaml$/.test(name))
    .map((name) => name.slice("Pulumi.".length, -".yaml".length));
}
