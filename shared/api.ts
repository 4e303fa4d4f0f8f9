import * as z from "zod/mini";
import { ID_PATTERN, LIMITS } from "./limits.js";
import { OPERATIONS, schema as operationSchema } from "./operations.js";
import { errorDetailSchema } from "./problem.js";

/** A JSON number, or a decimal string for values a double cannot hold exactly. */
export const DECIMAL_STRING_PATTERN = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

const operandMessage = `must be a finite number or a decimal string such as "12.5" or "-1e-3"`;

export const operandSchema = z.union(
  [
    z.number({ error: operandMessage }),
    z.string({ error: operandMessage }).check(
      z.maxLength(LIMITS.maxOperandLength, {
        error: `must be at most ${LIMITS.maxOperandLength} characters long`,
      }),
      z.regex(DECIMAL_STRING_PATTERN, { error: operandMessage }),
    ),
  ],
  { error: operandMessage },
);
export type Operand = z.infer<typeof operandSchema>;

export const idSchema = z.string({ error: "must be a string" }).check(
  z.minLength(1, { error: "must not be empty" }),
  z.maxLength(LIMITS.maxIdLength, {
    error: `must be at most ${LIMITS.maxIdLength} characters long`,
  }),
  z.regex(ID_PATTERN, {
    error: "may hold only letters, digits and - _ . : and must start with a letter or digit",
  }),
);

export const calculationRequestSchema = z.strictObject({
  operation: z.enum(OPERATIONS, {
    error: `must be one of: ${OPERATIONS.join(", ")}`,
  }),
  operands: z.array(operandSchema, { error: "must be an array of numbers" }).check(
    z.maxLength(LIMITS.maxOperands, {
      error: `must hold at most ${LIMITS.maxOperands} operands`,
    }),
  ),
  precision: z.optional(
    z.int({ error: "must be a whole number of significant digits" }).check(
      z.minimum(1, { error: "must be at least 1" }),
      z.maximum(LIMITS.maxSignificantDigits, {
        error: `must be at most ${LIMITS.maxSignificantDigits}`,
      }),
    ),
  ),
  id: z.optional(idSchema),
});
export type CalculationRequest = z.infer<typeof calculationRequestSchema>;

export const batchRequestSchema = z.strictObject({
  items: z.array(z.unknown(), { error: "must be an array of calculation requests" }).check(
    z.minLength(1, { error: "must hold at least 1 item" }),
    z.maxLength(LIMITS.maxBatchItems, {
      error: `must hold at most ${LIMITS.maxBatchItems} items`,
    }),
  ),
});
export type BatchRequest = z.infer<typeof batchRequestSchema>;

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
