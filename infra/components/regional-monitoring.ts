import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { gzipBase64, PROMETHEUS_PORT, regionalUserData } from "../../monitoring/cloud-init.js";
import type { StackConfig } from "../../shared/stack-config.js";
import { monitoringHostAddress, SUBNETS, subnetCidr } from "../network.js";
import { monitoringHost } from "./monitoring-host.js";

export interface RegionalMonitoringArgs {
  region: string;
  config: StackConfig;
  /** The region's VPC block, from the stack config; the peered VPCs' blocks must not overlap it. */
  vpcCidr: string;
  /** The global Prometheus's subnet: the one source besides the function allowed to reach Prometheus. */
  globalPrometheusCidr: string;
  /** `https://<region>.api.<domain>/health`, probed as Route 53 probes it. */
  healthUrl: string;
  functionName: string;
  tableName: pulumi.Input<string>;
  tags?: Record<string, string>;
}

/**
 * One region's network and Prometheus: a VPC whose private subnets hold the function, with a
 * DynamoDB gateway endpoint and no NAT (the function talks to nothing else); and a monitoring
 * subnet whose instance runs the regional Prometheus (remote-write receiver), the blackbox
 * exporter and the CloudWatch exporter. That subnet routes out through an internet gateway for
 * packages and Session Manager; its security group admits only the function and the global
 * Prometheus, on 9090.
 */
export class RegionalMonitoring extends pulumi.ComponentResource {
  readonly vpc: aws.ec2.Vpc;
  readonly vpcCidr: string;
  readonly functionSubnetIds: pulumi.Output<string>[];
  readonly functionSecurityGroup: aws.ec2.SecurityGroup;
  readonly monitoringSubnet: aws.ec2.Subnet;
  readonly monitoringRouteTable: aws.ec2.RouteTable;
  /** What an instance in the monitoring subnet needs before it boots: cloud-init installs packages. */
  readonly monitoringEgress: pulumi.Resource[];
  readonly instance: aws.ec2.Instance;
  /** host:port the global Prometheus federates. */
  readonly prometheusAddress: pulumi.Output<string>;
  readonly remoteWriteUrl: pulumi.Output<string>;

  constructor(name: string, args: RegionalMonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
    super("calcburst:monitoring:RegionalMonitoring", name, {}, opts);
    const { region } = args;
    const parent = { parent: this };
    const tags = { ...args.tags, "calcburst:region": region };
    this.vpcCidr = args.vpcCidr;

    this.vpc = new aws.ec2.Vpc(
      `${name}-vpc`,
      {
        region,
        cidrBlock: args.vpcCidr,
        enableDnsHostnames: true,
        enableDnsSupport: true,
        tags: { ...tags, Name: name },
      },
      parent,
    );
    const zones = aws.getAvailabilityZonesOutput({ region, state: "available" }, parent).names;

    // The function's subnets: a route table with no default route, so nothing leaves but DynamoDB.
    const functionRoutes = new aws.ec2.RouteTable(
      `${name}-function-routes`,
      { region, vpcId: this.vpc.id, tags },
      parent,
    );
    const functionSubnets = (["functionA", "functionB"] as const).map((role, zone) => {
      const subnet = new aws.ec2.Subnet(
        `${name}-function-${zone}`,
        {
          region,
          vpcId: this.vpc.id,
          cidrBlock: subnetCidr(args.vpcCidr, SUBNETS[role]),
          availabilityZone: zones.apply((names) => names[zone] ?? names[0] ?? `${region}a`),
          tags: { ...tags, Name: `${name}-function-${zone}` },
        },
        parent,
      );
      new aws.ec2.RouteTableAssociation(
        `${name}-function-${zone}-routes`,
        { region, subnetId: subnet.id, routeTableId: functionRoutes.id },
        parent,
      );
      return subnet;
    });
    this.functionSubnetIds = functionSubnets.map((subnet) => subnet.id);

    const gateway = new aws.ec2.InternetGateway(`${name}-igw`, { region, vpcId: this.vpc.id, tags }, parent);
    // Every route of this table is a Route of its own, the internet route too: GlobalMonitoring adds
    // the peering routes to it, and inline `routes` would own the whole table, deleting those
    // routes on the first update after a refresh.
    this.monitoringRouteTable = new aws.ec2.RouteTable(`${name}-routes`, { region, vpcId: this.vpc.id, tags }, parent);
    const internetRoute = new aws.ec2.Route(
      `${name}-route-to-internet`,
      {
        region,
        routeTableId: this.monitoringRouteTable.id,
        destinationCidrBlock: "0.0.0.0/0",
        gatewayId: gateway.id,
      },
      parent,
    );
    const monitoringZone = zones.apply((names) => names[0] ?? `${region}a`);
    this.monitoringSubnet = new aws.ec2.Subnet(
      `${name}-subnet`,
      {
        region,
        vpcId: this.vpc.id,
        cidrBlock: subnetCidr(args.vpcCidr, SUBNETS.monitoring),
        availabilityZone: monitoringZone,
        tags: { ...tags, Name: `${name}-subnet` },
      },
      parent,
    );
    const subnetRoutes = new aws.ec2.RouteTableAssociation(
      `${name}-subnet-routes`,
      { region, subnetId: this.monitoringSubnet.id, routeTableId: this.monitoringRouteTable.id },
      parent,
    );
    this.monitoringEgress = [internetRoute, subnetRoutes];

    new aws.ec2.VpcEndpoint(
      `${name}-dynamodb`,
      {
        region,
        vpcId: this.vpc.id,
        serviceName: `com.amazonaws.${region}.dynamodb`,
        vpcEndpointType: "Gateway",
        routeTableIds: [functionRoutes.id, this.monitoringRouteTable.id],
        tags,
      },
      parent,
    );

    this.functionSecurityGroup = new aws.ec2.SecurityGroup(
      `${name}-function-sg`,
      {
        region,
        vpcId: this.vpc.id,
        description: "CalcBurst function: no inbound; out to DynamoDB (gateway endpoint) and the regional Prometheus",
        egress: [
          {
            protocol: "-1",
            fromPort: 0,
            toPort: 0,
            cidrBlocks: ["0.0.0.0/0"],
            description: "any (no route but DynamoDB and the VPC)",
          },
        ],
        tags,
      },
      parent,
    );
    const prometheusSecurityGroup = new aws.ec2.SecurityGroup(
      `${name}-prometheus-sg`,
      {
        region,
        vpcId: this.vpc.id,
        description: "Regional Prometheus: remote-write from the function, federation from the global Prometheus",
        ingress: [
          {
            protocol: "tcp",
            fromPort: PROMETHEUS_PORT,
            toPort: PROMETHEUS_PORT,
            securityGroups: [this.functionSecurityGroup.id],
            description: "remote-write from the function",
          },
          {
            protocol: "tcp",
            fromPort: PROMETHEUS_PORT,
            toPort: PROMETHEUS_PORT,
            cidrBlocks: [args.globalPrometheusCidr],
            description: "federation from the global Prometheus (peered VPC)",
          },
        ],
        egress: [
          {
            protocol: "-1",
            fromPort: 0,
            toPort: 0,
            cidrBlocks: ["0.0.0.0/0"],
            description: "packages, SSM, CloudWatch, the health probe",
          },
        ],
        tags,
      },
      parent,
    );

    const prometheusIp = monitoringHostAddress(args.vpcCidr, "regionalPrometheus");
    this.instance = monitoringHost(
      `${name}-prometheus`,
      {
        region,
        subnet: this.monitoringSubnet,
        egress: this.monitoringEgress,
        privateIp: prometheusIp,
        securityGroupId: prometheusSecurityGroup.id,
        instanceType: args.config.monitoringInstanceType,
        dataVolumeGb: args.config.prometheusVolumeGb,
        policy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            {
              Sid: "CloudWatchExporterReads",
              Effect: "Allow",
              Action: ["cloudwatch:GetMetricData", "cloudwatch:ListMetrics", "tag:GetResources"],
              Resource: "*",
            },
          ],
        }),
        userData: (dataVolumeId) =>
          pulumi.all([dataVolumeId, args.tableName]).apply(([volumeId, tableName]) =>
            gzipBase64(
              regionalUserData({
                config: args.config,
                region,
                healthUrl: args.healthUrl,
                functionName: args.functionName,
                tableName,
                dataVolumeId: volumeId,
              }),
            ),
          ),
        tags,
      },
      this,
    );
    // The fixed address, not the instance's output: a replaced instance changes neither the
    // function's environment nor the global Prometheus's user data.
    this.prometheusAddress = pulumi.output(`${prometheusIp}:${PROMETHEUS_PORT}`);
    this.remoteWriteUrl = pulumi.interpolate`http://${this.prometheusAddress}/api/v1/write`;

    this.registerOutputs({
      vpcId: this.vpc.id,
      prometheusAddress: this.prometheusAddress,
      remoteWriteUrl: this.remoteWriteUrl,
    });
  }
}
