/** The trust policy that lets one AWS service (lambda.amazonaws.com, ec2.amazonaws.com) assume a role. */
export function assumableBy(service: string): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole" }],
  });
}
