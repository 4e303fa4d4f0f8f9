import { createHash, randomUUID } from "node:crypto";
import type { APIGatewayProxyEventV2, Context } from "aws-lambda";
import {
  batchRequestSchema,
  type CalculationRequest,
  calculationRequestSchema,
  idSchema,
  REGION_HEADER,
} from "../shared/api.js";
import { HEALTH_ROUTE_LABEL, NO_OPERATION_LABEL } from "../shared/metrics.js";
import { OPERATION_ARITY, type Operation } from "../shared/operations.js";
import { PROBLEM_CONTENT_TYPE, PROBLEM_TYPES } from "../shared/problem.js";
import type { BatchItemResult, Calculation, ErrorDetail } from "../shared/responses.js";
import { type CalculationItem, expiresAtFor } from "../shared/table.js";
import { describeError } from "./commons/errors.js";
import type { Logger } from "./commons/logger.js";
import type { FunctionMetrics } from "./commons/metrics.js";
import { calculate, canonicalDecimal } from "./engine/calculate.js";
import type { HealthReport } from "./health.js";
import {
  type HttpResponse,
  header,
  issuesToErrors,
  jsonResponse,
  ProblemError,
  type ProblemInit,
  problemBody,
  readJsonBody,
  routePath,
  toPointer,
  validationProblem,
} from "./http.js";
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

/** What one route produced, before the region and duration are stamped on it. */
interface RouteResult {
  status: number;
  body: Record<string, unknown>;
  headers?: Record<string, string>;
  contentType?: string;
}

/** Per-request facts for the log line and the metrics. */
interface RequestFacts {
  operation: string;
  problemType?: string;
  error?: string;
}

type RouteAction = (event: APIGatewayProxyEventV2, facts: RequestFacts, id: string) => Promise<RouteResult>;

interface RouteMatch {
  route: string;
  action?: RouteAction;
  allow?: string;
  id?: string;
}

const CALCULATION_BY_ID = /^\/v1\/calculations\/([^/]+)$/;

/** Where an idempotency key came from, for a conflict's error entry. */
type KeyLocation = Pick<ErrorDetail, "pointer" | "header">;

/** A validated single calculation, ready to store. */
interface PreparedCalculation {
  item: CalculationItem;
  clientSuppliedId: boolean;
}

function toCalculation(item: CalculationItem): Calculation {
  return {
    id: item.id,
    operation: item.operation as Operation,
    operands: item.operands.map(canonicalDecimal),
    ...(item.precision !== undefined ? { precision: item.precision } : {}),
    result: canonicalDecimal(item.result),
    region: item.region,
    createdAt: item.createdAt,
  };
}

function problemResult(problem: ProblemInit): RouteResult {
  return {
    status: PROBLEM_TYPES[problem.slug].status,
    body: problemBody(problem),
    contentType: PROBLEM_CONTENT_TYPE,
    ...(problem.headers !== undefined ? { headers: problem.headers } : {}),
  };
}

export function createApp(deps: AppDependencies): ApiHandler {
  const nowMs = deps.nowMs ?? Date.now;
  const newId = deps.newId ?? randomUUID;
  const { store, metrics, logger, region } = deps;
  let invocations = 0;
  metrics.coldStarts.inc();

  /** Validates and computes one request; throws a ProblemError for bad input. */
  function prepare(
    input: unknown,
    idempotencyKey: string | undefined,
    pointerPrefix: PropertyKey[],
  ): PreparedCalculation {
    const parsed = calculationRequestSchema.safeParse(input);
    if (!parsed.success) throw new ProblemError(validationProblem(issuesToErrors(parsed.error.issues, pointerPrefix)));
    const request: CalculationRequest = parsed.data;
    if (idempotencyKey !== undefined && request.id !== undefined && idempotencyKey !== request.id) {
      throw new ProblemError({
        slug: "validation-failed",
        detail: "The Idempotency-Key header and the body's id differ; send one, or the same value in both.",
        errors: [
          { header: "idempotency-key", detail: "differs from the body's id" },
          { pointer: "/id", detail: "differs from the Idempotency-Key header" },
        ],
      });
    }
    const outcome = calculate(request);
    if (!outcome.ok) {
      const { slug, detail, pointer } = outcome.failure;
      throw new ProblemError({
        slug,
        detail,
        errors: [{ pointer: `${toPointer(pointerPrefix)}${pointer}`, detail }],
      });
    }
    const canonicalRequest = JSON.stringify([request.operation, outcome.operands, request.precision ?? null]);
    const now = nowMs();
    const suppliedId = idempotencyKey ?? request.id;
    return {
      clientSuppliedId: suppliedId !== undefined,
      item: {
        id: suppliedId ?? newId(),
        operation: request.operation,
        operands: outcome.operands,
        ...(request.precision !== undefined ? { precision: request.precision } : {}),
        result: outcome.result,
        region,
        createdAt: new Date(now).toISOString(),
        expiresAt: expiresAtFor(now, deps.ttlDays),
        requestHash: createHash("sha256").update(canonicalRequest).digest("hex"),
      },
    };
  }

  /** `keyAt` says where the reused key came from: the Idempotency-Key header or an id field. */
  function conflict(item: CalculationItem, existing: CalculationItem, keyAt: KeyLocation): ProblemInit {
    return {
      slug: "idempotency-conflict",
      detail: `Key ${JSON.stringify(item.id)} was already used at ${existing.createdAt} for a different request (${existing.operation} of ${existing.operands.length} operand${existing.operands.length === 1 ? "" : "s"}); use a new key for a new calculation.`,
      errors: [{ ...keyAt, detail: "already identifies a different calculation" }],
    };
  }

  function idempotencyKeyOf(event: APIGatewayProxyEventV2): string | undefined {
    const key = header(event, "idempotency-key");
    if (key === undefined) return undefined;
    const parsed = idSchema.safeParse(key);
    if (!parsed.success) {
      const detail = `The Idempotency-Key header ${parsed.error.issues[0]?.message ?? "is not valid"}.`;
      throw new ProblemError({ slug: "validation-failed", detail, errors: [{ header: "idempotency-key", detail }] });
    }
    return parsed.data;
  }

  const createCalculation: RouteAction = async (event, facts) => {
    const body = readJsonBody(event);
    const operation = (body as { operation?: unknown } | null)?.operation;
    // Only known names become a label value: user input must not grow the series count.
    if (typeof operation === "string" && Object.hasOwn(OPERATION_ARITY, operation)) facts.operation = operation;
    const idempotencyKey = idempotencyKeyOf(event);
    const { item } = prepare(body, idempotencyKey, []);
    let outcome: Awaited<ReturnType<CalculationStore["putIfAbsent"]>>;
    try {
      outcome = await store.putIfAbsent(item);
    } catch (error) {
      facts.error = describeError(error);
      throw new ProblemError({
        slug: "write-not-acknowledged",
        detail: `DynamoDB did not acknowledge the write, so nothing is promised. Retry with Idempotency-Key ${JSON.stringify(item.id)}: a retry cannot create a duplicate.`,
        headers: { "retry-after": "1" },
        extensions: { id: item.id },
      });
    }
    if (outcome.created) {
      return { status: 201, body: toCalculation(item), headers: { location: `/v1/calculations/${item.id}` } };
    }
    if (outcome.existing.requestHash !== item.requestHash) {
      const keyAt =
        idempotencyKey !== undefined ? { header: "idempotency-key", detail: "" } : { pointer: "/id", detail: "" };
      throw new ProblemError(conflict(item, outcome.existing, keyAt));
    }
    return { status: 200, body: toCalculation(outcome.existing), headers: { "idempotent-replayed": "true" } };
  };

  const itemIdAt = (index: number): KeyLocation => ({ pointer: `/items/${index}/id` });

  const createBatch: RouteAction = async (event, facts) => {
    facts.operation = "batch";
    const body = readJsonBody(event);
    if (header(event, "idempotency-key") !== undefined) {
      throw new ProblemError({
        slug: "validation-failed",
        detail: "Idempotency-Key applies to single calculations; give each batch item its own id instead.",
        errors: [{ header: "idempotency-key", detail: "not accepted on the batch route" }],
      });
    }
    const parsed = batchRequestSchema.safeParse(body);
    if (!parsed.success) throw new ProblemError(validationProblem(issuesToErrors(parsed.error.issues)));

    const results: BatchItemResult[] = [];
    const accepted: { index: number; item: CalculationItem; clientSuppliedId: boolean }[] = [];
    const firstById = new Map<string, { index: number; item: CalculationItem }>();
    const duplicates: { index: number; of: number }[] = [];
    parsed.data.items.forEach((input, index) => {
      try {
        const { item, clientSuppliedId } = prepare(input, undefined, ["items", index]);
        const first = firstById.get(item.id);
        if (first === undefined) {
          firstById.set(item.id, { index, item });
          accepted.push({ index, item, clientSuppliedId });
        } else if (first.item.requestHash === item.requestHash) {
          duplicates.push({ index, of: first.index });
        } else {
          results[index] = { index, status: 409, problem: problemBody(conflict(item, first.item, itemIdAt(index))) };
        }
      } catch (error) {
        if (!(error instanceof ProblemError)) throw error;
        results[index] = {
          index,
          status: PROBLEM_TYPES[error.problem.slug].status,
          problem: problemBody(error.problem),
        };
      }
    });

    // BatchWriteItem cannot be conditional, so keys the client chose are checked first.
    let existing: Map<string, CalculationItem>;
    try {
      existing = await store.getMany(accepted.filter((a) => a.clientSuppliedId).map((a) => a.item.id));
    } catch (error) {
      facts.error = describeError(error);
      throw new ProblemError({
        slug: "data-unavailable",
        detail: "DynamoDB could not be read to check the batch's ids; nothing was written. Retry the whole batch.",
        headers: { "retry-after": "1" },
      });
    }
    const toWrite: typeof accepted = [];
    for (const entry of accepted) {
      const stored = existing.get(entry.item.id);
      if (stored === undefined) toWrite.push(entry);
      else if (stored.requestHash === entry.item.requestHash) {
        results[entry.index] = { index: entry.index, status: 200, calculation: toCalculation(stored) };
      } else {
        results[entry.index] = {
          index: entry.index,
          status: 409,
          problem: problemBody(conflict(entry.item, stored, itemIdAt(entry.index))),
        };
      }
    }

    let written = new Set<string>();
    let unacknowledged = new Map<string, string>();
    try {
      ({ written, unacknowledged } = await store.putBatch(toWrite.map((entry) => entry.item)));
    } catch (error) {
      facts.error = describeError(error);
    }
    for (const { index, item } of toWrite) {
      if (written.has(item.id)) {
        results[index] = { index, status: 201, calculation: toCalculation(item) };
      } else {
        const reason = unacknowledged.get(item.id) ?? facts.error ?? "not written";
        results[index] = {
          index,
          status: 503,
          problem: problemBody({
            slug: "write-not-acknowledged",
            detail: `DynamoDB did not acknowledge this item (${reason}). Retry it with id ${JSON.stringify(item.id)}.`,
            extensions: { id: item.id },
          }),
        };
      }
    }
    for (const { index, of } of duplicates) results[index] = { ...(results[of] as BatchItemResult), index };

    const outcomes = { created: 0, replayed: 0, rejected: 0, conflict: 0, unacknowledged: 0 };
    for (const result of results) {
      if (result.status === 201) outcomes.created++;
      else if (result.status === 200) outcomes.replayed++;
      else if (result.status === 409) outcomes.conflict++;
      else if (result.status >= 500) outcomes.unacknowledged++;
      else outcomes.rejected++;
    }
    for (const [outcome, count] of Object.entries(outcomes)) if (count > 0) metrics.batchItems.inc({ outcome }, count);
    const succeeded = outcomes.created + outcomes.replayed;
    return { status: 200, body: { results, succeeded, failed: results.length - succeeded } };
  };

  const getCalculation: RouteAction = async (_event, _facts, rawId) => {
    let id: string;
    try {
      id = decodeURIComponent(rawId);
    } catch {
      id = rawId;
    }
    const parsed = idSchema.safeParse(id);
    if (!parsed.success) {
      const detail = `The id in the path ${parsed.error.issues[0]?.message ?? "is not valid"}.`;
      throw new ProblemError({ slug: "invalid-id", detail, errors: [{ parameter: "id", detail }] });
    }
    let item: CalculationItem | undefined;
    try {
      item = await store.get(parsed.data);
    } catch (error) {
      _facts.error = describeError(error);
      throw new ProblemError({
        slug: "data-unavailable",
        detail: "This region's DynamoDB replica could not be read; retry, possibly through another region.",
        headers: { "retry-after": "1" },
      });
    }
    if (item === undefined) {
      throw new ProblemError({
        slug: "calculation-not-found",
        detail: `No calculation with id ${JSON.stringify(parsed.data)} exists in ${region} (or it expired).`,
      });
    }
    return { status: 200, body: toCalculation(item) };
  };

  const health: RouteAction = async () => {
    const report = await deps.healthCheck();
    if (report.status === "pass") return { status: 200, body: { ...report, region } };
    return {
      status: 503,
      contentType: PROBLEM_CONTENT_TYPE,
      headers: { "retry-after": "5" },
      body: {
        ...problemBody({ slug: "region-unhealthy", detail: `${region} is not serving: ${report.reasons.join("; ")}.` }),
        checks: report.checks,
        reasons: report.reasons,
      },
    };
  };

  function match(method: string, path: string): RouteMatch {
    const byId = CALCULATION_BY_ID.exec(path);
    const [route, allow, action] =
      path === "/v1/calculations"
        ? ["POST /v1/calculations", "POST", createCalculation]
        : path === "/v1/calculations/batch"
          ? ["POST /v1/calculations/batch", "POST", createBatch]
          : path === "/health"
            ? [HEALTH_ROUTE_LABEL, "GET", health]
            : byId !== null
              ? ["GET /v1/calculations/{id}", "GET", getCalculation]
              : [undefined, undefined, undefined];
    if (route === undefined) return { route: "unmatched" };
    if (method !== allow) return { route, allow };
    return { route, action, ...(byId?.[1] !== undefined ? { id: byId[1] } : {}) };
  }

  async function dispatch(
    event: APIGatewayProxyEventV2,
    matched: RouteMatch,
    facts: RequestFacts,
  ): Promise<RouteResult> {
    if (matched.action !== undefined) return matched.action(event, facts, matched.id ?? "");
    const method = event.requestContext.http.method;
    const path = routePath(event);
    if (matched.allow !== undefined) {
      return problemResult({
        slug: "method-not-allowed",
        detail: `${method} is not allowed on ${path}; use ${matched.allow}.`,
        headers: { allow: matched.allow },
      });
    }
    return problemResult({
      slug: "not-found",
      detail: `There is no route ${method} ${path}. Routes: POST /v1/calculations, POST /v1/calculations/batch, GET /v1/calculations/{id}, GET /health.`,
    });
  }

  return async (event, context) => {
    const started = performance.now();
    const coldStart = invocations++ === 0;
    const facts: RequestFacts = { operation: NO_OPERATION_LABEL };
    // A payload-1.0 or non-HTTP event means the integration is misconfigured: say so in the log.
    const method: string | undefined = event?.requestContext?.http?.method;
    let matched: RouteMatch = { route: "unmatched" };
    let result: RouteResult;
    try {
      if (method === undefined || typeof event.rawPath !== "string") {
        throw new Error(
          "expected an API Gateway HTTP API payload format 2.0 event (requestContext.http.method, rawPath)",
        );
      }
      matched = match(method, routePath(event));
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
    metrics.requests.inc({ route: matched.route, operation: facts.operation, status });
    metrics.requestDuration.observe({ route: matched.route }, durationMs / 1000);
    const fields = {
      requestId: context?.awsRequestId ?? event?.requestContext?.requestId,
      route: matched.route,
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
