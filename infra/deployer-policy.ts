/**
 * The IAM policy of the identity that runs `pulumi up` (infra/deployer-policy.json, written by
 * `npm run plan`): for each resource type the program creates, and each lookup it makes, the
 * actions the provider calls to create, read, update, tag and delete it, scoped to the names the
 * program gives where AWS can scope them. Derived from the provider's and AWS's documented calls
 * and tested against the types the program registers (infra/test/deployer-policy.test.ts); it has
 * not been exercised against AWS from here (docs/DEPLOY.md#the-deploying-identity).
 */

interface PermissionSet {
  actions: string[];
  resources: string[];
  condition?: Record<string, Record<string, string | string[]>>;
}

/** Names the program gives: its logical names (Pulumi appends a random suffix) all start so. */
const OWN = "calcburst-*";

/** The item actions DynamoDB requires of whoever adds a replica to a global table (version 2019.11.21). */
export const REPLICA_SEEDING_ACTIONS = [
  "dynamodb:Scan",
  "dynamodb:Query",
  "dynamodb:GetItem",
  "dynamodb:PutItem",
  "dynamodb:UpdateItem",
  "dynamodb:DeleteItem",
  "dynamodb:BatchWriteItem",
] as const;

/** The permission sets, by statement id. */
export const PERMISSION_SETS = {
  Tables: {
    actions: [
      "dynamodb:CreateTable",
      "dynamodb:DescribeTable",
      "dynamodb:UpdateTable",
      "dynamodb:DeleteTable",
      "dynamodb:CreateTableReplica",
      "dynamodb:DeleteTableReplica",
      "dynamodb:DescribeContinuousBackups",
      "dynamodb:UpdateContinuousBackups",
      "dynamodb:DescribeTimeToLive",
      "dynamodb:UpdateTimeToLive",
      "dynamodb:ListTagsOfResource",
      "dynamodb:TagResource",
      "dynamodb:UntagResource",
    ],
    resources: ["arn:aws:dynamodb:*:*:table/calculations-table-*"],
  },
  ReplicaSeeding: {
    // Adding a replica (the first deploy, or a region added later) copies the table's items into
    // it, and DynamoDB checks these item actions of the caller in the new replica's region
    // (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/V2gt_IAM.html). Apart
    // from Tables, so the pull-request preview role, which gets the reads of the rest, never
    // reads an item.
    actions: [...REPLICA_SEEDING_ACTIONS],
    resources: ["arn:aws:dynamodb:*:*:table/calculations-table-*"],
  },
  ServiceLinkedRoles: {
    // Global table replication and API Gateway's custom domains each need their service's role once per account.
    actions: ["iam:CreateServiceLinkedRole"],
    resources: ["*"],
    condition: {
      StringEquals: { "iam:AWSServiceName": ["replication.dynamodb.amazonaws.com", "ops.apigateway.amazonaws.com"] },
    },
  },
  Roles: {
    actions: [
      "iam:CreateRole",
      "iam:GetRole",
      "iam:UpdateAssumeRolePolicy",
      "iam:DeleteRole",
      "iam:TagRole",
      "iam:UntagRole",
      "iam:ListRolePolicies",
      "iam:ListAttachedRolePolicies",
      "iam:ListInstanceProfilesForRole",
    ],
    resources: [`arn:aws:iam::*:role/${OWN}`],
  },
  RolePolicies: {
    actions: ["iam:PutRolePolicy", "iam:GetRolePolicy", "iam:DeleteRolePolicy"],
    resources: [`arn:aws:iam::*:role/${OWN}`],
  },
  SessionManagerPolicy: {
    actions: ["iam:AttachRolePolicy", "iam:DetachRolePolicy"],
    resources: [`arn:aws:iam::*:role/${OWN}`],
    condition: { ArnEquals: { "iam:PolicyARN": "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore" } },
  },
  InstanceProfiles: {
    actions: [
      "iam:CreateInstanceProfile",
      "iam:GetInstanceProfile",
      "iam:DeleteInstanceProfile",
      "iam:AddRoleToInstanceProfile",
      "iam:RemoveRoleFromInstanceProfile",
      "iam:TagInstanceProfile",
      "iam:UntagInstanceProfile",
    ],
    resources: [`arn:aws:iam::*:instance-profile/${OWN}`],
  },
  PassRoles: {
    actions: ["iam:PassRole"],
    resources: [`arn:aws:iam::*:role/${OWN}`],
    condition: {
      StringEquals: {
        "iam:PassedToService": ["lambda.amazonaws.com", "ec2.amazonaws.com", "codedeploy.amazonaws.com"],
      },
    },
  },
  Functions: {
    actions: [
      "lambda:CreateFunction",
      "lambda:GetFunction",
      "lambda:GetFunctionConfiguration",
      "lambda:GetFunctionCodeSigningConfig",
      "lambda:ListVersionsByFunction",
      "lambda:UpdateFunctionCode",
      "lambda:UpdateFunctionConfiguration",
      "lambda:PutFunctionConcurrency",
      "lambda:DeleteFunctionConcurrency",
      "lambda:DeleteFunction",
      "lambda:ListTags",
      "lambda:TagResource",
      "lambda:UntagResource",
      "lambda:AddPermission",
      "lambda:RemovePermission",
      "lambda:GetPolicy",
      // publish: true, and the live alias Pulumi creates once (a release moves it: ReleaseRole in infra/bootstrap).
      "lambda:PublishVersion",
      "lambda:CreateAlias",
      "lambda:GetAlias",
      "lambda:DeleteAlias",
    ],
    // The function, its versions and its alias (`…:live`).
    resources: [`arn:aws:lambda:*:*:function:${OWN}`, `arn:aws:lambda:*:*:function:${OWN}:*`],
  },
  CodeDeploy: {
    actions: [
      "codedeploy:CreateApplication",
      "codedeploy:GetApplication",
      "codedeploy:DeleteApplication",
      "codedeploy:CreateDeploymentGroup",
      "codedeploy:GetDeploymentGroup",
      "codedeploy:UpdateDeploymentGroup",
      "codedeploy:DeleteDeploymentGroup",
      "codedeploy:ListTagsForResource",
      "codedeploy:TagResource",
      "codedeploy:UntagResource",
    ],
    resources: [`arn:aws:codedeploy:*:*:application:${OWN}`, `arn:aws:codedeploy:*:*:deploymentgroup:${OWN}/*`],
  },
  HttpApis: {
    // API Gateway's IAM actions are the HTTP verbs on its resource paths.
    actions: ["apigateway:GET", "apigateway:POST", "apigateway:PUT", "apigateway:PATCH", "apigateway:DELETE"],
    resources: [
      "arn:aws:apigateway:*::/apis",
      "arn:aws:apigateway:*::/apis/*",
      "arn:aws:apigateway:*::/domainnames",
      "arn:aws:apigateway:*::/domainnames/*",
      "arn:aws:apigateway:*::/tags/*",
    ],
  },
  AccessLogDelivery: {
    // What enabling an HTTP API's access logs needs; CloudWatch Logs scopes none of it
    // (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-logging.html).
    actions: [
      "logs:CreateLogDelivery",
      "logs:GetLogDelivery",
      "logs:UpdateLogDelivery",
      "logs:DeleteLogDelivery",
      "logs:ListLogDeliveries",
      "logs:PutResourcePolicy",
      "logs:DescribeResourcePolicies",
    ],
    resources: ["*"],
  },
  LogGroups: {
    actions: [
      "logs:CreateLogGroup",
      "logs:DeleteLogGroup",
      "logs:PutRetentionPolicy",
      "logs:DeleteRetentionPolicy",
      "logs:ListTagsForResource",
      "logs:TagResource",
      "logs:UntagResource",
    ],
    resources: ["arn:aws:logs:*:*:log-group:/calcburst/*"],
  },
  LogGroupLookups: {
    actions: ["logs:DescribeLogGroups"],
    resources: ["arn:aws:logs:*:*:log-group:*"],
  },
  Certificates: {
    // A certificate's ARN is a random id, known only after it is requested.
    actions: [
      "acm:RequestCertificate",
      "acm:DescribeCertificate",
      "acm:DeleteCertificate",
      "acm:ListTagsForCertificate",
      "acm:AddTagsToCertificate",
      "acm:RemoveTagsFromCertificate",
    ],
    resources: ["*"],
  },
  ApiRecords: {
    actions: ["route53:ChangeResourceRecordSets"],
    resources: ["arn:aws:route53:::hostedzone/*"],
    // Only the API's names and their ACM validation records: api.<domain>, <region>.api.<domain>.
    condition: {
      "ForAllValues:StringLike": { "route53:ChangeResourceRecordSetsNormalizedRecordNames": ["api.*", "*.api.*"] },
    },
  },
  ZoneReads: {
    actions: ["route53:GetHostedZone", "route53:ListResourceRecordSets", "route53:GetChange"],
    resources: ["arn:aws:route53:::hostedzone/*", "arn:aws:route53:::change/*"],
  },
  HealthChecks: {
    // A health check's id is random too.
    actions: [
      "route53:CreateHealthCheck",
      "route53:GetHealthCheck",
      "route53:UpdateHealthCheck",
      "route53:DeleteHealthCheck",
      "route53:ListTagsForResource",
      "route53:ChangeTagsForResource",
    ],
    resources: ["*"],
  },
  Alarms: {
    actions: [
      "cloudwatch:PutMetricAlarm",
      "cloudwatch:DescribeAlarms",
      "cloudwatch:DeleteAlarms",
      "cloudwatch:ListTagsForResource",
      "cloudwatch:TagResource",
      "cloudwatch:UntagResource",
    ],
    resources: [`arn:aws:cloudwatch:*:*:alarm:${OWN}`],
  },
  Topics: {
    actions: [
      "sns:CreateTopic",
      "sns:GetTopicAttributes",
      "sns:SetTopicAttributes",
      "sns:DeleteTopic",
      "sns:ListTagsForResource",
      "sns:TagResource",
      "sns:UntagResource",
      "sns:Subscribe",
    ],
    resources: [`arn:aws:sns:*:*:${OWN}`],
  },
  Subscriptions: {
    actions: ["sns:GetSubscriptionAttributes", "sns:SetSubscriptionAttributes", "sns:Unsubscribe"],
    resources: [`arn:aws:sns:*:*:${OWN}:*`],
  },
  Parameters: {
    actions: [
      "ssm:PutParameter",
      "ssm:GetParameter",
      "ssm:GetParameters",
      "ssm:DeleteParameter",
      "ssm:ListTagsForResource",
      "ssm:AddTagsToResource",
      "ssm:RemoveTagsFromResource",
    ],
    resources: [`arn:aws:ssm:*:*:parameter/${OWN}`],
  },
  ParameterLookups: {
    actions: ["ssm:DescribeParameters"],
    resources: ["*"],
  },
  Networks: {
    // EC2 ids are random; the Describe actions take no resource at all.
    actions: [
      "ec2:CreateVpc",
      "ec2:DeleteVpc",
      "ec2:ModifyVpcAttribute",
      "ec2:CreateSubnet",
      "ec2:DeleteSubnet",
      "ec2:ModifySubnetAttribute",
      "ec2:CreateRouteTable",
      "ec2:DeleteRouteTable",
      "ec2:AssociateRouteTable",
      "ec2:DisassociateRouteTable",
      "ec2:CreateRoute",
      "ec2:ReplaceRoute",
      "ec2:DeleteRoute",
      "ec2:CreateInternetGateway",
      "ec2:DeleteInternetGateway",
      "ec2:AttachInternetGateway",
      "ec2:DetachInternetGateway",
      "ec2:CreateVpcEndpoint",
      "ec2:ModifyVpcEndpoint",
      "ec2:DeleteVpcEndpoints",
      "ec2:CreateSecurityGroup",
      "ec2:DeleteSecurityGroup",
      "ec2:AuthorizeSecurityGroupIngress",
      "ec2:AuthorizeSecurityGroupEgress",
      "ec2:RevokeSecurityGroupIngress",
      "ec2:RevokeSecurityGroupEgress",
      "ec2:CreateTags",
      "ec2:DeleteTags",
      "ec2:Describe*",
    ],
    resources: ["*"],
  },
  Peerings: {
    actions: [
      "ec2:CreateVpcPeeringConnection",
      "ec2:AcceptVpcPeeringConnection",
      "ec2:ModifyVpcPeeringConnectionOptions",
      "ec2:DeleteVpcPeeringConnection",
    ],
    resources: ["*"],
  },
  Instances: {
    actions: [
      "ec2:RunInstances",
      "ec2:TerminateInstances",
      "ec2:StopInstances",
      "ec2:StartInstances",
      "ec2:ModifyInstanceAttribute",
      "ec2:ModifyInstanceMetadataOptions",
      "ec2:AssociateIamInstanceProfile",
      "ec2:DisassociateIamInstanceProfile",
    ],
    resources: ["*"],
  },
  Volumes: {
    actions: ["ec2:CreateVolume", "ec2:ModifyVolume", "ec2:DeleteVolume", "ec2:AttachVolume", "ec2:DetachVolume"],
    resources: ["*"],
  },
  Quotas: {
    actions: ["servicequotas:GetServiceQuota", "servicequotas:GetAWSDefaultServiceQuota"],
    resources: ["*"],
  },
} satisfies Record<string, PermissionSet>;

export type PermissionSetName = keyof typeof PERMISSION_SETS;

/** What each resource type the program creates, and each lookup it makes, needs. */
export const PERMISSIONS_BY_TYPE: Record<string, PermissionSetName[]> = {
  "aws:dynamodb/table:Table": ["Tables", "ReplicaSeeding", "ServiceLinkedRoles"],
  "aws:iam/role:Role": ["Roles"],
  "aws:iam/rolePolicy:RolePolicy": ["RolePolicies"],
  "aws:iam/rolePolicyAttachment:RolePolicyAttachment": ["SessionManagerPolicy"],
  "aws:iam/instanceProfile:InstanceProfile": ["InstanceProfiles", "PassRoles"],
  "aws:lambda/function:Function": ["Functions", "PassRoles"],
  "aws:lambda/permission:Permission": ["Functions"],
  "aws:lambda/alias:Alias": ["Functions"],
  "aws:codedeploy/application:Application": ["CodeDeploy"],
  "aws:codedeploy/deploymentGroup:DeploymentGroup": ["CodeDeploy", "PassRoles"],
  "aws:apigatewayv2/api:Api": ["HttpApis"],
  "aws:apigatewayv2/integration:Integration": ["HttpApis"],
  "aws:apigatewayv2/route:Route": ["HttpApis"],
  "aws:apigatewayv2/stage:Stage": ["HttpApis", "AccessLogDelivery"],
  "aws:apigatewayv2/domainName:DomainName": ["HttpApis", "ServiceLinkedRoles"],
  "aws:apigatewayv2/apiMapping:ApiMapping": ["HttpApis"],
  "aws:cloudwatch/logGroup:LogGroup": ["LogGroups", "LogGroupLookups"],
  "aws:cloudwatch/metricAlarm:MetricAlarm": ["Alarms"],
  "aws:acm/certificate:Certificate": ["Certificates"],
  "aws:acm/certificateValidation:CertificateValidation": ["Certificates"],
  "aws:route53/record:Record": ["ApiRecords", "ZoneReads"],
  "aws:route53/healthCheck:HealthCheck": ["HealthChecks"],
  "aws:sns/topic:Topic": ["Topics"],
  "aws:sns/topicSubscription:TopicSubscription": ["Topics", "Subscriptions"],
  "aws:ssm/parameter:Parameter": ["Parameters", "ParameterLookups"],
  "aws:ec2/vpc:Vpc": ["Networks"],
  "aws:ec2/subnet:Subnet": ["Networks"],
  "aws:ec2/routeTable:RouteTable": ["Networks"],
  "aws:ec2/routeTableAssociation:RouteTableAssociation": ["Networks"],
  "aws:ec2/route:Route": ["Networks"],
  "aws:ec2/internetGateway:InternetGateway": ["Networks"],
  "aws:ec2/vpcEndpoint:VpcEndpoint": ["Networks"],
  "aws:ec2/securityGroup:SecurityGroup": ["Networks"],
  "aws:ec2/vpcPeeringConnection:VpcPeeringConnection": ["Peerings", "Networks"],
  "aws:ec2/vpcPeeringConnectionAccepter:VpcPeeringConnectionAccepter": ["Peerings", "Networks"],
  "aws:ec2/instance:Instance": ["Instances", "Networks"],
  "aws:ebs/volume:Volume": ["Volumes", "Networks"],
  "aws:ec2/volumeAttachment:VolumeAttachment": ["Volumes", "Networks"],
  // Lookups (provider functions).
  "aws:ec2/getAmi:getAmi": ["Networks"],
  "aws:index/getAvailabilityZones:getAvailabilityZones": ["Networks"],
  "aws:servicequotas/getServiceQuota:getServiceQuota": ["Quotas"],
};

/** The policy document, one statement per permission set, in the order above. */
export function deployerPolicy(): { Version: string; Statement: Record<string, unknown>[] } {
  return {
    Version: "2012-10-17",
    Statement: Object.entries(PERMISSION_SETS).map(([sid, set]: [string, PermissionSet]) => ({
      Sid: sid,
      Effect: "Allow",
      Action: set.actions,
      Resource: set.resources,
      ...(set.condition !== undefined && { Condition: set.condition }),
    })),
  };
}
