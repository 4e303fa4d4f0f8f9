import { idSchema } from "../../shared/api.js";
import type { CalculationItem } from "../../shared/table.js";
import { describeError } from "../commons/errors.js";
import { ProblemError } from "../http.js";
import { toCalculation } from "./calculation.js";
import type { Route, RouteDependencies } from "./route.js";

/** `GET /v1/calculations/{id}`: a strongly consistent read from this region's replica. */
export function getCalculationRoute(deps: RouteDependencies): Route {
  return {
    method: "GET",
    path: "/v1/calculations/{id}",
    async handle({ facts, params }) {
      const rawId = params.id ?? "";
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
        item = await deps.store.get(parsed.data);
      } catch (error) {
        facts.error = describeError(error);
        throw new ProblemError({
          slug: "data-unavailable",
          detail: "This region's DynamoDB replica could not be read; retry, possibly through another region.",
          headers: { "retry-after": "1" },
        });
      }
      if (item === undefined) {
        throw new ProblemError({
          slug: "calculation-not-found",
          detail: `No calculation with id ${JSON.stringify(parsed.data)} exists in ${deps.region} (or it expired).`,
        });
      }
      return { status: 200, body: toCalculation(item) };
    },
  };
}
