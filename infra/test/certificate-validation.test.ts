import { describe, expect, it } from "vitest";
import { readStackValues } from "../../shared/stack-file.js";
import { named, ofType, useProgram } from "./support/program.js";

const values = readStackValues("prod").values;
const REGIONS = values["calcburst:regions"] as string[];
const DOMAIN = values["calcburst:domain"] as string;
/** The mock's ACM answer, which like ACM's is the same for a name in every region. */
const challenge = (name: string) => `_acm-challenge.${name}.`;

describe("validating the API's certificates through Route 53", () => {
  const theRun = useProgram(values);

  it("owns the global name's validation record once, however many regions ask for it", () => {
    const records = ofType(theRun(), "aws:route53/record:Record").filter(
      (record) => record.inputs.name === challenge(`api.${DOMAIN}`),
    );

    expect(records.map((record) => record.name)).toEqual(["api-certificates-validation-global"]);
    expect(ofType(theRun(), "aws:route53/record:Record").filter((record) => record.inputs.allowOverwrite)).toEqual([]);
  });

  it.each(REGIONS)("validates the certificate in %s with the shared record and its own name's", (region) => {
    const validation = named(
      theRun(),
      "aws:acm/certificateValidation:CertificateValidation",
      `api-certificates-${region}-validated`,
    );
    const own = named(theRun(), "aws:route53/record:Record", `api-certificates-validation-${region}`);

    expect(own.inputs.name).toBe(challenge(`${region}.api.${DOMAIN}`));
    expect(validation.inputs).toMatchObject({
      region,
      certificateArn: named(theRun(), "aws:acm/certificate:Certificate", `api-certificates-${region}`).state.arn,
      validationRecordFqdns: [challenge(`api.${DOMAIN}`), challenge(`${region}.api.${DOMAIN}`)],
    });
  });

  it.each(REGIONS)("carries %s's certificate over from the RegionalService that created it before", (region) => {
    const certificate = named(theRun(), "aws:acm/certificate:Certificate", `api-certificates-${region}`);

    expect(certificate.options.aliasNames).toEqual([`calcburst-${region}-certificate`]);
  });
});
