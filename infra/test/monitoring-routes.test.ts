import { describe, expect, it } from "vitest";
import { readStackValues } from "../../shared/stack-file.js";
import { ofType, useProgram } from "./support/program.js";

const { values } = readStackValues("global3");

/**
 * A route table's inline `routes` own the whole table: after a refresh, the next update deletes
 * every route another resource added (the provider's note on aws.ec2.RouteTable). The peering
 * routes GlobalMonitoring adds to each monitoring subnet's table must survive that.
 */
describe("the monitoring subnets' routes", () => {
  const theRun = useProgram(values, { stack: "global3" });

  it("leaves every route table a standalone route is added to without inline routes", () => {
    const tables = ofType(theRun(), "aws:ec2/routeTable:RouteTable");
    const routes = ofType(theRun(), "aws:ec2/route:Route");

    const shared = tables.filter(
      (table) =>
        (table.inputs.routes as unknown[] | undefined) !== undefined &&
        routes.some((route) => (route.options.propertyDependencies.routeTableId ?? []).includes(table.urn)),
    );
    expect(routes.length).toBeGreaterThan(0);
    expect(shared.map((table) => table.name)).toEqual([]);
  });

  it("routes each monitoring subnet to the internet and to every peered VPC", () => {
    const routes = ofType(theRun(), "aws:ec2/route:Route");
    const destinations = routes.map((route) => route.inputs.destinationCidrBlock).sort();

    // Three regions: one internet route each, and a route each way over the two peerings.
    expect(destinations.filter((cidr) => cidr === "0.0.0.0/0")).toHaveLength(3);
    expect(destinations.filter((cidr) => cidr !== "0.0.0.0/0")).toEqual([
      "10.30.0.0/16",
      "10.30.0.0/16",
      "10.31.0.0/16",
      "10.32.0.0/16",
    ]);
  });
});
