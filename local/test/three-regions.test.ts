import { describe, expect, it } from "vitest";
import { loadStack } from "../../shared/stack-file.js";
import { eventually, request, useCloud } from "./support/cloud.js";

const { config } = loadStack("global3");
const THIRD = "ap-southeast-2";
const REPLICATION_DEADLINE_MS = 15_000;

describe("the local cloud running Pulumi.global3.yaml", () => {
  const theCloud = useCloud(0.05, { stack: "global3" });

  it("runs all three regions, each healthy behind the router", async () => {
    const { health, state } = await theCloud().status();

    expect(state.stack).toBe("global3");
    expect(Object.keys(state.regions)).toEqual(config.regions);
    expect(health.map((one) => [one.region, one.healthy])).toEqual(config.regions.map((region) => [region, true]));
  });

  it("routes a client in ap to the third region", async () => {
    const response = await request(theCloud().routerUrl, {
      path: "/v1/calculations",
      location: "ap",
      clientId: "three-regions-ap",
      body: { operation: "add", operands: ["0.1", "0.2"] },
    });

    expect(response.status).toBe(201);
    expect(response.region).toBe(THIRD);
  });

  it("replicates a write in the third region to both other regions", async () => {
    const written = await request(theCloud().routerUrl, {
      path: "/v1/calculations",
      targetRegion: THIRD,
      body: { operation: "multiply", operands: ["2", "3.5"], id: "from-the-third-region" },
    });

    expect(written.status).toBe(201);
    for (const region of config.regions.filter((one) => one !== THIRD)) {
      const copy = await eventually(
        `the write readable in ${region}`,
        async () => {
          const read = await request(theCloud().routerUrl, {
            path: "/v1/calculations/from-the-third-region",
            targetRegion: region,
          });
          return read.status === 200 ? read.body : undefined;
        },
        REPLICATION_DEADLINE_MS,
      );
      expect(copy).toMatchObject({ result: "7", region: THIRD, servedBy: region });
    }
  });
});
