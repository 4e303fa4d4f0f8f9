/**
 * The bounds every target enforces. They keep each request's CPU, memory and item size
 * bounded, so no request can burn a Lambda's timeout or exceed a DynamoDB item.
 */
export const LIMITS = {
  /** Request body, in bytes after base64 decoding. */
  maxBodyBytes: 64 * 1024,
  /** Operands in one calculation. */
  maxOperands: 1000,
  /** Items in one batch request. */
  maxBatchItems: 100,
  /** Characters in one decimal-string operand. */
  maxOperandLength: 100,
  /** Significant digits of a DynamoDB Number, and so of every operand and result. */
  maxSignificantDigits: 38,
  /** DynamoDB Number magnitude: non-zero values lie in [1e-130, 1e126). */
  minExponent: -130,
  maxExponent: 125,
  /** Absolute value of a power's exponent. Anything above overflows the result range anyway. */
  maxPowerExponent: 1000,
  /** Idempotency keys and calculation ids. */
  maxIdLength: 128,
} as const;

/** Letters, digits and `-_.:`; starts with a letter or digit. Safe in URLs, logs and keys. */
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]*$/;
