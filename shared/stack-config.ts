import * as z from "zod/mini";
import { METRICS } from "./metrics.js";

/**
 * The stack configuration (`Pulumi.<stack>.yaml`, keys in the `calcburst:` namespace, with the
 * typed defaults of `Pulumi.yaml`). The Pulumi program and the local cloud both parse it with
 * this schema, so the local cloud runs the regions, health checks, TTLs and Lambda limits that
 * production runs.
 */

export const CONFIG_NAMESPACE = "calcburst";

const AWS_REGION_PATTERN = /^[a-z]{2}(-gov)?-[a-z]+-\d$/;

const awsRegion = z.string().check(
  z.regex(AWS_REGION_PATTERN, {
    error: (issue) => `"${String(issue.input)}" is not an AWS region name such as us-east-1`,
  }),
);

const integerBetween = (name: string, min: number, max: number, why: string) =>
  z
    .int({ error: `${name} must be a whole number` })
    .check(
      z.gte(min, { error: `${name} must be at least ${min} (${why})` }),
      z.lte(max, { error: `${name} must be at most ${max} (${why})` }),
    );

/** An IPv4 block such as 10.10.0.0/16, as a network address and a prefix length. */
export interface Ipv4Block {
  network: number;
  prefix: number;
}

export function parseIpv4Block(text: string): Ipv4Block | undefined {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(text);
  if (match === null) return undefined;
  const octets = match.slice(1, 5).map(Number);
  const prefix = Number(match[5]);
  if (octets.some((octet) => octet > 255) || prefix > 32) return undefined;
  const address = octets.reduce((value, octet) => value * 256 + octet, 0);
  const size = 2 ** (32 - prefix);
  // A block must start on its own boundary, as EC2 requires of a VPC CIDR.
  if (address % size !== 0) return undefined;
  return { network: address, prefix };
}

function blocksOverlap(a: Ipv4Block, b: Ipv4Block): boolean {
  const aEnd = a.network + 2 ** (32 - a.prefix);
  const bEnd = b.network + 2 ** (32 - b.prefix);
  return a.network < bEnd && b.network < aEnd;
}

/** The request-duration histogram's bounds in ms: a latency objective must be one of them. */
const LATENCY_BOUNDS_MS = METRICS.requestDuration.buckets.map((seconds) => Number((seconds * 1000).toPrecision(6)));

/**
 * AWS keeps this many concurrent executions unreserved in every account and region: reserved
 * concurrency can take the account's quota minus this (on paper: "Configuring reserved
 * concurrency", https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html).
 */
export const LAMBDA_UNRESERVED_MINIMUM = 100;

/**
 * `/health` and its own API Gateway route throttling, apart from the API routes' stage default.
 * Route 53 probes each region at a few requests per second (on paper: about 15 checkers per check
 * at its interval) and the regional blackbox exporter once per scrape; a burst of API traffic
 * cannot take these tokens. A flood of `/health` itself above this rate can fail the checks: the
 * limit keeps such a flood from taking the API's Lambda concurrency instead (docs/DEPLOY.md#capacity).
 */
export const HEALTH_ROUTE = { method: "GET", path: "/health", rateLimit: 100, burstLimit: 200 } as const;

/**
 * What resolvers are assumed to keep `api.<domain>` for. The records are aliases to API
 * Gateway's regional names, and an alias record has no TTL of its own: Route 53 answers with the
 * target's (https://docs.aws.amazon.com/Route53/latest/APIReference/API_ResourceRecordSet.html).
 * AWS does not document that TTL for API Gateway targets; 60 s is what it is for load balancers,
 * and the local cloud's resolvers and the drills' RTO budget use it.
 */
export const ALIAS_TARGET_TTL_SECONDS = 60;

/** API Gateway's default account-level rate per region (on paper: API Gateway quotas). */
const ACCOUNT_API_RATE_LIMIT = 10_000;
/** API Gateway's default account-level burst per region. */
const ACCOUNT_API_BURST_LIMIT = 5000;

/** The Lambda concurrency a request rate needs when every request finishes within the latency objective (Little's law). */
export function concurrencyFor(requestsPerSecond: number, latencyObjectiveMs: number): number {
  return Math.ceil((requestsPerSecond * latencyObjectiveMs) / 1000);
}

const clientLocation = z
  .string()
  .check(z.regex(/^[a-z][a-z0-9-]*$/, { error: "client location names are lower-case words such as us or eu-west" }));

export const schema = z
  .object({
    regions: z.array(awsRegion, { error: "regions must be a list of AWS region names" }).check(
      z.minLength(2, { error: "regions must list at least two distinct AWS regions" }),
      z.refine((regions) => new Set(regions).size === regions.length, {
        error: "regions must list at least two distinct AWS regions: a region appears twice",
      }),
    ),
    /** The apex the API lives under: the global name is `api.<domain>`. */
    domain: z.string().check(
      z.regex(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, {
        error: "domain must be a lower-case DNS name such as example.com",
      }),
    ),
    hostedZoneId: z.string().check(
      z.regex(/^Z[A-Z0-9]{4,32}$/, {
        error: "hostedZoneId must be a Route 53 hosted zone id such as Z0123456789ABC",
      }),
    ),
    /** Route 53 offers 10 s (fast) and 30 s (standard) checks. */
    healthCheckIntervalSeconds: z._default(
      z.union([z.literal(10), z.literal(30)], {
        error: "healthCheckIntervalSeconds must be 10 or 30 (the intervals Route 53 offers)",
      }),
      10,
    ),
    healthCheckFailureThreshold: z._default(
      integerBetween("healthCheckFailureThreshold", 1, 10, "Route 53's range"),
      3,
    ),
    /**
     * The whole service's peak, in requests per second. Active-active means any one region may
     * have to carry all of it, so every region's stage throttle and reserved concurrency are
     * sized for it (and checked against it).
     */
    peakRequestsPerSecond: integerBetween(
      "peakRequestsPerSecond",
      1,
      ACCOUNT_API_RATE_LIMIT,
      "API Gateway's default account limit is 10,000 requests per second per region",
    ),
    lambdaMemoryMb: z._default(integerBetween("lambdaMemoryMb", 128, 10_240, "Lambda's memory range"), 1024),
    lambdaTimeoutSeconds: z._default(
      integerBetween("lambdaTimeoutSeconds", 1, 29, "an HTTP API integration times out at 30 s"),
      10,
    ),
    /** Defaults to what the stage throttle and /health need within the latency objective. */
    lambdaReservedConcurrency: z.optional(
      integerBetween("lambdaReservedConcurrency", 1, 10_000, "Lambda reserved concurrency"),
    ),
    /** The stage's default route throttling; defaults to the peak. */
    apiThrottlingRateLimit: z.optional(
      integerBetween("apiThrottlingRateLimit", 1, ACCOUNT_API_RATE_LIMIT, "API Gateway's default account limit"),
    ),
    /** Defaults to twice the stage rate, within API Gateway's account burst. */
    apiThrottlingBurstLimit: z.optional(
      integerBetween("apiThrottlingBurstLimit", 1, ACCOUNT_API_BURST_LIMIT, "API Gateway's default account burst"),
    ),
    logRetentionDays: z._default(
      z.union(
        [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653].map(
          (days) => z.literal(days),
        ),
        { error: "logRetentionDays must be a retention CloudWatch Logs accepts, such as 14, 30 or 90" },
      ),
      30,
    ),
    /**
     * Items expire this many days after they are written (DynamoDB TTL on `expiresAt`). 0: items
     * never expire and the table has no TTL, which MRSC requires (docs/CONSISTENCY.md#ttl).
     */
    tableTtlDays: z._default(integerBetween("tableTtlDays", 0, 3650, "the item time to live; 0 for none"), 30),
    /** MREC (eventual, last writer wins) or MRSC (strong; AWS supports no TTL with it). */
    tableConsistency: z._default(z.enum(["MREC", "MRSC"], { error: "tableConsistency must be MREC or MRSC" }), "MREC"),
    /** MRSC only: the region that holds the witness when `regions` lists exactly two. */
    tableWitnessRegion: z.optional(awsRegion),
    /** Where the global Prometheus and Grafana run. */
    monitoringRegion: awsRegion,
    /** Availability SLO: the share of non-health requests answered without a 5xx, over 30 days. */
    availabilityObjective: z._default(
      z
        .number()
        .check(
          z.gte(0.9, { error: "availabilityObjective must be at least 0.9 (90%)" }),
          z.lt(1, { error: "availabilityObjective must be below 1: a 100% objective leaves no error budget" }),
        ),
      0.9995,
    ),
    /**
     * Latency SLO: 99% of requests finish within this many ms. It must be a bucket bound of
     * calcburst_request_duration_seconds, so the SLI is an exact bucket count.
     */
    latencyObjectiveMs: z._default(
      z.number().check(
        z.refine((ms) => LATENCY_BOUNDS_MS.includes(ms), {
          error: `latencyObjectiveMs must be a bucket bound of the request-duration histogram: ${LATENCY_BOUNDS_MS.join(", ")}`,
        }),
      ),
      250,
    ),
    /** ReplicationLagHigh fires when a region's p99 replication lag stays above this. */
    replicationLagAlertSeconds: z._default(
      integerBetween("replicationLagAlertSeconds", 1, 3600, "a lag worth paging about"),
      30,
    ),
    /**
     * A failover drill passes when its RTO stays within detection (interval × threshold, the
     * check's timeout, the /health cache) + the record TTL + this slack.
     */
    drillRtoSlackSeconds: z._default(
      integerBetween("drillRtoSlackSeconds", 0, 600, "seconds of slack on the RTO budget"),
      10,
    ),
    /** The VPC block of each region; they must not overlap, because the monitoring VPCs peer. */
    vpcCidrs: z.optional(
      z.record(
        awsRegion,
        z.string().check(
          z.refine((text) => parseIpv4Block(text) !== undefined, {
            error: (issue) => `"${String(issue.input)}" is not an IPv4 CIDR block such as 10.10.0.0/16`,
          }),
          z.refine(
            (text) => {
              const prefix = parseIpv4Block(text)?.prefix ?? 16;
              return prefix >= 16 && prefix <= 24;
            },
            { error: "a VPC block must be between /16 and /24 (what the monitoring subnets are cut from)" },
          ),
        ),
        { error: "vpcCidrs maps each region to an IPv4 CIDR block" },
      ),
    ),
    /** The EC2 type of every Prometheus instance; Graviton (arm64), as the Debian image is. */
    monitoringInstanceType: z._default(
      z.string().check(
        z.regex(/^[a-z][a-z0-9-]*g[a-z0-9-]*\.[a-z0-9]+$/, {
          error: "monitoringInstanceType must be a Graviton (arm64) EC2 type such as t4g.small",
        }),
      ),
      "t4g.small",
    ),
    prometheusRetentionDays: z._default(integerBetween("prometheusRetentionDays", 1, 3650, "days of TSDB"), 15),
    prometheusVolumeGb: z._default(integerBetween("prometheusVolumeGb", 8, 16_384, "an EBS gp3 size"), 20),
    /**
     * Where docs/RUNBOOK.md is published (a URL); every alert links a section of it. The
     * default is the path in this repository, for a stack that has not published it yet.
     */
    runbookUrl: z._default(
      z.string().check(z.minLength(1, { error: "runbookUrl must not be empty" })),
      "docs/RUNBOOK.md",
    ),
    /**
     * Who is told: the alert topic and every region's alarm topic e-mail it (the subscriptions
     * must be confirmed). An alarm that reaches nobody is not an alarm, so it is required.
     */
    alertEmail: z.email({ error: "alertEmail must be an e-mail address (who the alerts and alarms reach)" }),
    /**
     * The local cloud's model of where clients are: the round-trip time from each client
     * location to each region, which the router uses as Route 53 uses its latency data.
     */
    localClientLatencyMs: z.optional(
      z.record(
        clientLocation,
        z.record(awsRegion, z.number().check(z.gte(0, { error: "a latency cannot be negative" }))),
        { error: "localClientLatencyMs maps each client location to a latency in ms for every region" },
      ),
    ),
    /** The location of a local-cloud client that sends no `x-client-location` header. */
    localDefaultClientLocation: z.optional(clientLocation),
    /**
     * The order a release reaches the regions in: one wave at a time, each baked before the next
     * (docs/RELEASING.md). Defaults to the first region alone, then the rest together.
     */
    releaseWaves: z.optional(
      z.array(z.array(awsRegion), {
        error: "releaseWaves must be a list of waves, each a list of regions, such as [[us-east-1], [eu-west-1]]",
      }),
    ),
  })
  .check(
    z.superRefine((config, context) => {
      const regions = new Set(config.regions);
      if (!regions.has(config.monitoringRegion)) {
        context.addIssue({
          code: "custom",
          path: ["monitoringRegion"],
          message: `monitoringRegion ${config.monitoringRegion} must be one of the regions (${config.regions.join(", ")})`,
        });
      }
      for (const [location, latencies] of Object.entries(config.localClientLatencyMs ?? {})) {
        const missing = config.regions.filter((region) => latencies[region] === undefined);
        if (missing.length > 0) {
          context.addIssue({
            code: "custom",
            path: ["localClientLatencyMs", location],
            message: `localClientLatencyMs.${location} gives no latency for ${missing.join(", ")}: list every region`,
          });
        }
      }
      if (
        config.localClientLatencyMs !== undefined &&
        config.localDefaultClientLocation !== undefined &&
        config.localClientLatencyMs[config.localDefaultClientLocation] === undefined
      ) {
        context.addIssue({
          code: "custom",
          path: ["localDefaultClientLocation"],
          message: `localDefaultClientLocation ${config.localDefaultClientLocation} is not a location in localClientLatencyMs`,
        });
      }
      const blocks = Object.entries(config.vpcCidrs ?? {});
      if (config.vpcCidrs !== undefined) {
        const missing = config.regions.filter((region) => config.vpcCidrs?.[region] === undefined);
        if (missing.length > 0) {
          context.addIssue({
            code: "custom",
            path: ["vpcCidrs"],
            message: `vpcCidrs gives no block for ${missing.join(", ")}: list every region`,
          });
        }
      }
      for (const [index, [region, text]] of blocks.entries()) {
        for (const [otherRegion, otherText] of blocks.slice(index + 1)) {
          const block = parseIpv4Block(text);
          const other = parseIpv4Block(otherText);
          if (block !== undefined && other !== undefined && blocksOverlap(block, other)) {
            context.addIssue({
              code: "custom",
              path: ["vpcCidrs", otherRegion],
              message: `vpcCidrs: ${region} (${text}) and ${otherRegion} (${otherText}) overlap; peered VPCs need disjoint blocks`,
            });
          }
        }
      }
      for (const problem of releaseWaveProblems(config.releaseWaves, config.regions)) {
        context.addIssue({ code: "custom", path: ["releaseWaves"], message: problem });
      }
      const needed = concurrencyFor(config.peakRequestsPerSecond, config.latencyObjectiveMs);
      if (config.apiThrottlingRateLimit !== undefined && config.apiThrottlingRateLimit < config.peakRequestsPerSecond) {
        context.addIssue({
          code: "custom",
          path: ["apiThrottlingRateLimit"],
          message: `apiThrottlingRateLimit ${config.apiThrottlingRateLimit} is below peakRequestsPerSecond ${config.peakRequestsPerSecond}: a region left alone with the whole peak would answer the rest with 429. Raise it, or leave it out (it defaults to the peak)`,
        });
      }
      if (config.lambdaReservedConcurrency !== undefined && config.lambdaReservedConcurrency < needed) {
        context.addIssue({
          code: "custom",
          path: ["lambdaReservedConcurrency"],
          message: `lambdaReservedConcurrency ${config.lambdaReservedConcurrency} cannot carry peakRequestsPerSecond ${config.peakRequestsPerSecond}: at the ${config.latencyObjectiveMs} ms latency objective that takes ${needed} concurrent executions. Raise it, or leave it out (it defaults to what the stage throttle needs)`,
        });
      }
      for (const problem of tableConsistencyProblems(config)) {
        context.addIssue({ code: "custom", path: [problem.key], message: problem.message });
      }
    }),
  );

type ParsedStackConfig = z.infer<typeof schema>;

/** The checked config, with every derived value filled in (see withDerivedValues). */
export type StackConfig = Omit<
  ParsedStackConfig,
  | "localClientLatencyMs"
  | "localDefaultClientLocation"
  | "vpcCidrs"
  | "apiThrottlingRateLimit"
  | "apiThrottlingBurstLimit"
  | "lambdaReservedConcurrency"
  | "releaseWaves"
> & {
  localClientLatencyMs: Record<string, Record<string, number>>;
  localDefaultClientLocation: string;
  vpcCidrs: Record<string, string>;
  apiThrottlingRateLimit: number;
  apiThrottlingBurstLimit: number;
  lambdaReservedConcurrency: number;
  releaseWaves: string[][];
  /** Not a stack key: see ALIAS_TARGET_TTL_SECONDS. */
  recordTtlSeconds: number;
};

/** Keys a stack file may no longer set, and why. */
const RETIRED_KEYS: Readonly<Record<string, string>> = {
  recordTtlSeconds: `recordTtlSeconds is not a stack key: the latency records are aliases, which carry no TTL of their own (Route 53 answers with the alias target's); remove it. The local cloud assumes ${ALIAS_TARGET_TTL_SECONDS} s`,
};

/**
 * The region sets an MRSC table's replicas and witness must all come from (on paper:
 * https://docs.aws.amazon.com/cdk/api/v2/docs/aws-cdk-lib.aws_dynamodb.CfnGlobalTable.GlobalTableWitnessProperty.html).
 */
export const MRSC_REGION_SETS: Readonly<Record<string, readonly string[]>> = {
  US: ["us-east-1", "us-east-2", "us-west-2"],
  EU: ["eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1"],
  AP: ["ap-northeast-1", "ap-northeast-2", "ap-northeast-3"],
};

/** What AWS would refuse about a table's consistency mode: the config check and the policy pack share it. */
export interface TableLayout {
  tableConsistency: "MREC" | "MRSC";
  regions: readonly string[];
  tableWitnessRegion?: string | undefined;
  tableTtlDays: number;
}

/**
 * MRSC takes exactly three replicas, or two and a witness, all in one region set, and no TTL;
 * a witness belongs to MRSC only. Each problem names the key to change.
 */
export function tableConsistencyProblems(layout: TableLayout): { key: string; message: string }[] {
  const problems: { key: string; message: string }[] = [];
  const witness = layout.tableWitnessRegion;
  if (layout.tableConsistency === "MREC") {
    if (witness !== undefined) {
      problems.push({
        key: "tableWitnessRegion",
        message: `tableWitnessRegion ${witness} is for MRSC tables only; remove it, or set tableConsistency: MRSC`,
      });
    }
    return problems;
  }
  if (layout.tableTtlDays !== 0) {
    problems.push({
      key: "tableTtlDays",
      message: `tableConsistency MRSC cannot be combined with the item TTL (tableTtlDays ${layout.tableTtlDays}): AWS supports no TTL on multi-Region strongly consistent tables. Set tableTtlDays: 0 (items never expire), or keep MREC`,
    });
  }
  const count = layout.regions.length;
  if (witness === undefined && count !== 3) {
    problems.push({
      key: "regions",
      message: `tableConsistency MRSC needs exactly three regions, or two and a tableWitnessRegion; the stack lists ${count}`,
    });
  }
  if (witness !== undefined && count !== 2) {
    problems.push({
      key: "tableWitnessRegion",
      message: `tableWitnessRegion goes with exactly two regions (two replicas and the witness); the stack lists ${count}`,
    });
  }
  if (witness !== undefined && layout.regions.includes(witness)) {
    problems.push({
      key: "tableWitnessRegion",
      message: `tableWitnessRegion ${witness} is one of the regions: the witness must be a region without a replica`,
    });
  }
  const all = [...layout.regions, ...(witness === undefined ? [] : [witness])];
  const inOneSet = Object.values(MRSC_REGION_SETS).some((set) => all.every((region) => set.includes(region)));
  if (!inOneSet) {
    const sets = Object.entries(MRSC_REGION_SETS)
      .map(([name, set]) => `${name}: ${set.join(", ")}`)
      .join("; ");
    problems.push({
      key: "regions",
      message: `tableConsistency MRSC needs every replica and the witness in one region set (${sets}); ${all.join(", ")} are not`,
    });
  }
  return problems;
}

/** Local cloud RTT to a region from a client in it, and to every other region, when the stack gives none. */
const DEFAULT_LATENCY_MS = { sameRegion: 10, otherRegion: 100 };

/**
 * The capacity keys default to what the peak needs: the stage throttle to the peak, and reserved
 * concurrency to what that throttle and `/health`'s own need within the latency objective. The
 * local-only keys are optional, so a stack for AWS alone needs none: without them each region is
 * a client location of its own, near itself and far from the rest.
 */
function withDerivedValues(config: ParsedStackConfig): StackConfig {
  const apiThrottlingRateLimit = config.apiThrottlingRateLimit ?? config.peakRequestsPerSecond;
  const latency =
    config.localClientLatencyMs ??
    Object.fromEntries(
      config.regions.map((location) => [
        location,
        Object.fromEntries(
          config.regions.map((region) => [
            region,
            region === location ? DEFAULT_LATENCY_MS.sameRegion : DEFAULT_LATENCY_MS.otherRegion,
          ]),
        ),
      ]),
    );
  return {
    ...config,
    apiThrottlingRateLimit,
    apiThrottlingBurstLimit:
      config.apiThrottlingBurstLimit ?? Math.min(ACCOUNT_API_BURST_LIMIT, 2 * apiThrottlingRateLimit),
    lambdaReservedConcurrency:
      config.lambdaReservedConcurrency ??
      concurrencyFor(apiThrottlingRateLimit + HEALTH_ROUTE.rateLimit, config.latencyObjectiveMs),
    recordTtlSeconds: ALIAS_TARGET_TTL_SECONDS,
    // Without blocks in the stack, region i gets 10.(10 + i).0.0/16: disjoint, and clear of
    // the 172.31.0.0/16 default VPCs.
    vpcCidrs:
      config.vpcCidrs ?? Object.fromEntries(config.regions.map((region, index) => [region, `10.${10 + index}.0.0/16`])),
    localClientLatencyMs: latency,
    localDefaultClientLocation: config.localDefaultClientLocation ?? Object.keys(latency)[0] ?? "",
    releaseWaves: config.releaseWaves ?? defaultReleaseWaves(config.regions),
  };
}

/** The first region alone (the canary region), then every other region together. */
export function defaultReleaseWaves(regions: string[]): string[][] {
  const [first, ...rest] = regions;
  return [first === undefined ? [] : [first], rest].filter((wave) => wave.length > 0);
}

/**
 * What is wrong with a stack's release waves: an empty wave, a region in two waves or in none,
 * a region the stack does not run in. The policy pack holds the deployed wave tags to the same.
 */
export function releaseWaveProblems(waves: string[][] | undefined, regions: string[]): string[] {
  if (waves === undefined) return [];
  const problems: string[] = [];
  if (waves.length === 0) problems.push("releaseWaves lists no wave; leave it out for the default");
  waves.forEach((wave, index) => {
    if (wave.length === 0) problems.push(`releaseWaves: wave ${index + 1} is empty; every wave releases a region`);
  });
  const listed = waves.flat();
  const twice = [...new Set(listed.filter((region, index) => listed.indexOf(region) !== index))];
  if (twice.length > 0) problems.push(`releaseWaves lists ${twice.join(", ")} in more than one wave`);
  const foreign = [...new Set(listed.filter((region) => !regions.includes(region)))];
  if (foreign.length > 0) {
    problems.push(`releaseWaves names ${foreign.join(", ")}, not among the stack's regions (${regions.join(", ")})`);
  }
  const missing = regions.filter((region) => !listed.includes(region));
  if (missing.length > 0) problems.push(`releaseWaves leaves out ${missing.join(", ")}: every region is in one wave`);
  return problems;
}

/** Every key the parser reads: the schema's, and the retired ones it refuses by name. */
export const STACK_KEYS: readonly string[] = [...Object.keys(schema.shape), ...Object.keys(RETIRED_KEYS)];

export class StackConfigError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`${source} is not a valid stack configuration:\n${problems.map((problem) => `  - ${problem}`).join("\n")}`);
    this.name = "StackConfigError";
  }
}

/**
 * Parses namespaced config (`{"calcburst:regions": [...]}`, what `Pulumi.<stack>.yaml` holds
 * and what `pulumi.runtime.setAllConfig` takes) or plain keys. Throws a StackConfigError whose
 * message lists every problem in words.
 */
export function parseStackConfig(values: Record<string, unknown>, source = "the stack config"): StackConfig {
  const plain: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(values)) {
    const separator = key.indexOf(":");
    if (separator === -1) plain[key] = value;
    else if (key.slice(0, separator) === CONFIG_NAMESPACE) plain[key.slice(separator + 1)] = value;
  }
  const retired = Object.keys(plain)
    .filter((key) => RETIRED_KEYS[key] !== undefined)
    .map((key) => RETIRED_KEYS[key] as string);
  const parsed = schema.safeParse(plain);
  if (parsed.success && retired.length === 0) return withDerivedValues(parsed.data);
  throw new StackConfigError(source, [
    ...retired,
    ...(parsed.error?.issues ?? []).map((issue) => {
      const key = issue.path.join(".");
      return issue.message.startsWith(String(issue.path[0] ?? "")) || key === ""
        ? issue.message
        : `${key}: ${issue.message}`;
    }),
  ]);
}

/** A check time, TTL or other interval shrunk by the local cloud's `--time-scale`. */
export function scaledMs(seconds: number, timeScale: number): number {
  return Math.max(1, Math.round(seconds * 1000 * timeScale));
}
