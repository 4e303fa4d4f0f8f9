import { PROBLEM_CONTENT_TYPE } from "../../shared/problem.js";
import { problemBody } from "../http.js";
import type { Route, RouteDependencies } from "./route.js";

/** `GET /health`: the deep check Route 53 calls; 503 with the reasons when the region should not serve. */
export function healthRoute(deps: RouteDependencies): Route {
  return {
    method: "GET",
    path: "/health",
    async handle() {
      const report = await deps.healthCheck();
      if (report.status === "pass") return { status: 200, body: { ...report, region: deps.region } };
      return {
        status: 503,
        contentType: PROBLEM_CONTENT_TYPE,
        headers: { "retry-after": "5" },
        body: {
          ...problemBody({
            slug: "region-unhealthy",
            detail: `${deps.region} is not serving: ${report.reasons.join("; ")}.`,
          }),
          checks: report.checks,
          reasons: report.reasons,
        },
      };
    },
  };
}
