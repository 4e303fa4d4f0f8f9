import * as z from "zod/mini";

/**
 * Every operation the API accepts, with how many operands it takes.
 * Binary operations fold left over the list: subtract [10, 3, 2] is (10 - 3) - 2.
 */
export const OPERATION_ARITY = {
  add: { min: 2, max: undefined },
  subtract: { min: 2, max: undefined },
  multiply: { min: 2, max: undefined },
  divide: { min: 2, max: undefined },
  power: { min: 2, max: 2 },
  modulo: { min: 2, max: 2 },
  sqrt: { min: 1, max: 1 },
  abs: { min: 1, max: 1 },
  min: { min: 1, max: undefined },
  max: { min: 1, max: undefined },
  mean: { min: 1, max: undefined },
  median: { min: 1, max: undefined },
  stddev: { min: 1, max: undefined },
  stddev_sample: { min: 2, max: undefined },
} as const satisfies Record<string, { min: number; max: number | undefined }>;

export type Operation = keyof typeof OPERATION_ARITY;

export const OPERATIONS = Object.keys(OPERATION_ARITY) as [Operation, ...Operation[]];

export const schema = z.enum(OPERATIONS, { error: `must be one of: ${OPERATIONS.join(", ")}` });

/** Describes an operation's operand count in words, for error messages and docs. */
export function describeArity(operation: Operation): string {
  const { min, max } = OPERATION_ARITY[operation];
  if (max === undefined) return `at least ${min} operand${min === 1 ? "" : "s"}`;
  if (min === max) return `exactly ${min} operand${min === 1 ? "" : "s"}`;
  return `between ${min} and ${max} operands`;
}
