import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { TABLE } from "../../shared/table.js";

export interface GlobalTableArgs {
  /** The home region (the table resource) first, then every replica region. */
  regions: string[];
  /**
   * MREC (eventual, last writer wins): the default, and the only mode that allows the item TTL.
   * MRSC (strong): needs exactly three regions, or two plus `witnessRegion`, and no TTL.
   */
  consistency?: "MREC" | "MRSC";
  witnessRegion?: string;
  /** Turn the TTL on `expiresAt` off; MRSC requires it. */
  ttlEnabled?: boolean;
  /**
   * pulumi-aws#1653 reported a `replicas` diff on every preview. Every replica attribute is set
   * explicitly, which is what removes that drift; this switch (ignoreChanges on `replicas`) is
   * the documented fallback for a table imported from elsewhere. See docs/DEPLOY.md.
   */
  ignoreReplicaChanges?: boolean;
  tags?: Record<string, string>;
}

/**
 * The calculations table as a DynamoDB global table (version 2019.11.21): the table in the home
 * region and a replica in every other region, each with point-in-time recovery, encryption at
 * rest under the AWS-owned key, deletion protection and the stream the contract in shared/table.ts
 * asks for.
 */
export class GlobalTable extends pulumi.ComponentResource {
  readonly table: aws.dynamodb.Table;
  readonly name: pulumi.Output<string>;
  readonly homeRegion: string;

  constructor(name: string, args: GlobalTableArgs, opts?: pulumi.ComponentResourceOptions) {
    super("calcburst:data:GlobalTable", name, {}, opts);
    const [homeRegion, ...replicaRegions] = args.regions;
    if (homeRegion === undefined || replicaRegions.length === 0) {
      throw new Error("GlobalTable needs at least two regions: the home region and one replica");
    }
    const consistency = args.consistency ?? "MREC";
    const ttlEnabled = args.ttlEnabled ?? true;
    if (consistency === "MRSC") {
      if (ttlEnabled) {
        throw new Error("GlobalTable: MRSC cannot be combined with the TTL (AWS supports no TTL on MRSC tables)");
      }
      const witnessed = args.witnessRegion !== undefined;
      if (!(args.regions.length === 3 && !witnessed) && !(args.regions.length === 2 && witnessed)) {
        throw new Error("GlobalTable: MRSC needs exactly three regions, or two regions and a witnessRegion");
      }
    }
    this.homeRegion = homeRegion;

    this.table = new aws.dynamodb.Table(
      `${name}-table`,
      {
        region: homeRegion,
        billingMode: "PAY_PER_REQUEST",
        hashKey: TABLE.partitionKey,
        attributes: [{ name: TABLE.partitionKey, type: "S" }],
        streamEnabled: true,
        streamViewType: TABLE.streamViewType,
        ttl: { attributeName: TABLE.ttlAttribute, enabled: ttlEnabled },
        // DynamoDB encrypts every table at rest. `enabled: false` picks the AWS-owned key (no charge);
        // `true` without a key would pick the AWS-managed key, which KMS charges for
        // (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_SSESpecification.html).
        serverSideEncryption: { enabled: false },
        pointInTimeRecovery: { enabled: true },
        deletionProtectionEnabled: true,
        replicas: replicaRegions.map((regionName) => ({
          regionName,
          pointInTimeRecovery: true,
          propagateTags: true,
          deletionProtectionEnabled: true,
          ...(consistency === "MRSC" && { consistencyMode: "STRONG" }),
        })),
        ...(consistency === "MRSC" &&
          args.witnessRegion !== undefined && { globalTableWitness: { regionName: args.witnessRegion } }),
        tags: { ...args.tags, "calcburst:component": "GlobalTable" },
      },
      { parent: this, ...(args.ignoreReplicaChanges === true && { ignoreChanges: ["replicas"] }) },
    );
    this.name = this.table.name;
    this.registerOutputs({ name: this.name, arn: this.table.arn });
  }

  /** The ARN of the table's replica in `region`: the same table name, that region. */
  replicaArn(region: string): pulumi.Output<string> {
    // `?? ""`: a mock that fakes no ARN still runs the program.
    return this.table.arn.apply((arn) => (arn ?? "").replace(/^(arn:[^:]+:dynamodb:)[^:]+(:.*)$/, `$1${region}$2`));
  }
}
