import * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import { assumableBy } from "../iam.js";

/** Debian's own AWS account, which publishes the official Debian AMIs. */
export const DEBIAN_AMI_OWNER = "136693071363";
export const DEBIAN_AMI_NAME = "debian-12-arm64-*";

/** Session Manager is the way in: no SSH key, no open port. */
export const SSM_MANAGED_POLICY = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore";

/** A Debian 12 arm64 image: the distribution whose prometheus packages the local cloud runs too. */
export function debianAmi(region: string, parent: pulumi.Resource): pulumi.Output<string> {
  return aws.ec2
    .getAmiOutput(
      {
        region,
        owners: [DEBIAN_AMI_OWNER],
        mostRecent: true,
        filters: [
          { name: "name", values: [DEBIAN_AMI_NAME] },
          { name: "architecture", values: ["arm64"] },
        ],
      },
      { parent },
    )
    .apply((image) => image.id);
}

export interface MonitoringHostArgs {
  region: string;
  subnet: aws.ec2.Subnet;
  /** The subnet's route out and its association: cloud-init's package installs need them at first boot. */
  egress: pulumi.Resource[];
  /** A fixed address in the subnet: a replaced instance comes back at the same one. */
  privateIp: string;
  securityGroupId: pulumi.Input<string>;
  instanceType: string;
  dataVolumeGb: number;
  /** The instance role's own permissions, beside Session Manager's. */
  policy: pulumi.Input<string>;
  /** cloud-init, gzipped and base64-encoded, given the data volume's id. */
  userData: (dataVolumeId: pulumi.Output<string>) => pulumi.Input<string>;
  tags: Record<string, string>;
}

/**
 * One monitoring instance as both monitoring components run it: Debian 12 arm64 with IMDSv2 only
 * and an encrypted root, a role with Session Manager plus its own policy, and an encrypted gp3
 * data volume that outlives the instance. Children are named `${prefix}-…` under `parent`.
 *
 * cloud-init runs once per instance, so a change of rules or config replaces the instance. The
 * data volume attaches to one instance at a time: the old instance and its attachment are deleted
 * before the new ones are created (Pulumi's default is the other way round, which fails with
 * VolumeInUse), and the fixed address keeps everything that points at the instance unchanged.
 */
export function monitoringHost(prefix: string, args: MonitoringHostArgs, parent: pulumi.Resource): aws.ec2.Instance {
  const { region, tags } = args;
  const opts = { parent };
  const role = new aws.iam.Role(`${prefix}-role`, { assumeRolePolicy: assumableBy("ec2.amazonaws.com"), tags }, opts);
  new aws.iam.RolePolicyAttachment(`${prefix}-ssm`, { role: role.name, policyArn: SSM_MANAGED_POLICY }, opts);
  new aws.iam.RolePolicy(`${prefix}-policy`, { role: role.id, policy: args.policy }, opts);
  const profile = new aws.iam.InstanceProfile(`${prefix}-profile`, { role: role.name, tags }, opts);
  const data = new aws.ebs.Volume(
    `${prefix}-data`,
    {
      region,
      availabilityZone: args.subnet.availabilityZone,
      size: args.dataVolumeGb,
      type: "gp3",
      encrypted: true,
      tags: { ...tags, Name: `${prefix}-data` },
    },
    opts,
  );
  const instance = new aws.ec2.Instance(
    `${prefix}-instance`,
    {
      region,
      ami: debianAmi(region, parent),
      instanceType: args.instanceType,
      subnetId: args.subnet.id,
      privateIp: args.privateIp,
      vpcSecurityGroupIds: [args.securityGroupId],
      // Out through the internet gateway only; the security group admits nothing from outside.
      associatePublicIpAddress: true,
      iamInstanceProfile: profile.name,
      userDataBase64: args.userData(data.id),
      userDataReplaceOnChange: true,
      metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1 },
      rootBlockDevice: { encrypted: true, volumeType: "gp3", volumeSize: 8 },
      tags: { ...tags, Name: prefix },
    },
    // A newer Debian image must not replace a running Prometheus on the next `pulumi up`.
    { parent, ignoreChanges: ["ami"], deleteBeforeReplace: true, dependsOn: args.egress },
  );
  new aws.ec2.VolumeAttachment(
    `${prefix}-data-attachment`,
    // Stopped first, so the TSDB is flushed and unmounted before the volume moves.
    { region, deviceName: "/dev/sdf", volumeId: data.id, instanceId: instance.id, stopInstanceBeforeDetaching: true },
    { parent, deleteBeforeReplace: true },
  );
  return instance;
}
