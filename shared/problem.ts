/**
 * Every problem type the API returns (RFC 9457). The `type` URI is stable: clients may
 * switch on it. The slug after the last colon is what docs/API.md lists.
 */
export const PROBLEM_TYPES = {
  "invalid-json": { status: 400, title: "The request body is not valid JSON" },
  "validation-failed": { status: 400, title: "The request does not match the schema" },
  "invalid-id": { status: 400, title: "The calculation id is not valid" },
  "operand-out-of-range": { status: 422, title: "An operand cannot be represented" },
  "division-by-zero": { status: 422, title: "Division by zero" },
  "undefined-result": { status: 422, title: "The result is undefined for these operands" },
  "exponent-too-large": { status: 422, title: "The exponent is too large" },
  "result-out-of-range": { status: 422, title: "The result cannot be represented" },
  "not-found": { status: 404, title: "No such route" },
  "calculation-not-found": { status: 404, title: "No such calculation" },
  "method-not-allowed": { status: 405, title: "Method not allowed on this route" },
  "idempotency-conflict": {
    status: 409,
    title: "The idempotency key was already used with a different request",
  },
  "replicated-write-conflict": {
    status: 409,
    title: "Another region is writing this key at the same moment",
  },
  "payload-too-large": { status: 413, title: "The request body is too large" },
  "unsupported-media-type": { status: 415, title: "The request body must be application/json" },
  "region-unhealthy": { status: 503, title: "This region is not serving" },
  "write-not-acknowledged": {
    status: 503,
    title: "The data store did not acknowledge the write",
  },
  "data-unavailable": { status: 503, title: "The data store is unavailable" },
  "internal-error": { status: 500, title: "Internal error" },
} as const satisfies Record<string, { status: number; title: string }>;

export type ProblemSlug = keyof typeof PROBLEM_TYPES;

export const PROBLEM_TYPE_PREFIX = "urn:calcburst:problem:";

export function problemTypeUri(slug: ProblemSlug): string {
  return `${PROBLEM_TYPE_PREFIX}${slug}`;
}

export const PROBLEM_CONTENT_TYPE = "application/problem+json";
