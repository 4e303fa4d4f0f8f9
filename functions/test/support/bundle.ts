import type { APIGatewayProxyEventV2 } from "aws-lambda";
import { HANDLER_BUNDLE } from "../../../shared/paths.js";
import type { HttpResponse } from "../../http.js";

export const BUNDLE_PATH = HANDLER_BUNDLE;

export interface LoadedBundle {
  handler: (event: APIGatewayProxyEventV2) => Promise<HttpResponse>;
  metrics: { registry: { metrics(): Promise<string> } };
}

/**
 * Loads the built bundle as Lambda would: a fresh module instance with this environment, so
 * each load is a cold start.
 */
export function loadBundle(env: Record<string, string>): LoadedBundle {
  Object.assign(process.env, env);
  delete require.cache[BUNDLE_PATH];
  return require(BUNDLE_PATH) as LoadedBundle;
}
