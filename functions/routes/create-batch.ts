import { batchRequestSchema } from "../../shared/api.js";
import { PROBLEM_TYPES } from "../../shared/problem.js";
import type { BatchItemResult } from "../../shared/responses.js";
import type { CalculationItem } from "../../shared/table.js";
import { header, issuesToErrors, ProblemError, problemBody, readJsonBody, validationProblem } from "../http.js";
import {
  conflictProblem,
  type KeyLocation,
  prepareCalculation,
  replicatedConflictProblem,
  toCalculation,
} from "./calculation.js";
import type { Route, RouteDependencies } from "./route.js";

const itemIdAt = (index: number): KeyLocation => ({ pointer: `/items/${index}/id` });

/**
 * `POST /v1/calculations/batch`: up to 100 calculations, each validated on its own and written
 * with the same conditional put as a single request, side by side. So a batch can never
 * overwrite an item that a concurrent request (single or batch) wrote and acknowledged: per
 * item it is 201, 200 (the same request was there), 409 (another was) or 503 (not acknowledged).
 * BatchWriteItem would be one call per 25 items, but it cannot be conditional.
 */
export function createBatchRoute(deps: RouteDependencies): Route {
  return {
    method: "POST",
    path: "/v1/calculations/batch",
    async handle({ event, facts }) {
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
      const toWrite: { index: number; item: CalculationItem }[] = [];
      const firstById = new Map<string, { index: number; item: CalculationItem }>();
      const duplicates: { index: number; of: number }[] = [];
      parsed.data.items.forEach((input, index) => {
        try {
          const { item } = prepareCalculation(deps, input, undefined, ["items", index]);
          const first = firstById.get(item.id);
          if (first === undefined) {
            firstById.set(item.id, { index, item });
            toWrite.push({ index, item });
          } else if (first.item.requestHash === item.requestHash) {
            duplicates.push({ index, of: first.index });
          } else {
            results[index] = {
              index,
              status: 409,
              problem: problemBody(conflictProblem(item, first.item, itemIdAt(index))),
            };
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

      const outcomes = await deps.store.putEachIfAbsent(toWrite.map((entry) => entry.item));
      for (const { index, item } of toWrite) {
        const outcome = outcomes.get(item.id) ?? {
          created: false,
          unacknowledged: "not attempted",
          replicatedConflict: false,
        };
        if (outcome.created) {
          results[index] = { index, status: 201, calculation: toCalculation(item) };
        } else if ("existing" in outcome) {
          results[index] =
            outcome.existing.requestHash === item.requestHash
              ? { index, status: 200, calculation: toCalculation(outcome.existing) }
              : { index, status: 409, problem: problemBody(conflictProblem(item, outcome.existing, itemIdAt(index))) };
        } else if (outcome.replicatedConflict) {
          facts.error ??= outcome.unacknowledged;
          results[index] = { index, status: 409, problem: problemBody(replicatedConflictProblem(item)) };
        } else {
          facts.error ??= outcome.unacknowledged;
          results[index] = {
            index,
            status: 503,
            problem: problemBody({
              slug: "write-not-acknowledged",
              detail: `DynamoDB did not acknowledge this item (${outcome.unacknowledged}). Retry it with id ${JSON.stringify(item.id)}.`,
              extensions: { id: item.id },
            }),
          };
        }
      }
      for (const { index, of } of duplicates) results[index] = { ...(results[of] as BatchItemResult), index };

      const counts = { created: 0, replayed: 0, rejected: 0, conflict: 0, unacknowledged: 0 };
      for (const result of results) {
        if (result.status === 201) counts.created++;
        else if (result.status === 200) counts.replayed++;
        else if (result.status === 409) counts.conflict++;
        else if (result.status >= 500) counts.unacknowledged++;
        else counts.rejected++;
      }
      for (const [outcome, count] of Object.entries(counts)) {
        if (count > 0) deps.metrics.batchItems.inc({ outcome }, count);
      }
      const succeeded = counts.created + counts.replayed;
      return { status: 200, body: { results, succeeded, failed: results.length - succeeded } };
    },
  };
}
