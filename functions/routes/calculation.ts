import { createHash } from "node:crypto";
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import { type CalculationRequest, calculationRequestSchema, idSchema } from "../../shared/api.js";
import type { Operation } from "../../shared/operations.js";
import type { Calculation, ErrorDetail } from "../../shared/responses.js";
import { type CalculationItem, expiresAtFor } from "../../shared/table.js";
import { calculate, canonicalDecimal } from "../engine/calculate.js";
import { header, issuesToErrors, ProblemError, type ProblemInit, toPointer, validationProblem } from "../http.js";
import type { RouteDependencies } from "./route.js";

/** Where an idempotency key came from, for a conflict's error entry. */
export type KeyLocation = Pick<ErrorDetail, "pointer" | "header">;

/** A validated single calculation, ready to store. */
export interface PreparedCalculation {
  item: CalculationItem;
  clientSuppliedId: boolean;
}

export function toCalculation(item: CalculationItem): Calculation {
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

/**
 * Validates and computes one request into the item to store; throws a ProblemError for bad
 * input. `pointerPrefix` places the errors inside a batch (`/items/3`).
 */
export function prepareCalculation(
  deps: Pick<RouteDependencies, "region" | "nowMs" | "newId" | "ttlDays">,
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
    throw new ProblemError({ slug, detail, errors: [{ pointer: `${toPointer(pointerPrefix)}${pointer}`, detail }] });
  }
  const canonicalRequest = JSON.stringify([request.operation, outcome.operands, request.precision ?? null]);
  const now = deps.nowMs();
  const suppliedId = idempotencyKey ?? request.id;
  return {
    clientSuppliedId: suppliedId !== undefined,
    item: {
      id: suppliedId ?? deps.newId(),
      operation: request.operation,
      operands: outcome.operands,
      ...(request.precision !== undefined ? { precision: request.precision } : {}),
      result: outcome.result,
      region: deps.region,
      createdAt: new Date(now).toISOString(),
      expiresAt: expiresAtFor(now, deps.ttlDays),
      requestHash: createHash("sha256").update(canonicalRequest).digest("hex"),
    },
  };
}

/** The 409 for a key that already identifies another calculation; `keyAt` says where the key came from. */
export function conflictProblem(item: CalculationItem, existing: CalculationItem, keyAt: KeyLocation): ProblemInit {
  const operands = `${existing.operands.length} operand${existing.operands.length === 1 ? "" : "s"}`;
  return {
    slug: "idempotency-conflict",
    detail: `Key ${JSON.stringify(item.id)} was already used at ${existing.createdAt} for a different request (${existing.operation} of ${operands}); use a new key for a new calculation.`,
    errors: [{ ...keyAt, detail: "already identifies a different calculation" }],
  };
}

/** The 409 for a write that met another region's write of the same id (MRSC only). */
export function replicatedConflictProblem(item: CalculationItem): ProblemInit {
  return {
    slug: "replicated-write-conflict",
    detail: `Another region was writing key ${JSON.stringify(item.id)} at the same moment, and only one write of a key can win. Retry with the same key: the retry returns the stored calculation if it is this request, or 409 idempotency-conflict if it is another.`,
    headers: { "retry-after": "1" },
    extensions: { id: item.id },
  };
}

/** The validated Idempotency-Key header, if any. */
export function idempotencyKeyOf(event: APIGatewayProxyEventV2): string | undefined {
  const key = header(event, "idempotency-key");
  if (key === undefined) return undefined;
  const parsed = idSchema.safeParse(key);
  if (!parsed.success) {
    const detail = `The Idempotency-Key header ${parsed.error.issues[0]?.message ?? "is not valid"}.`;
    throw new ProblemError({ slug: "validation-failed", detail, errors: [{ header: "idempotency-key", detail }] });
  }
  return parsed.data;
}
