import { gunzipSync } from "node:zlib";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { parseStackConfig } from "../../shared/stack-config.js";
import { readStackValues } from "../../shared/stack-file.js";
import type { ProgramRun, RecordedResource } from "../mock-runtime.js";
import { monitoringSubnetCidr } from "../network.js";
import { named, ofType, PROGRAM_RUN_DEADLINE_MS, runProgram, TEST_GRAFANA_PASSWORD } from "./support/program.js";

const { values } = readStackValues("prod");
/** How the Pulumi engine marks a secret in a resource's inputs (sdk/nodejs/runtime/rpc.ts). */
const SECRET_SIGNATURE_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIGNATURE = "1b47061264138c4ac30d75fd1eb44270";
const config = parseStackConfig(values);
const REGIONS = config.regions;

interface CloudConfig {
  packages: string[];
  write_files: { path: string; content: string }[];
  runcmd: string[];
}

function cloudConfigOf(instance: RecordedResource): CloudConfig {
  const text = gunzipSync(Buffer.from(String(instance.inputs.userDataBase64), "base64")).toString("utf8");
  expect(text.startsWith("#cloud-config\n")).toBe(true);
  return parse(text) as CloudConfig;
}

const fileIn = (cloudConfig: CloudConfig, path: string) =>
  cloudConfig.write_files.find((file) => file.path === path)?.content ?? "";

describe("the monitoring resources of Pulumi.prod.yaml", () => {
  let run: ProgramRun;

  beforeAll(async () => {
    run = await runProgram(values);
  }, PROGRAM_RUN_DEADLINE_MS);

  it.each(REGIONS)("gives %s a VPC with private function subnets, a DynamoDB gateway endpoint and no NAT", (region) => {
    // Prepare
    const prefix = `calcburst-${region}-monitoring`;

    // Assess
    expect(named(run, "aws:ec2/vpc:Vpc", `${prefix}-vpc`).inputs).toMatchObject({
      region,
      cidrBlock: config.vpcCidrs[region],
    });
    const endpoint = named(run, "aws:ec2/vpcEndpoint:VpcEndpoint", `${prefix}-dynamodb`).inputs;
    expect(endpoint).toMatchObject({
      region,
      serviceName: `com.amazonaws.${region}.dynamodb`,
      vpcEndpointType: "Gateway",
    });
    const functionRoutes = named(run, "aws:ec2/routeTable:RouteTable", `${prefix}-function-routes`).inputs;
    expect(functionRoutes.routes ?? []).toEqual([]);
    expect(endpoint.routeTableIds).toContain(`${prefix}-function-routes-id`);
    expect(ofType(run, "aws:ec2/natGateway:NatGateway")).toEqual([]);

    const fn = named(run, "aws:lambda/function:Function", `calcburst-${region}-function`).inputs;
    expect(fn.vpcConfig).toEqual({
      subnetIds: [`${prefix}-function-0-id`, `${prefix}-function-1-id`],
      securityGroupIds: [`${prefix}-function-sg-id`],
    });
    const instance = named(run, "aws:ec2/instance:Instance", `${prefix}-prometheus-instance`);
    const variables = (fn.environment as { variables: Record<string, string> }).variables;
    expect(variables.CALCBURST_REMOTE_WRITE_URL).toBe(`http://${instance.state.privateIp}:9090/api/v1/write`);
    expect(fn.name).toBe(`calcburst-prod-${region}`);
  });

  it.each(REGIONS)(
    "runs the regional Prometheus of %s on a hardened instance only the function and the global one reach",
    (region) => {
      // Prepare
      const prefix = `calcburst-${region}-monitoring`;
      const instance = named(run, "aws:ec2/instance:Instance", `${prefix}-prometheus-instance`);

      // Assess: reachable on 9090 from the function's group and the global Prometheus's subnet only.
      const group = named(run, "aws:ec2/securityGroup:SecurityGroup", `${prefix}-prometheus-sg`).inputs;
      expect(group.ingress).toEqual([
        expect.objectContaining({ fromPort: 9090, toPort: 9090, securityGroups: [`${prefix}-function-sg-id`] }),
        expect.objectContaining({
          fromPort: 9090,
          toPort: 9090,
          cidrBlocks: [monitoringSubnetCidr(config.vpcCidrs[config.monitoringRegion] ?? "")],
        }),
      ]);
      expect(instance.inputs).toMatchObject({
        region,
        ami: `ami-debian-12-arm64-${region}`,
        instanceType: config.monitoringInstanceType,
        vpcSecurityGroupIds: [`${prefix}-prometheus-sg-id`],
        metadataOptions: { httpTokens: "required" },
        rootBlockDevice: { encrypted: true },
      });
      expect(named(run, "aws:ebs/volume:Volume", `${prefix}-prometheus-data`).inputs).toMatchObject({
        region,
        encrypted: true,
        size: config.prometheusVolumeGb,
      });
      expect(
        named(run, "aws:ec2/volumeAttachment:VolumeAttachment", `${prefix}-prometheus-data-attachment`).inputs,
      ).toMatchObject({
        volumeId: `${prefix}-prometheus-data-id`,
        instanceId: `${prefix}-prometheus-instance-id`,
      });

      // Assess: cloud-init installs Debian's Prometheus with the rendered config and rules.
      const cloudConfig = cloudConfigOf(instance);
      expect(cloudConfig.packages).toEqual(expect.arrayContaining(["prometheus", "prometheus-blackbox-exporter"]));
      const prometheus = parse(fileIn(cloudConfig, "/etc/prometheus/prometheus.yml")) as {
        global: { external_labels: Record<string, string> };
        rule_files: string[];
        scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
      };
      expect(prometheus.global.external_labels).toEqual({ region });
      expect(prometheus.rule_files).toEqual([
        "/etc/prometheus/rules/regional.rules.yml",
        "/etc/prometheus/rules/platform-aws.rules.yml",
      ]);
      const health = prometheus.scrape_configs.find((job) => job.job_name === "calcburst-health");
      expect(health?.static_configs[0]?.targets).toEqual([`https://${region}.api.${config.domain}/health`]);
      expect(fileIn(cloudConfig, "/etc/default/prometheus")).toContain("--web.enable-remote-write-receiver");
      expect(fileIn(cloudConfig, "/etc/prometheus/rules/regional.rules.yml")).toContain(
        "record: region:calcburst_requests:rate5m",
      );
      expect(fileIn(cloudConfig, "/etc/yace/config.yml")).toContain(`value: calcburst-prod-${region}`);
      const yace = parse(fileIn(cloudConfig, "/etc/yace/config.yml")) as {
        static: { dimensions: { name: string; value: string }[] }[];
      };
      const receiving = yace.static.flatMap((job) =>
        job.dimensions.filter((dimension) => dimension.name === "ReceivingRegion").map(({ value }) => value),
      );
      expect(receiving).toEqual(REGIONS.filter((other) => other !== region));
      expect(cloudConfig.runcmd[0]).toBe("/usr/local/sbin/calcburst-data-volume");
      expect(fileIn(cloudConfig, "/usr/local/sbin/calcburst-data-volume")).toContain(
        `nvme-Amazon_Elastic_Block_Store_${`${prefix}-prometheus-data-id`.replace("-", "")}`,
      );
    },
  );

  it("federates every region from one instance in the monitoring region, over VPC peering", () => {
    // Prepare
    const home = config.monitoringRegion;
    const instance = named(run, "aws:ec2/instance:Instance", "calcburst-global-monitoring-instance");

    // Assess: peering and routes both ways to every other region.
    for (const peer of REGIONS.filter((region) => region !== home)) {
      expect(
        named(run, "aws:ec2/vpcPeeringConnection:VpcPeeringConnection", `calcburst-global-monitoring-peering-${peer}`)
          .inputs,
      ).toMatchObject({
        region: home,
        peerRegion: peer,
        vpcId: `calcburst-${home}-monitoring-vpc-id`,
        peerVpcId: `calcburst-${peer}-monitoring-vpc-id`,
      });
      expect(
        named(
          run,
          "aws:ec2/vpcPeeringConnectionAccepter:VpcPeeringConnectionAccepter",
          `calcburst-global-monitoring-peering-${peer}-accepter`,
        ).inputs,
      ).toMatchObject({ region: peer, autoAccept: true });
      expect(named(run, "aws:ec2/route:Route", `calcburst-global-monitoring-route-to-${peer}`).inputs).toMatchObject({
        region: home,
        destinationCidrBlock: config.vpcCidrs[peer],
      });
      expect(named(run, "aws:ec2/route:Route", `calcburst-global-monitoring-route-from-${peer}`).inputs).toMatchObject({
        region: peer,
        destinationCidrBlock: config.vpcCidrs[home],
      });
    }
    expect(instance.inputs).toMatchObject({
      region: home,
      subnetId: `calcburst-${home}-monitoring-subnet-id`,
      metadataOptions: { httpTokens: "required" },
      rootBlockDevice: { encrypted: true },
    });

    // Assess: the global Prometheus federates each regional server's private address.
    const cloudConfig = cloudConfigOf(instance);
    const prometheus = parse(fileIn(cloudConfig, "/etc/prometheus/prometheus.yml")) as {
      scrape_configs: { job_name: string; static_configs: { targets: string[]; labels: { region: string } }[] }[];
    };
    const federate = prometheus.scrape_configs.find((job) => job.job_name === "federate");
    expect(federate?.static_configs.map((target) => target.labels.region)).toEqual(REGIONS);
    for (const target of federate?.static_configs ?? []) {
      const regional = named(
        run,
        "aws:ec2/instance:Instance",
        `calcburst-${target.labels.region}-monitoring-prometheus-instance`,
      );
      expect(target.targets).toEqual([`${regional.state.privateIp}:9090`]);
    }
    expect(cloudConfig.packages).toEqual(expect.arrayContaining(["prometheus", "prometheus-alertmanager"]));
    expect(cloudConfig.runcmd.join("\n")).toContain("apt-get install -y -q grafana");
    expect(fileIn(cloudConfig, "/etc/grafana/dashboards/calcburst-global.json")).toContain('"uid":"calcburst-global"');
    expect(fileIn(cloudConfig, "/etc/grafana/provisioning/datasources/calcburst.yaml")).toContain(
      "url: http://127.0.0.1:9090",
    );
  });

  it("adds the routes over each peering only once the peer region has accepted it", () => {
    for (const peer of REGIONS.filter((region) => region !== config.monitoringRegion)) {
      const accepter = named(
        run,
        "aws:ec2/vpcPeeringConnectionAccepter:VpcPeeringConnectionAccepter",
        `calcburst-global-monitoring-peering-${peer}-accepter`,
      );
      for (const direction of ["to", "from"]) {
        const route = named(run, "aws:ec2/route:Route", `calcburst-global-monitoring-route-${direction}-${peer}`);
        expect(route.options.dependencies, `route ${direction} ${peer}`).toContain(accepter.urn);
      }
    }
  });

  it("sends alerts to an SNS topic and keeps Grafana's admin password a secret outside the user data", () => {
    // Prepare
    const instance = named(run, "aws:ec2/instance:Instance", "calcburst-global-monitoring-instance");
    const cloudConfig = cloudConfigOf(instance);
    const topic = named(run, "aws:sns/topic:Topic", "calcburst-global-monitoring-alerts");

    // Assess
    const alertmanager = fileIn(cloudConfig, "/etc/prometheus/alertmanager.yml");
    expect(alertmanager).toContain(`topic_arn: ${topic.state.arn}`);
    const password = named(run, "aws:ssm/parameter:Parameter", "calcburst-global-monitoring-grafana-admin-password");
    expect(password.inputs).toMatchObject({ region: config.monitoringRegion, type: "SecureString" });
    // The engine's marker of a secret value wraps the password.
    expect(password.inputs.value).toEqual({ [SECRET_SIGNATURE_KEY]: SECRET_SIGNATURE, value: TEST_GRAFANA_PASSWORD });
    expect(JSON.stringify(instance.inputs)).not.toContain(TEST_GRAFANA_PASSWORD);
    expect(gunzipSync(Buffer.from(String(instance.inputs.userDataBase64), "base64")).toString()).not.toContain(
      TEST_GRAFANA_PASSWORD,
    );
    const policy = JSON.parse(
      String(named(run, "aws:iam/rolePolicy:RolePolicy", "calcburst-global-monitoring-policy").inputs.policy),
    ) as {
      Statement: { Action: string[]; Resource: string }[];
    };
    expect(policy.Statement.map((statement) => [statement.Action, statement.Resource])).toEqual([
      [["sns:Publish"], topic.state.arn],
      [["ssm:GetParameter"], password.state.arn],
    ]);
  });

  it("admits nothing to the global instance: Grafana is reached through Session Manager", () => {
    const group = named(run, "aws:ec2/securityGroup:SecurityGroup", "calcburst-global-monitoring-sg").inputs;
    expect(group.ingress ?? []).toEqual([]);
    const attachments = ofType(run, "aws:iam/rolePolicyAttachment:RolePolicyAttachment").map(
      (one) => one.inputs.policyArn,
    );
    expect(attachments.filter((arn) => arn === "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore")).toHaveLength(
      REGIONS.length + 1,
    );
  });

  it("looks up the Debian 12 arm64 image and the zones in every region, and nothing else", () => {
    const lookups = run.calls.map((call) => `${call.token} ${String(call.inputs.region)}`);
    for (const region of REGIONS) {
      expect(lookups).toContain(`aws:ec2/getAmi:getAmi ${region}`);
      expect(lookups).toContain(`aws:index/getAvailabilityZones:getAvailabilityZones ${region}`);
    }
    const ami = run.calls.find((call) => call.token === "aws:ec2/getAmi:getAmi")?.inputs;
    expect(ami).toMatchObject({ owners: ["136693071363"], mostRecent: true });
  });
});
