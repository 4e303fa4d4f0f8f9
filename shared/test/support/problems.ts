import { parseStackConfig, StackConfigError } from "../../stack-config.js";

/** The problems the config check lists for these values; none when they parse. */
export function problemsOf(values: Record<string, unknown>): string[] {
  try {
    parseStackConfig(values);
  } catch (error) {
    if (error instanceof StackConfigError) return error.problems;
    throw error;
  }
  return [];
}
