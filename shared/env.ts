import * as z from "zod/mini";

/**
 * The function's environment contract. Lambda sets AWS_REGION; the Pulumi program sets
 * TABLE_NAME and the kill switch; DYNAMODB_ENDPOINT is for the local cloud only.
 */
export const schema = z.object({
  TABLE_NAME: z
    .string({
      error: "TABLE_NAME is required: set it to the name of the calculations DynamoDB table in this region",
    })
    .check(z.minLength(1, { error: "TABLE_NAME must not be empty" })),
  AWS_REGION: z
    .string({
      error: "AWS_REGION is required: Lambda sets it; locally set it to the emulated region",
    })
    .check(z.minLength(1, { error: "AWS_REGION must not be empty" })),
  DYNAMODB_ENDPOINT: z.optional(z.url({ error: "DYNAMODB_ENDPOINT must be a URL such as http://127.0.0.1:8000" })),
  CALCBURST_REGION_DISABLED: z.optional(
    z.enum(["true", "false"], { error: "CALCBURST_REGION_DISABLED must be true or false" }),
  ),
  /** Days an item lives before DynamoDB TTL removes it (the stack's tableTtlDays); 30 when unset. */
  CALCBURST_TTL_DAYS: z.optional(
    z
      .string()
      .check(z.regex(/^[1-9]\d{0,3}$/, { error: "CALCBURST_TTL_DAYS must be a whole number of days, 1 to 9999" })),
  ),
  /**
   * How long /health reuses its data check; 5000 when unset. The local cloud shrinks it with
   * its --time-scale, as it shrinks Route 53's interval.
   */
  CALCBURST_HEALTH_CACHE_MS: z.optional(
    z
      .string()
      .check(z.regex(/^\d{1,5}$/, { error: "CALCBURST_HEALTH_CACHE_MS must be a whole number of ms, 0 to 99999" })),
  ),
  LOG_LEVEL: z.optional(
    z.enum(["debug", "info", "warn", "error", "silent"], {
      error: "LOG_LEVEL must be one of debug, info, warn, error, silent",
    }),
  ),
});
export type FunctionEnvironment = z.infer<typeof schema>;

export const KILL_SWITCH_VARIABLE = "CALCBURST_REGION_DISABLED";

/** How long /health may reuse its data check when CALCBURST_HEALTH_CACHE_MS is unset: DESIGN.md §3. */
export const DEFAULT_HEALTH_CACHE_MS = 5000;
