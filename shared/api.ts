/**
 * Request schemas: what the handler validates at its boundary. Response schemas live in
 * responses.ts, so the function bundle (which only needs their types) never builds them.
 */
import * as z from "zod/mini";
import { ID_PATTERN, LIMITS } from "./limits.js";
import { schema as operationSchema } from "./operations.js";

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
  operation: operationSchema,
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

/** The response header naming the region that served a request (the function sets it on AWS too). */
export const REGION_HEADER = "x-calcburst-region";
