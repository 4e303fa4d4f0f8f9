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
  /** Days an item lives before DynamoDB TTL removes it (the stack's tableTtlDays; 0: never); 30 when unset. */
  CALCBURST_TTL_DAYS: z.optional(
    z.string().check(
      z.regex(/^(0|[1-9]\d{0,3})$/, {
        error: "CALCBURST_TTL_DAYS must be a whole number of days, 0 (never) to 9999",
      }),
    ),
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
  /** The regional Prometheus's remote-write receiver; without it the function keeps its metrics to itself. */
  CALCBURST_REMOTE_WRITE_URL: z.optional(
    z.url({ error: "CALCBURST_REMOTE_WRITE_URL must be a URL such as http://10.10.1.10:9090/api/v1/write" }),
  ),
  /** At most one metrics flush per instance per this many ms; 10000 when unset. */
  CALCBURST_METRICS_FLUSH_INTERVAL_MS: z.optional(
    z
      .string()
      .check(z.regex(/^\d{1,6}$/, { error: "CALCBURST_METRICS_FLUSH_INTERVAL_MS must be a whole number of ms" })),
  ),
  /** The most a flush may add to the invocation that carries it; 50 when unset. */
  CALCBURST_METRICS_FLUSH_BUDGET_MS: z.optional(
    z.string().check(z.regex(/^[1-9]\d{0,3}$/, { error: "CALCBURST_METRICS_FLUSH_BUDGET_MS must be 1 to 9999 ms" })),
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

/** DESIGN.md §1: an instance pushes its metrics at most every 10 s. */
export const DEFAULT_METRICS_FLUSH_INTERVAL_MS = 10_000;

/**
 * The most a metrics flush may add to the one invocation that carries it. A flush to the
 * regional Prometheus takes about a millisecond (docs/BENCHMARKS.md); past this it is dropped.
 */
export const DEFAULT_METRICS_FLUSH_BUDGET_MS = 50;

/** The `job` label of the series the function pushes. */
export const FUNCTION_METRICS_JOB = "calcburst-function";
