import type { APIGatewayProxyEventV2 } from "aws-lambda";
import { PROBLEM_CONTENT_TYPE, PROBLEM_TYPES } from "../../shared/problem.js";
import type { Logger } from "../commons/logger.js";
import type { FunctionMetrics } from "../commons/metrics.js";
import type { HealthReport } from "../health.js";
import { type ProblemInit, problemBody } from "../http.js";
import type { CalculationStore } from "../store.js";

/** What every route may use: created once per instance by createApp. */
export interface RouteDependencies {
  region: string;
  store: CalculationStore;
  healthCheck: () => Promise<HealthReport>;
  logger: Logger;
  metrics: FunctionMetrics;
  nowMs: () => number;
  newId: () => string;
  ttlDays?: number;
}

/** What one route produced, before the region and duration are stamped on it. */
export interface RouteResult {
  status: number;
  body: Record<string, unknown>;
  headers?: Record<string, string>;
  contentType?: string;
}

/** Per-request facts for the log line and the metrics; a route fills in what it learns. */
export interface RequestFacts {
  operation: string;
  problemType?: string;
  error?: string;
}

export interface RouteRequest {
  event: APIGatewayProxyEventV2;
  facts: RequestFacts;
  /** Path parameters by name, as matched (still percent-encoded). */
  params: Record<string, string>;
}

/**
 * One route, registered the way Powertools' event handler does it (`app.post(path, fn)`): a
 * method, a path template with `{name}` parameters, and a small function.
 */
export interface Route {
  method: "GET" | "POST";
  /** `/v1/calculations/{id}`: the template, which is also the route's metric label. */
  path: string;
  handle(request: RouteRequest): Promise<RouteResult>;
}

export function problemResult(problem: ProblemInit): RouteResult {
  return {
    status: PROBLEM_TYPES[problem.slug].status,
    body: problemBody(problem),
    contentType: PROBLEM_CONTENT_TYPE,
    ...(problem.headers !== undefined ? { headers: problem.headers } : {}),
  };
}
