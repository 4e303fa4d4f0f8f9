import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { globalUserData, gzipBase64 } from "../../monitoring/cloud-init.js";
import type { StackConfig } from "../../shared/stack-config.js";
import { monitoringHostAddress } from "../network.js";
import { monitoringHost } from "./monitoring-host.js";
import type { RegionalMonitoring } from "./regional-monitoring.js";

export interface GlobalMonitoringArgs {
  config: StackConfig;
  /** Every region's RegionalMonitoring; the one in `config.monitoringRegion` hosts this instance. */
  regions: { region: string; monitoring: RegionalMonitoring }[];
  /** Grafana's admin password: a Pulumi secret. */
  grafanaAdminPassword: pulumi.Input<string>;
  tags?: Record<string, string>;
}

/**
 * The global Prometheus, Alertmanager and Grafana on one instance in the monitoring region, in
 * that region's monitoring subnet. It federates every regional Prometheus over VPC peering
 * (the blocks come from the stack config and must not overlap), evaluates the alerts, and sends
 * them to an SNS topic. It takes no inbound traffic at all: Grafana is reached through Session
 * Manager port forwarding (docs/DEPLOY.md).
 */
export class GlobalMonitoring extends pulumi.ComponentResource {
  readonly instance: aws.ec2.Instance;
  readonly alertTopic: aws.sns.Topic;
  readonly peerings: aws.ec2.VpcPeeringConnection[] = [];

  constructor(name: string, args: GlobalMonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
    super("calcburst:monitoring:GlobalMonitoring", name, {}, opts);
    const region = args.config.monitoringRegion;
    const parent = { parent: this };
    const tags = { ...args.tags, "calcburst:region": region };
    const home = args.regions.find((one) => one.region === region)?.monitoring;
    if (home === undefined) throw new Error(`monitoringRegion ${region} has no RegionalMonitoring`);

    // Inter-region peering from the monitoring VPC to each other region's, with a route each way
    // between the monitoring subnets' route tables.
    for (const { region: peerRegion, monitoring: peer } of args.regions) {
      if (peerRegion === region) continue;
      const peering = new aws.ec2.VpcPeeringConnection(
        `${name}-peering-${peerRegion}`,
        {
          region,
          vpcId: home.vpc.id,
          peerVpcId: peer.vpc.id,
          peerRegion,
          tags: { ...tags, Name: `${name}-${peerRegion}` },
        },
        parent,
      );
      const accepted = new aws.ec2.VpcPeeringConnectionAccepter(
        `${name}-peering-${peerRegion}-accepter`,
        { region: peerRegion, vpcPeeringConnectionId: peering.id, autoAccept: true, tags },
        parent,
      );
      // A route over a peering that is still pending acceptance is refused; wait for the accepter.
      const routeOptions = { parent: this, dependsOn: [accepted] };
      new aws.ec2.Route(
        `${name}-route-to-${peerRegion}`,
        {
          region,
          routeTableId: home.monitoringRouteTable.id,
          destinationCidrBlock: peer.vpcCidr,
          vpcPeeringConnectionId: peering.id,
        },
        routeOptions,
      );
      new aws.ec2.Route(
        `${name}-route-from-${peerRegion}`,
        {
          region: peerRegion,
          routeTableId: peer.monitoringRouteTable.id,
          destinationCidrBlock: home.vpcCidr,
          vpcPeeringConnectionId: peering.id,
        },
        routeOptions,
      );
      this.peerings.push(peering);
    }

    this.alertTopic = new aws.sns.Topic(`${name}-alerts`, { region, tags }, parent);
    new aws.sns.TopicSubscription(
      `${name}-alerts-email`,
      { region, topic: this.alertTopic.arn, protocol: "email", endpoint: args.config.alertEmail },
      parent,
    );
    const password = new aws.ssm.Parameter(
      `${name}-grafana-admin-password`,
      {
        region,
        type: "SecureString",
        value: pulumi.secret(args.grafanaAdminPassword),
        description: "Grafana's admin password on the global monitoring instance",
        tags,
      },
      parent,
    );

    const securityGroup = new aws.ec2.SecurityGroup(
      `${name}-sg`,
      {
        region,
        vpcId: home.vpc.id,
        description: "Global Prometheus, Alertmanager and Grafana: no inbound; reached through Session Manager",
        egress: [
          {
            protocol: "-1",
            fromPort: 0,
            toPort: 0,
            cidrBlocks: ["0.0.0.0/0"],
            description: "federation, SNS, packages, SSM",
          },
        ],
        tags,
      },
      parent,
    );
    const regionalServers = pulumi.all(
      args.regions.map(({ region: serverRegion, monitoring }) =>
        monitoring.prometheusAddress.apply((address) => ({ region: serverRegion, address })),
      ),
    );
    this.instance = monitoringHost(
      name,
      {
        region,
        subnet: home.monitoringSubnet,
        egress: home.monitoringEgress,
        privateIp: monitoringHostAddress(home.vpcCidr, "globalMonitoring"),
        securityGroupId: securityGroup.id,
        instanceType: args.config.monitoringInstanceType,
        dataVolumeGb: args.config.prometheusVolumeGb,
        policy: pulumi.jsonStringify({
          Version: "2012-10-17",
          Statement: [
            { Sid: "AlertmanagerToSns", Effect: "Allow", Action: ["sns:Publish"], Resource: this.alertTopic.arn },
            { Sid: "GrafanaPassword", Effect: "Allow", Action: ["ssm:GetParameter"], Resource: password.arn },
          ],
        }),
        userData: (dataVolumeId) =>
          pulumi
            .all([regionalServers, this.alertTopic.arn, password.name, dataVolumeId])
            .apply(([servers, topicArn, parameterName, volumeId]) =>
              gzipBase64(
                globalUserData({
                  config: args.config,
                  regionalServers: servers,
                  alertTopicArn: topicArn,
                  grafanaPasswordParameter: parameterName,
                  dataVolumeId: volumeId,
                }),
              ),
            ),
        tags,
      },
      this,
    );

    this.registerOutputs({ instanceId: this.instance.id, alertTopicArn: this.alertTopic.arn });
  }
}
