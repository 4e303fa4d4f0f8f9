import { randomUUID } from "node:crypto";
import type { APIGatewayProxyEventV2, Context } from "aws-lambda";
import { REGION_HEADER } from "../shared/api.js";
import { NO_OPERATION_LABEL } from "../shared/metrics.js";
import { PROBLEM_CONTENT_TYPE } from "../shared/problem.js";
import { describeError } from "./commons/errors.js";
import type { Logger } from "./commons/logger.js";
import type { FunctionMetrics } from "./commons/metrics.js";
import type { HealthReport } from "./health.js";
import { type HttpResponse, jsonResponse, ProblemError, routePath } from "./http.js";
import { createBatchRoute } from "./routes/create-batch.js";
import { createCalculationRoute } from "./routes/create-calculation.js";
import { getCalculationRoute } from "./routes/get-calculation.js";
import { healthRoute } from "./routes/health.js";
import { problemResult, type RequestFacts, type Route, type RouteResult } from "./routes/route.js";
import type { CalculationStore } from "./store.js";

export interface AppDependencies {
  region: string;
  store: CalculationStore;
  healthCheck: () => Promise<HealthReport>;
  logger: Logger;
  metrics: FunctionMetrics;
  nowMs?: () => number;
  newId?: () => string;
  ttlDays?: number;
}

export type ApiHandler = (
  event: APIGatewayProxyEventV2,
  context?: Pick<Context, "awsRequestId">,
) => Promise<HttpResponse>;

/** A route with its template compiled; `label` names it in metrics and logs. */
interface CompiledRoute {
  route: Route;
  label: string;
  pattern: RegExp;
  parameters: string[];
}

function compile(route: Route): CompiledRoute {
  const parameters: string[] = [];
  const source = route.path.replace(/\{(\w+)\}/g, (_whole, name: string) => {
    parameters.push(name);
    return "([^/]+)";
  });
  return { route, label: `${route.method} ${route.path}`, pattern: new RegExp(`^${source}$`), parameters };
}

/** Which route serves a request: the first whose template and method match; else why none does. */
type RouteMatch =
  | { kind: "route"; compiled: CompiledRoute; params: Record<string, string> }
  | { kind: "wrong-method"; label: string; allow: string }
  | { kind: "none" };

function matchRoute(routes: readonly CompiledRoute[], method: string, path: string): RouteMatch {
  const onPath: { compiled: CompiledRoute; values: string[] }[] = [];
  for (const compiled of routes) {
    const found = compiled.pattern.exec(path);
    if (found !== null) onPath.push({ compiled, values: found.slice(1) });
  }
  // The first route whose template and method both match serves: GET /v1/calculations/batch is
  // the read of the item "batch", POST the batch route.
  const serving = onPath.find((candidate) => candidate.compiled.route.method === method);
  if (serving !== undefined) {
    const params = Object.fromEntries(serving.compiled.parameters.map((name, i) => [name, serving.values[i] ?? ""]));
    return { kind: "route", compiled: serving.compiled, params };
  }
  const first = onPath[0];
  if (first === undefined) return { kind: "none" };
  const allow = [...new Set(onPath.map((candidate) => candidate.compiled.route.method))].sort().join(", ");
  return { kind: "wrong-method", label: first.compiled.label, allow };
}

/**
 * The API as one Lambda handler: each route is its own small function (functions/routes/),
 * registered here as Powertools' event handler registers them; this wrapper matches the
 * request, turns errors into problem+json, and records the metrics and the log line.
 */
export function createApp(deps: AppDependencies): ApiHandler {
  const routeDependencies = { ...deps, nowMs: deps.nowMs ?? Date.now, newId: deps.newId ?? randomUUID };
  const { metrics, logger, region } = deps;
  // Static templates first, so they are tried before a parameter could take their segment.
  const routes = [
    createCalculationRoute(routeDependencies),
    createBatchRoute(routeDependencies),
    healthRoute(routeDependencies),
    getCalculationRoute(routeDependencies),
  ].map(compile);
  const routeList = routes.map((compiled) => compiled.label).join(", ");
  let invocations = 0;
  metrics.coldStarts.inc();

  async function dispatch(
    event: APIGatewayProxyEventV2,
    matched: RouteMatch,
    facts: RequestFacts,
  ): Promise<RouteResult> {
    if (matched.kind === "route") return matched.compiled.route.handle({ event, facts, params: matched.params });
    const method = event.requestContext.http.method;
    const path = routePath(event);
    if (matched.kind === "wrong-method") {
      return problemResult({
        slug: "method-not-allowed",
        detail: `${method} is not allowed on ${path}; use ${matched.allow}.`,
        headers: { allow: matched.allow },
      });
    }
    return problemResult({ slug: "not-found", detail: `There is no route ${method} ${path}. Routes: ${routeList}.` });
  }

  return async (event, context) => {
    const started = performance.now();
    const coldStart = invocations++ === 0;
    const facts: RequestFacts = { operation: NO_OPERATION_LABEL };
    // A payload-1.0 or non-HTTP event means the integration is misconfigured: say so in the log.
    const method: string | undefined = event?.requestContext?.http?.method;
    let matched: RouteMatch = { kind: "none" };
    let result: RouteResult;
    try {
      if (method === undefined || typeof event.rawPath !== "string") {
        throw new Error(
          "expected an API Gateway HTTP API payload format 2.0 event (requestContext.http.method, rawPath)",
        );
      }
      matched = matchRoute(routes, method, routePath(event));
      result = await dispatch(event, matched, facts);
    } catch (error) {
      if (error instanceof ProblemError) {
        result = problemResult(error.problem);
      } else {
        facts.error = describeError(error);
        result = problemResult({ slug: "internal-error", detail: "An unexpected error occurred; it has been logged." });
      }
    }
    if (result.contentType === PROBLEM_CONTENT_TYPE) facts.problemType = String(result.body.type);
    const durationMs = Math.round((performance.now() - started) * 1000) / 1000;
    const response = jsonResponse(
      result.status,
      result.status >= 400 ? { ...result.body, region, durationMs } : { ...result.body, servedBy: region, durationMs },
      { [REGION_HEADER]: region, "server-timing": `app;dur=${durationMs}`, ...result.headers },
      result.contentType,
    );
    const status = String(result.status);
    const route =
      matched.kind === "route" ? matched.compiled.label : matched.kind === "wrong-method" ? matched.label : "unmatched";
    metrics.requests.inc({ route, operation: facts.operation, status });
    metrics.requestDuration.observe({ route }, durationMs / 1000);
    const fields = {
      requestId: context?.awsRequestId ?? event?.requestContext?.requestId,
      route,
      method,
      status: result.status,
      durationMs,
      region,
      coldStart,
      operation: facts.operation,
      problemType: facts.problemType,
      error: facts.error,
    };
    if (result.status >= 500) logger.error("request", fields);
    else logger.info("request", fields);
    return response;
  };
}
