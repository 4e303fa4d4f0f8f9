import { describe, expect, it } from "vitest";
import { readStackValues } from "../../shared/stack-file.js";
import { named, ofType, useProgram } from "./support/program.js";

const { values } = readStackValues("prod");
const REGIONS = values["calcburst:regions"] as string[];

/**
 * On a first `pulumi up` the engine creates whatever does not wait for something else at once:
 * a resource AWS refuses without another one must depend on it.
 */
describe("the order of a first deploy", () => {
  const theRun = useProgram(values);

  it.each(REGIONS)("maps each custom domain in %s to the API's stage only once the stage exists", (region) => {
    const stage = named(theRun(), "aws:apigatewayv2/stage:Stage", `calcburst-${region}-stage`);

    for (const suffix of ["global", "regional"]) {
      const mapping = named(
        theRun(),
        "aws:apigatewayv2/apiMapping:ApiMapping",
        `calcburst-${region}-mapping-${suffix}`,
      );
      expect(mapping.options.propertyDependencies.stage, suffix).toContain(stage.urn);
    }
  });

  it("boots every monitoring instance only once its subnet routes to the internet", () => {
    const instances = ofType(theRun(), "aws:ec2/instance:Instance");
    const internetRoutes = ofType(theRun(), "aws:ec2/route:Route").filter(
      (route) => route.inputs.destinationCidrBlock === "0.0.0.0/0",
    );
    const associations = ofType(theRun(), "aws:ec2/routeTableAssociation:RouteTableAssociation");

    expect(instances).toHaveLength(REGIONS.length + 1);
    for (const instance of instances) {
      const subnet = instance.options.propertyDependencies.subnetId ?? [];
      const association = associations.find((one) =>
        (one.options.propertyDependencies.subnetId ?? []).some((urn) => subnet.includes(urn)),
      );
      const table = association?.options.propertyDependencies.routeTableId ?? [];
      const route = internetRoutes.find((one) =>
        (one.options.propertyDependencies.routeTableId ?? []).some((urn) => table.includes(urn)),
      );
      expect(association, `${instance.name}: its subnet's route table association`).toBeDefined();
      expect(route, `${instance.name}: its subnet's internet route`).toBeDefined();
      expect(instance.options.dependencies).toEqual(expect.arrayContaining([association?.urn, route?.urn]));
    }
  });
});
