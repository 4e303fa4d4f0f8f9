/**
 * The bad-release drill's faulty version: the real handler, wrapped to answer 500 to a share of
 * the requests it serves, without touching the data. It lives here, outside the product;
 * local/drill/bad-release.ts bundles it with esbuild and sets the share at build time.
 */
import { metricsFlusher } from "../../functions/commons/instance.js";
import { metrics, handler as realHandler, shutdown } from "../../functions/handler.js";
import { NO_OPERATION_LABEL } from "../../shared/metrics.js";
import { PROBLEM_CONTENT_TYPE, PROBLEM_TYPES, problemTypeUri } from "../../shared/problem.js";
import { HEALTH_ROUTE } from "../../shared/stack-config.js";

/** Set by esbuild's `define`: the share of requests answered 500. */
declare const DRILL_FAILURE_SHARE: number;

export { shutdown };

export const handler: typeof realHandler = async (event, context) => {
  if (event.rawPath === HEALTH_ROUTE.path || Math.random() >= DRILL_FAILURE_SHARE) return realHandler(event, context);
  // Counted in the real handler's own metrics, as a failure of the version's own code would be.
  const route = `${event.requestContext.http.method} /v1/calculations (bad release)`;
  metrics.requests.inc({ route, operation: NO_OPERATION_LABEL, status: "500" });
  metrics.requestDuration.observe({ route }, 0.001);
  await metricsFlusher?.flushIfDue();
  const type = PROBLEM_TYPES["internal-error"];
  return {
    statusCode: type.status,
    headers: { "content-type": PROBLEM_CONTENT_TYPE },
    body: JSON.stringify({
      type: problemTypeUri("internal-error"),
      title: type.title,
      status: type.status,
      detail: "the bad-release drill's faulty version failed this request on purpose",
    }),
  };
};
