import { type FunctionEnvironment, KILL_SWITCH_VARIABLE, schema } from "../../shared/env.js";

/**
 * Parses the environment contract. Called once at cold start, so a misconfigured function
 * fails its init with a message that names the variable, instead of failing every request.
 */
export function readEnvironment(env: NodeJS.ProcessEnv = process.env): FunctionEnvironment {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const messages = parsed.error.issues.map((issue) => issue.message);
    throw new Error(`CalcBurst function misconfigured: ${messages.join("; ")}`);
  }
  return parsed.data;
}

/**
 * The kill switch is read on every health check, not cached: the local cloud flips it in
 * place, and on Lambda a configuration change starts new instances anyway.
 */
export function isRegionDisabled(env: NodeJS.ProcessEnv = process.env): boolean {
  return env[KILL_SWITCH_VARIABLE] === "true";
}
