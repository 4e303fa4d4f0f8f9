import { OPERATION_ARITY } from "../../shared/operations.js";
import { describeError } from "../commons/errors.js";
import { ProblemError, readJsonBody } from "../http.js";
import { isReplicatedWriteConflict, type PutOutcome } from "../store.js";
import {
  conflictProblem,
  idempotencyKeyOf,
  prepareCalculation,
  replicatedConflictProblem,
  toCalculation,
} from "./calculation.js";
import type { Route, RouteDependencies } from "./route.js";

/**
 * `POST /v1/calculations`: one conditional put. 201 when it wrote, 200 when the key already
 * holds this very request (a retry), 409 when it holds another.
 */
export function createCalculationRoute(deps: RouteDependencies): Route {
  return {
    method: "POST",
    path: "/v1/calculations",
    async handle({ event, facts }) {
      const body = readJsonBody(event);
      const operation = (body as { operation?: unknown } | null)?.operation;
      // Only known names become a label value: user input must not grow the series count.
      if (typeof operation === "string" && Object.hasOwn(OPERATION_ARITY, operation)) facts.operation = operation;
      const idempotencyKey = idempotencyKeyOf(event);
      const { item } = prepareCalculation(deps, body, idempotencyKey, []);
      let outcome: PutOutcome;
      try {
        outcome = await deps.store.putIfAbsent(item);
      } catch (error) {
        facts.error = describeError(error);
        if (isReplicatedWriteConflict(error)) throw new ProblemError(replicatedConflictProblem(item));
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
        const keyAt = idempotencyKey !== undefined ? { header: "idempotency-key" } : { pointer: "/id" };
        throw new ProblemError(conflictProblem(item, outcome.existing, keyAt));
      }
      return { status: 200, body: toCalculation(outcome.existing), headers: { "idempotent-replayed": "true" } };
    },
  };
}
