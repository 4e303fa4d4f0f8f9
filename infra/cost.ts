import { readFileSync } from "node:fs";
import path from "node:path";
import { loadStack } from "../shared/stack-file.js";
import { TYPICAL_ACCESS_LOG_LINE } from "./access-log.js";

/**
 * The monthly AWS bill of a stack, from list prices (infra/pricing/aws-list-prices.json) and a
 * traffic model. Every figure is on paper: nothing here was measured on AWS.
 */

export const PRICES_FILE = path.join(__dirname, "pricing", "aws-list-prices.json");

/** What `npm run bench:sizing` measured of the function (bench/function-sizing.ts). */
export const MEASUREMENTS_FILE = path.join(__dirname, "pricing", "function-measurements.json");

export interface FunctionMeasurements {
  $comment: string;
  /** The machine and date. */
  measured: string;
  /** CPU per write through the built bundle, SDK included, on one core (Lambda's one vCPU). */
  cpuMsPerWrite: number;
  cpuMsPerWriteRounds: number[];
  /** Resident memory of the process after the run. */
  rssMb: number;
}

export function loadMeasurements(file: string = MEASUREMENTS_FILE): FunctionMeasurements {
  return JSON.parse(readFileSync(file, "utf8")) as FunctionMeasurements;
}

/**
 * DynamoDB's documented latency, "single-digit millisecond performance at any scale"
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Introduction.html), taken at
 * its bound: a write's round trip is at most this. Not measured on AWS.
 */
export const DYNAMODB_LATENCY_MS = 10;

/**
 * "At 1,769 MB, a function has the equivalent of one vCPU", and CPU is allocated in proportion to
 * memory (https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html). The function
 * runs on one thread, so more than one vCPU does not make it faster.
 */
export const ONE_VCPU_MEMORY_MB = 1769;

/** The memory sizes compared in docs/COSTS.md. */
export const MEMORY_SIZES_MB = [128, 256, 512, 1024, 1769, 2048] as const;

/** Assumed: a size must leave this factor over the measured resident memory (GC growth, the runtime's own differences). */
export const MEMORY_HEADROOM = 1.5;

/**
 * The billed duration of one write at a memory size: DynamoDB's documented round trip plus the
 * measured CPU, stretched by the share of a vCPU the size buys; Lambda bills whole milliseconds.
 */
export function billedDurationMs(memoryMb: number, measurements: FunctionMeasurements): number {
  const vcpuShare = Math.min(1, memoryMb / ONE_VCPU_MEMORY_MB);
  return Math.ceil(DYNAMODB_LATENCY_MS + measurements.cpuMsPerWrite / vcpuShare);
}

interface Tier {
  limit: number | null;
  price: number;
}

export interface Prices {
  asOf: string;
  region: string;
  hoursPerMonth: number;
  sources: Record<string, string>;
  apiGatewayHttp: { tiers: { upToMillionRequests: number | null; usdPerMillion: number }[] };
  lambdaArm: {
    usdPerMillionRequests: number;
    gbSecondTiers: { upToBillionGbSeconds: number | null; usdPerGbSecond: number }[];
  };
  dynamodbOnDemand: {
    usdPerMillionWriteRequestUnits: number;
    usdPerMillionReadRequestUnits: number;
    usdPerMillionReplicatedWriteRequestUnits: number;
    usdPerGbMonthStorage: number;
    usdPerGbMonthPointInTimeRecovery: number;
  };
  route53: {
    usdPerHostedZoneMonth: number;
    usdPerHealthCheckMonthAwsEndpoint: number;
    usdPerOptionalFeatureMonthAwsEndpoint: number;
    healthCheckersPerCheck: number;
  };
  cloudwatch: {
    usdPerGbLogsIngested: number;
    usdPerGbMonthLogsStored: number;
    usdPerAlarmMetricMonth: number;
    usdPerThousandMetricsRequested: number;
  };
  dataTransferOut: { usdPerGb: number };
  ec2OnDemandLinuxUsdPerHour: Record<string, number>;
  ebsGp3UsdPerGbMonth: number;
  publicIpv4UsdPerHour: number;
}

export function loadPrices(file: string = PRICES_FILE): Prices {
  return JSON.parse(readFileSync(file, "utf8")) as Prices;
}

/**
 * The traffic model. Defaults are what this repository measured locally (log line, response
 * size) or what the stack config says; the rest are labelled assumptions.
 */
/** A table without TTL keeps every item: its storage line shows the bill after this many days of writes. */
export const NO_TTL_STORAGE_DAYS = 365;

export interface Traffic {
  requestsPerMinute: number;
  regions: number;
  /** Share of requests that write a calculation (the rest read one back). */
  writeShare: number;
  lambdaMemoryMb: number;
  /** The stack's Prometheus instances: one per region and the global one. */
  monitoringInstanceType: string;
  prometheusVolumeGb: number;
  /** Billed duration per invocation: derived (billedDurationMs) unless given. */
  billedDurationMs: number;
  /** How the duration was come by, for the table. */
  durationSource: string;
  /** 0: items never expire (what MRSC needs); the storage line then shows a year of writes. */
  ttlDays: number;
  tableConsistency: "MREC" | "MRSC";
  healthCheckIntervalSeconds: number;
  logRetentionDays: number;
  /** Measured: the function's JSON log line per request, from the local cloud's log. */
  functionLogBytes: number;
  /** Assumption: Lambda's JSON platform lines (start, report) per invocation. */
  platformLogBytes: number;
  /** The access-log line the stage writes, from its format with typical values. */
  accessLogBytes: number;
  /** Measured: body plus headers of a 201, from the local cloud. */
  responseBytes: number;
  /** DynamoDB's size of a typical calculation item (attribute names and values). */
  itemBytes: number;
}

/** DynamoDB item size: attribute name lengths plus value sizes (numbers ≈ 1 byte per 2 digits + 1). */
export function dynamoDbItemBytes(item: Record<string, string | number | string[]>): number {
  const numberBytes = (value: string) => Math.ceil(value.replace(/[-.]/g, "").length / 2) + 1;
  let bytes = 0;
  for (const [name, value] of Object.entries(item)) {
    bytes += Buffer.byteLength(name);
    if (typeof value === "number") bytes += numberBytes(String(value));
    else if (Array.isArray(value)) bytes += 3 + value.reduce((sum, element) => sum + 1 + numberBytes(element), 0);
    else bytes += Buffer.byteLength(value);
  }
  return bytes;
}

/** A typical item as functions/app.ts writes it (four operands, a uuid id). */
export const TYPICAL_ITEM_BYTES = dynamoDbItemBytes({
  id: "3f2b8c1e-7a4d-4e9b-9c2a-5d6e7f8a9b0c",
  operation: "mean",
  operands: ["1", "2", "3.5", "8"],
  result: "3.625",
  region: "us-east-1",
  createdAt: "2026-11-22T08:12:15.516Z",
  expiresAt: 1_800_000_000,
  requestHash: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
});

export const DEFAULT_TRAFFIC: Omit<Traffic, "requestsPerMinute" | "billedDurationMs" | "durationSource"> = {
  regions: 2,
  writeShare: 1,
  lambdaMemoryMb: 1024,
  monitoringInstanceType: "t4g.small",
  prometheusVolumeGb: 20,
  ttlDays: 30,
  tableConsistency: "MREC",
  healthCheckIntervalSeconds: 10,
  logRetentionDays: 30,
  functionLogBytes: 288,
  platformLogBytes: 600,
  accessLogBytes: Buffer.byteLength(TYPICAL_ACCESS_LOG_LINE) + 1,
  responseBytes: 600,
  itemBytes: TYPICAL_ITEM_BYTES,
};

/**
 * The traffic model for a stack: its peak (all month, unless a rate is given), regions, memory and
 * the duration derived for it, TTL, check interval and log retention.
 */
export function trafficFor(stack: string, requestsPerMinute?: number, overrides: Partial<Traffic> = {}): Traffic {
  const { config } = loadStack(stack);
  return {
    ...DEFAULT_TRAFFIC,
    requestsPerMinute: requestsPerMinute ?? config.peakRequestsPerSecond * 60,
    regions: config.regions.length,
    lambdaMemoryMb: config.lambdaMemoryMb,
    billedDurationMs: billedDurationMs(config.lambdaMemoryMb, loadMeasurements()),
    durationSource: "derived",
    monitoringInstanceType: config.monitoringInstanceType,
    prometheusVolumeGb: config.prometheusVolumeGb,
    ttlDays: config.tableTtlDays,
    tableConsistency: config.tableConsistency,
    healthCheckIntervalSeconds: config.healthCheckIntervalSeconds,
    logRetentionDays: config.logRetentionDays,
    ...overrides,
  };
}

export interface CostLine {
  service: string;
  item: string;
  /** How many units a month (requests, GB-s, GB, …), and as printed. */
  amount: number;
  quantity: string;
  monthlyUsd: number;
  /** Grows with traffic (true) or a fixed monthly charge (false). */
  variable: boolean;
}

function tiered(quantity: number, tiers: Tier[]): number {
  let remaining = quantity;
  let floor = 0;
  let total = 0;
  for (const tier of tiers) {
    const width = tier.limit === null ? remaining : Math.max(0, Math.min(remaining, tier.limit - floor));
    total += width * tier.price;
    remaining -= width;
    floor = tier.limit ?? floor;
    if (remaining <= 0) break;
  }
  return total;
}

const GB = 1024 ** 3;
const fmt = (n: number) =>
  n >= 1e9 ? `${(n / 1e9).toFixed(2)} B` : n >= 1e6 ? `${(n / 1e6).toFixed(1)} M` : n.toFixed(0);

export function monthlyCost(traffic: Traffic, prices: Prices): CostLine[] {
  const seconds = prices.hoursPerMonth * 3600;
  const clientRequests = (traffic.requestsPerMinute / 60) * seconds;
  const { regions } = traffic;
  const checksPerRegion = (prices.route53.healthCheckersPerCheck * seconds) / traffic.healthCheckIntervalSeconds;
  const requestsPerRegion = clientRequests / regions + checksPerRegion;
  const totalRequests = requestsPerRegion * regions;
  const writes = clientRequests * traffic.writeShare;
  const reads = clientRequests - writes;
  const lines: CostLine[] = [];
  const add = (service: string, item: string, amount: number, unit: string, monthlyUsd: number, variable = true) =>
    lines.push({ service, item, amount, quantity: `${fmt(amount)}${unit}`, monthlyUsd, variable });

  const apiTiers = prices.apiGatewayHttp.tiers.map((tier) => ({
    limit: tier.upToMillionRequests === null ? null : tier.upToMillionRequests * 1e6,
    price: tier.usdPerMillion / 1e6,
  }));
  add(
    "API Gateway",
    `HTTP API requests (${regions} regions; includes Route 53 checks, ${fmt(checksPerRegion)}/region)`,
    totalRequests,
    "",
    regions * tiered(requestsPerRegion, apiTiers),
  );

  const gbSecondsPerRegion = requestsPerRegion * (traffic.billedDurationMs / 1000) * (traffic.lambdaMemoryMb / 1024);
  const lambdaTiers = prices.lambdaArm.gbSecondTiers.map((tier) => ({
    limit: tier.upToBillionGbSeconds === null ? null : tier.upToBillionGbSeconds * 1e9,
    price: tier.usdPerGbSecond,
  }));
  add("Lambda", "requests (arm64)", totalRequests, "", (totalRequests / 1e6) * prices.lambdaArm.usdPerMillionRequests);
  add(
    "Lambda",
    `duration: ${traffic.lambdaMemoryMb} MB × ${traffic.billedDurationMs} ms (${traffic.durationSource})`,
    gbSecondsPerRegion * regions,
    " GB-s",
    regions * tiered(gbSecondsPerRegion, lambdaTiers),
  );

  const ddb = prices.dynamodbOnDemand;
  const writeUnits = Math.ceil(traffic.itemBytes / 1024);
  add(
    "DynamoDB",
    "writes (1 WRU each, in the serving region)",
    writes * writeUnits,
    "",
    ((writes * writeUnits) / 1e6) * ddb.usdPerMillionWriteRequestUnits,
  );
  // MRSC: each write is copied synchronously to the other replicas. AWS prices it in replicated
  // write units like MREC (on paper: https://aws.amazon.com/dynamodb/pricing/on-demand/, "Global
  // tables"); a witness holds no table and is left out (docs/COSTS.md, the strong stack).
  add(
    "DynamoDB",
    `replicated writes (to ${regions - 1} other region${regions > 2 ? "s" : ""}${traffic.tableConsistency === "MRSC" ? ", synchronously: MRSC" : ""})`,
    writes * writeUnits * (regions - 1),
    "",
    ((writes * writeUnits * (regions - 1)) / 1e6) * ddb.usdPerMillionReplicatedWriteRequestUnits,
  );
  // TTL deletes are free where they happen, but each is a replicated write in every other replica
  // (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-global-table-design.prescriptive-guidance.throughput.html).
  // In a steady month as many items expire as are written.
  if (traffic.ttlDays > 0)
    add(
      "DynamoDB",
      `replicated TTL deletes (every item expires after ${traffic.ttlDays} days; each delete is replicated to ${regions - 1} other region${regions > 2 ? "s" : ""})`,
      writes * (regions - 1),
      "",
      ((writes * (regions - 1)) / 1e6) * ddb.usdPerMillionReplicatedWriteRequestUnits,
    );
  if (reads > 0)
    add(
      "DynamoDB",
      "strongly consistent reads (1 RRU each)",
      reads,
      "",
      (reads / 1e6) * ddb.usdPerMillionReadRequestUnits,
    );
  // Health checks read the sentinel at most once per 5 s per instance: negligible, left out.
  const keptDays = traffic.ttlDays > 0 ? traffic.ttlDays : NO_TTL_STORAGE_DAYS;
  const storedItems = (writes / prices.hoursPerMonth / 3600) * keptDays * 86_400;
  const storedGbPerReplica = (storedItems * (traffic.itemBytes + 100)) / GB;
  add(
    "DynamoDB",
    traffic.ttlDays > 0
      ? `storage: ${fmt(storedItems)} items × ${traffic.itemBytes + 100} B for ${traffic.ttlDays} days, × ${regions} replicas`
      : `storage without TTL, after ${NO_TTL_STORAGE_DAYS} days of writes (it grows every month): ${fmt(storedItems)} items × ${traffic.itemBytes + 100} B, × ${regions} replicas`,
    storedGbPerReplica * regions,
    " GB",
    storedGbPerReplica * regions * ddb.usdPerGbMonthStorage,
  );
  add(
    "DynamoDB",
    "point-in-time recovery on every replica",
    storedGbPerReplica * regions,
    " GB",
    storedGbPerReplica * regions * ddb.usdPerGbMonthPointInTimeRecovery,
  );

  const r53 = prices.route53;
  const optionalFeatures = 2 + (traffic.healthCheckIntervalSeconds === 10 ? 1 : 0); // HTTPS, latency measurement, fast
  add(
    "Route 53",
    `health checks (HTTPS, latency measurement${optionalFeatures === 3 ? ", 10 s interval" : ""})`,
    regions,
    "",
    regions * (r53.usdPerHealthCheckMonthAwsEndpoint + optionalFeatures * r53.usdPerOptionalFeatureMonthAwsEndpoint),
    false,
  );
  add("Route 53", "hosted zone", 1, "", r53.usdPerHostedZoneMonth, false);
  add("Route 53", "latency alias queries to API Gateway (not charged)", 0, "", 0, false);

  const cw = prices.cloudwatch;
  // RegionalService's alarms: 5xx rate (two metrics), p99 latency, throttles, replication per peer.
  const alarmMetricsPerRegion = 4 + (regions - 1);
  const logBytes = totalRequests * (traffic.functionLogBytes + traffic.platformLogBytes + traffic.accessLogBytes);
  const logGb = logBytes / GB;
  add(
    "CloudWatch",
    `logs ingested (${traffic.functionLogBytes + traffic.platformLogBytes + traffic.accessLogBytes} B per request)`,
    logGb,
    " GB",
    logGb * cw.usdPerGbLogsIngested,
  );
  add(
    "CloudWatch",
    `logs stored (${traffic.logRetentionDays} days retention)`,
    (logGb * traffic.logRetentionDays) / 30,
    " GB",
    ((logGb * traffic.logRetentionDays) / 30) * cw.usdPerGbMonthLogsStored,
  );
  add(
    "CloudWatch",
    "alarm metrics",
    alarmMetricsPerRegion * regions,
    "",
    alarmMetricsPerRegion * regions * cw.usdPerAlarmMetricMonth,
    false,
  );

  // Monitoring: a Prometheus instance per region and the global one, each with an 8 GB root
  // volume, a data volume and a public IPv4 address (egress only; no NAT gateway).
  const instances = regions + 1;
  const hourly = prices.ec2OnDemandLinuxUsdPerHour[traffic.monitoringInstanceType];
  if (hourly === undefined) {
    throw new Error(
      `no price for ${traffic.monitoringInstanceType} in ${PRICES_FILE}: add it from the EC2 pricing page`,
    );
  }
  add(
    "EC2",
    `${traffic.monitoringInstanceType} Prometheus instances (monitoring)`,
    instances,
    "",
    instances * hourly * prices.hoursPerMonth,
    false,
  );
  const volumeGb = instances * (traffic.prometheusVolumeGb + 8);
  add(
    "EBS",
    "gp3: data and root volumes of the monitoring instances",
    volumeGb,
    " GB",
    volumeGb * prices.ebsGp3UsdPerGbMonth,
    false,
  );
  add(
    "VPC",
    "public IPv4 addresses of the monitoring instances",
    instances,
    "",
    instances * prices.publicIpv4UsdPerHour * prices.hoursPerMonth,
    false,
  );
  // The CloudWatch exporter asks each minute, in every region, for the throttles and for the
  // replication latency's average and maximum towards each other region.
  const metricsRequested = regions * (1 + 2 * (regions - 1)) * 60 * 24 * 30;
  add(
    "CloudWatch",
    "metrics read by the CloudWatch exporter (GetMetricData)",
    metricsRequested,
    "",
    (metricsRequested / 1000) * cw.usdPerThousandMetricsRequested,
    false,
  );

  const outGb = (totalRequests * traffic.responseBytes) / GB;
  add(
    "Data transfer",
    `responses to the internet (${traffic.responseBytes} B each)`,
    outGb,
    " GB",
    outGb * prices.dataTransferOut.usdPerGb,
  );
  return lines;
}

export function totals(lines: CostLine[], clientRequestsPerMonth: number) {
  const monthly = lines.reduce((sum, line) => sum + line.monthlyUsd, 0);
  const variable = lines.filter((line) => line.variable).reduce((sum, line) => sum + line.monthlyUsd, 0);
  return { monthly, fixed: monthly - variable, perMillionVariable: (variable / clientRequestsPerMonth) * 1e6 };
}

const usd = (n: number) => `$${n.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;

/** The cost table as Markdown (what `npm run cost` prints and docs/COSTS.md shows). */
export function renderCostTable(traffic: Traffic, prices: Prices): string[] {
  const lines = monthlyCost(traffic, prices);
  const clientRequests = traffic.requestsPerMinute * 60 * prices.hoursPerMonth;
  const sum = totals(lines, clientRequests);
  return [
    `${traffic.requestsPerMinute.toLocaleString("en-US")} requests/minute = ${fmt(clientRequests)} requests/month (${prices.hoursPerMonth} h), ${traffic.regions} regions, ${Math.round(traffic.writeShare * 100)}% writes. On paper: list prices for ${prices.region} as of ${prices.asOf} (${path.relative(process.cwd(), PRICES_FILE)}), free tiers left out.`,
    "",
    "| service | item | quantity / month | USD / month | USD per 1 M requests |",
    "|---|---|---|---|---|",
    ...lines.map(
      (line) =>
        `| ${line.service} | ${line.item} | ${line.quantity} | ${usd(line.monthlyUsd)} | ${line.variable ? usd((line.monthlyUsd / clientRequests) * 1e6) : "fixed"} |`,
    ),
    `| **total** | | | **${usd(sum.monthly)}** | **${usd(sum.perMillionVariable)}** + fixed |`,
    "",
    `Per 1 M client requests: **${usd(sum.perMillionVariable)}** of traffic-driven cost, plus ${usd(sum.fixed)} a month of fixed charges (health checks, hosted zone, alarms, the monitoring instances).`,
  ];
}

/** A memory size's derived billed duration and Lambda cost per million writes. */
export interface MemoryOption {
  memoryMb: number;
  billedMs: number;
  usdPerMillionWrites: number;
  /** Leaves MEMORY_HEADROOM over the measured resident memory. */
  fits: boolean;
}

export function memoryOptions(measurements: FunctionMeasurements, prices: Prices): MemoryOption[] {
  const usdPerGbSecond = prices.lambdaArm.gbSecondTiers[0]?.usdPerGbSecond ?? 0;
  return MEMORY_SIZES_MB.map((memoryMb) => {
    const billedMs = billedDurationMs(memoryMb, measurements);
    const gbSeconds = (memoryMb / 1024) * (billedMs / 1000);
    return {
      memoryMb,
      billedMs,
      usdPerMillionWrites: 1e6 * gbSeconds * usdPerGbSecond + prices.lambdaArm.usdPerMillionRequests,
      fits: memoryMb >= measurements.rssMb * MEMORY_HEADROOM,
    };
  });
}

/** The cheapest memory size that fits, or undefined when none does. */
export function cheapestMemory(options: MemoryOption[]): MemoryOption | undefined {
  return options
    .filter((option) => option.fits)
    .reduce<MemoryOption | undefined>(
      (best, option) => (best === undefined || option.usdPerMillionWrites < best.usdPerMillionWrites ? option : best),
      undefined,
    );
}

/** The memory-size comparison as Markdown, for docs/COSTS.md. */
export function renderMemoryTable(measurements: FunctionMeasurements, prices: Prices, chosenMb: number): string[] {
  const options = memoryOptions(measurements, prices);
  const cheapest = cheapestMemory(options);
  return [
    `Billed duration of one write = ${DYNAMODB_LATENCY_MS} ms of DynamoDB (documented bound) + ${measurements.cpuMsPerWrite} ms of CPU measured at one vCPU ÷ the share of a vCPU the size buys, rounded up to a whole ms. The CPU and the resident memory (${measurements.rssMb} MiB) come from \`npm run bench:sizing\`: ${measurements.measured} Arm prices, first tier, on paper.`,
    "",
    `| memory (MB) | share of a vCPU | billed ms per write | Lambda USD per 1 M writes (duration + request) | ≥ ${MEMORY_HEADROOM} × ${measurements.rssMb} MiB |`,
    "|---|---|---|---|---|",
    ...options.map(
      (option) =>
        `| ${option.memoryMb}${option.memoryMb === cheapest?.memoryMb ? " **cheapest that fits**" : ""}${option.memoryMb === chosenMb ? " (the stacks)" : ""} | ${Math.min(1, option.memoryMb / ONE_VCPU_MEMORY_MB).toFixed(2)} | ${option.billedMs} | ${usd(option.usdPerMillionWrites)} | ${option.fits ? "yes" : "no"} |`,
    ),
  ];
}

/**
 * Every generated section of docs/COSTS.md: each stack's bill at its own peak, all month, and the
 * memory-size comparison for prod's memory setting.
 */
export function costSections(
  stacks: string[],
  prices: Prices,
  measurements: FunctionMeasurements,
): Record<string, string[]> {
  const sections: Record<string, string[]> = {};
  for (const stack of stacks) sections[stack] = renderCostTable(trafficFor(stack), prices);
  sections.memory = renderMemoryTable(measurements, prices, loadStack("prod").config.lambdaMemoryMb);
  return sections;
}
