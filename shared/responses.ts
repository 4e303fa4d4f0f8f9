/**
 * Response schemas: the API's answers. The handler uses only their types; tests and clients
 * validate real responses against them.
 */
import * as z from "zod/mini";
import { schema as operationSchema } from "./operations.js";

/**
 * Where an error is: `pointer` is a JSON Pointer (RFC 6901) into the body, `parameter`
 * a path parameter, `header` a request header.
 */
export const errorDetailSchema = z.object({
  detail: z.string(),
  pointer: z.optional(z.string()),
  parameter: z.optional(z.string()),
  header: z.optional(z.string()),
});
export type ErrorDetail = z.infer<typeof errorDetailSchema>;

export const problemSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number(),
  detail: z.string(),
  errors: z.optional(z.array(errorDetailSchema)),
  region: z.optional(z.string()),
  durationMs: z.optional(z.number()),
});
export type Problem = z.infer<typeof problemSchema>;

/** A stored calculation as the API returns it. Operands and result are canonical decimal strings. */
export const calculationSchema = z.object({
  id: z.string(),
  operation: operationSchema,
  operands: z.array(z.string()),
  precision: z.optional(z.number()),
  result: z.string(),
  /** The region that computed and first stored it. */
  region: z.string(),
  createdAt: z.string(),
});
export type Calculation = z.infer<typeof calculationSchema>;

/** The response body of POST /v1/calculations and GET /v1/calculations/{id}. */
export const calculationResponseSchema = z.extend(calculationSchema, {
  /** The region that served this response (differs from `region` for a replicated read). */
  servedBy: z.string(),
  durationMs: z.number(),
});
export type CalculationResponse = z.infer<typeof calculationResponseSchema>;

const itemProblemSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number(),
  detail: z.string(),
  errors: z.optional(z.array(errorDetailSchema)),
});

export const batchItemResultSchema = z.union([
  z.object({ index: z.number(), status: z.number(), calculation: calculationSchema }),
  z.object({ index: z.number(), status: z.number(), problem: itemProblemSchema }),
]);
export type BatchItemResult = z.infer<typeof batchItemResultSchema>;

export const batchResponseSchema = z.object({
  results: z.array(batchItemResultSchema),
  succeeded: z.number(),
  failed: z.number(),
  servedBy: z.string(),
  durationMs: z.number(),
});
export type BatchResponse = z.infer<typeof batchResponseSchema>;

export const healthCheckSchema = z.object({
  status: z.enum(["pass", "fail"]),
  detail: z.optional(z.string()),
  latencyMs: z.optional(z.number()),
  checkedAt: z.optional(z.string()),
});

export const healthResponseSchema = z.object({
  status: z.enum(["pass", "fail"]),
  region: z.string(),
  checks: z.object({ killSwitch: healthCheckSchema, data: healthCheckSchema }),
  reasons: z.array(z.string()),
  durationMs: z.number(),
});
export type HealthResponse = z.infer<typeof healthResponseSchema>;
