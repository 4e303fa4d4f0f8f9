import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

export interface ApiCertificatesArgs {
  hostedZoneId: pulumi.Input<string>;
  /** `api.<domain>`: on every region's certificate. */
  globalName: string;
  /** Each region and its own name, `<region>.api.<domain>`. */
  regions: { region: string; regionalName: string }[];
  /**
   * Where each region's certificate and validation records lived before this component existed:
   * the URN of the component that created them and the prefix of their names. Given, the
   * resources are carried over (aliases) instead of replaced; see
   * docs/DEPLOY.md#upgrading-a-stack-deployed-before-these-changes.
   */
  previousOwner?: (region: string) => { parent: pulumi.Input<string>; prefix: string };
  tags?: Record<string, string>;
}

/**
 * A certificate in every region for `api.<domain>` and the region's own name, validated through
 * Route 53. ACM's validation record for a name is the same in every region of an account
 * ("the CNAME validation token works for any AWS Region",
 * https://docs.aws.amazon.com/acm/latest/userguide/dns-validation.html), so the global name's
 * record is created once, here, instead of once per region over each other: removing a region no
 * longer deletes the record the others need to renew. Each regional name has a record of its own.
 */
export class ApiCertificates extends pulumi.ComponentResource {
  private readonly validatedArns = new Map<string, pulumi.Output<string>>();

  constructor(name: string, args: ApiCertificatesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("calcburst:routing:ApiCertificates", name, {}, opts);
    const [first] = args.regions;
    if (first === undefined) throw new Error("ApiCertificates needs at least one region");
    const formerly = (region: string, suffix: string): pulumi.ResourceOptions => {
      const owner = args.previousOwner?.(region);
      return owner === undefined
        ? { parent: this }
        : { parent: this, aliases: [{ name: `${owner.prefix}-${suffix}`, parent: owner.parent }] };
    };

    const certificates = args.regions.map(
      ({ region, regionalName }) =>
        new aws.acm.Certificate(
          `${name}-${region}`,
          {
            region,
            domainName: args.globalName,
            subjectAlternativeNames: [regionalName],
            validationMethod: "DNS",
            tags: { ...args.tags, "calcburst:region": region },
          },
          formerly(region, "certificate"),
        ),
    );

    const validationRecord = (
      recordName: string,
      certificate: aws.acm.Certificate,
      domainName: string,
      options: pulumi.ResourceOptions,
    ) => {
      // A mock that fakes no outputs gives no validation options; the record then carries empty
      // values instead of failing the whole program.
      const option = certificate.domainValidationOptions.apply((validations = []) =>
        validations.find((candidate) => candidate.domainName === domainName),
      );
      return new aws.route53.Record(
        recordName,
        {
          zoneId: args.hostedZoneId,
          name: option.apply((found) => found?.resourceRecordName ?? ""),
          type: option.apply((found) => found?.resourceRecordType ?? "CNAME"),
          records: [option.apply((found) => found?.resourceRecordValue ?? "")],
          ttl: 300,
        },
        options,
      );
    };
    // From the first region's certificate: every region's asks for the same record.
    const globalRecord = validationRecord(
      `${name}-validation-global`,
      certificates[0] as aws.acm.Certificate,
      args.globalName,
      formerly(first.region, "certificate-validation-0"),
    );

    args.regions.forEach(({ region, regionalName }, index) => {
      const certificate = certificates[index] as aws.acm.Certificate;
      const regionalRecord = validationRecord(
        `${name}-validation-${region}`,
        certificate,
        regionalName,
        formerly(region, "certificate-validation-1"),
      );
      const validation = new aws.acm.CertificateValidation(
        `${name}-${region}-validated`,
        {
          region,
          certificateArn: certificate.arn,
          validationRecordFqdns: [globalRecord.fqdn, regionalRecord.fqdn],
        },
        formerly(region, "certificate-validation"),
      );
      this.validatedArns.set(region, validation.certificateArn);
    });

    this.registerOutputs({});
  }

  /** The region's certificate, once ACM has issued it. */
  certificateArn(region: string): pulumi.Output<string> {
    const arn = this.validatedArns.get(region);
    if (arn === undefined) throw new Error(`ApiCertificates has no certificate in ${region}`);
    return arn;
  }
}
