import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { type LiveAlias, type RegionFunction, VERSION_HEADER } from "../../shared/function-versions.js";
import { PROBLEM_CONTENT_TYPE } from "../../shared/problem.js";
import { eventually, useCloud } from "./support/cloud.js";
import { isRunning } from "./support/processes.js";

// Published versions behind the live alias in a running local cloud: the alias's weights split
// the traffic, every answer names its version, orders are checked, and a region API killed with
// SIGKILL comes back with the versions and the alias it had.

const TIME_SCALE = 0.05;
const REGION = "us-east-1";
/** A function that sleeps or throws on request (local/test/fixtures): published as version 2. */
const FIXTURE = path.join(__dirname, "fixtures", "slow-function.js");
/** The function's timeout in the prod stack (lambdaTimeoutSeconds), which the time scale does not shrink. */
const FUNCTION_TIMEOUT_MS = 10_000;

const cloud = useCloud(TIME_SCALE);

async function control<T>(method: "GET" | "POST", route: string, body?: unknown) {
  const response = await fetch(`${cloud().state().control.url}${route}`, {
    method,
    headers: { "content-type": "application/json" },
    ...(body !== undefined && { body: typeof body === "string" ? body : JSON.stringify(body) }),
    signal: AbortSignal.timeout(120_000),
  });
  return {
    status: response.status,
    contentType: response.headers.get("content-type"),
    body: (await response.json()) as T,
  };
}

async function setAlias(alias: LiveAlias) {
  const answer = await control("POST", "/functions/alias", { region: REGION, alias });
  expect(answer.status).toBe(200);
}

/** One request straight to the region's API; its status and the version that served it. */
async function call(body: string, requestPath = "/v1/calculations") {
  const response = await fetch(`${cloud().state().regions[REGION]?.api.url}${requestPath}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body,
    signal: AbortSignal.timeout(30_000),
  });
  await response.arrayBuffer();
  return { status: response.status, version: response.headers.get(VERSION_HEADER) };
}

const CALCULATION = JSON.stringify({ operation: "add", operands: [1, 2] });

async function versionsServing(requests: number): Promise<Set<string | null>> {
  const seen = new Set<string | null>();
  for (let index = 0; index < requests; index++) seen.add((await call(CALCULATION)).version);
  return seen;
}

describe("versions behind the live alias", () => {
  it("publishes a bundle as the next version in every region", async () => {
    // Act
    const published = await control<{ versions: Record<string, string> }>("POST", "/functions/publish", {
      bundle: FIXTURE,
    });
    const again = await control<{ versions: Record<string, string> }>("POST", "/functions/publish", {
      bundle: FIXTURE,
    });

    // Assess: version 2 everywhere (1 is the bundle the cloud started with); the same code again is the same version.
    expect(published.status).toBe(200);
    expect(published.body.versions).toEqual({ "us-east-1": "2", "eu-west-1": "2" });
    expect(again.body.versions).toEqual({ "us-east-1": "2", "eu-west-1": "2" });
    const functions = await control<Record<string, RegionFunction>>("GET", "/functions");
    expect(functions.body[REGION]?.versions.map(({ version }) => version)).toEqual(["1", "2"]);
    expect(functions.body[REGION]?.alias).toEqual({ version: "1" });
  }, 180_000);

  it("serves every request from one version at weights 0 and 1", async () => {
    // Prepare
    await setAlias({ version: "1", additionalVersion: "2", weight: 0 });

    // Act
    const atZero = await versionsServing(20);
    await setAlias({ version: "1", additionalVersion: "2", weight: 1 });
    const atOne = await versionsServing(20);

    // Assess
    expect([...atZero]).toEqual(["1"]);
    expect([...atOne]).toEqual(["2"]);
  }, 60_000);

  it("splits the requests between both versions at weight 0.5", async () => {
    // Prepare
    await setAlias({ version: "1", additionalVersion: "2", weight: 0.5 });

    // Act: 60 draws all landing on one side has a chance of 2 in 2^60.
    const seen = await versionsServing(60);

    // Assess
    expect([...seen].sort()).toEqual(["1", "2"]);
  }, 60_000);

  it("names the version on the function's 4xx and on the gateway's 500 and 503", async () => {
    // Prepare
    await setAlias({ version: "1" });

    // Act
    const invalid = await call("{not json");
    const unknownRoute = await call(CALCULATION, "/v1/nothing-here");
    await setAlias({ version: "2" });
    const crashed = await call(JSON.stringify({ fail: true }));
    const timedOut = await call(JSON.stringify({ sleepMs: FUNCTION_TIMEOUT_MS + 2000 }));

    // Assess
    expect(invalid).toEqual({ status: 400, version: "1" });
    expect(unknownRoute).toEqual({ status: 404, version: "1" });
    expect(crashed).toEqual({ status: 500, version: "2" });
    expect(timedOut).toEqual({ status: 503, version: "2" });
  }, 60_000);

  it.each([
    ["an unknown region", "/functions/alias", { region: "mars-1", alias: { version: "1" } }, "mars-1 is not a region"],
    ["an unknown version", "/functions/alias", { region: REGION, alias: { version: "9" } }, "has no version 9"],
    [
      "a weight above 1",
      "/functions/alias",
      { region: REGION, alias: { version: "1", additionalVersion: "2", weight: 2 } },
      "weight is a share from 0 to 1",
    ],
    [
      "a weight without its version",
      "/functions/alias",
      { region: REGION, alias: { version: "1", weight: 0.5 } },
      "additionalVersion and weight come together",
    ],
    ["an order without its region", "/functions/alias", { alias: { version: "1" } }, "region is required"],
    ["an order without its alias", "/functions/alias", { region: REGION }, "the alias is an object"],
    ["an alias without its version", "/functions/alias", { region: REGION, alias: {} }, "version is a version number"],
    ["an order that is not an object", "/functions/alias", [REGION], "an alias order is a JSON object"],
    ["a publish order without its bundle", "/functions/publish", {}, "bundle is required"],
    ["a body that is not JSON", "/functions/alias", "{oops", "the order is not JSON"],
    ["a relative bundle path", "/functions/publish", { bundle: "dist/functions/handler.js" }, "an absolute path"],
    ["a bundle that is not there", "/functions/publish", { bundle: "/nonexistent/handler.js" }, "no bundle file"],
  ])(
    "refuses %s with a 400 problem",
    async (_what, route, order, detail) => {
      // Act
      const answer = await control<{ status: number; detail: string }>("POST", route, order);

      // Assess
      expect(answer.status).toBe(400);
      expect(answer.contentType).toContain(PROBLEM_CONTENT_TYPE);
      expect(answer.body.detail).toContain(detail);
    },
    30_000,
  );

  it("refuses a bundle that does not load, and publishes nothing", async () => {
    // Prepare
    const noHandler = path.join(tmpdir(), `calcburst-no-handler-${process.pid}.js`);
    writeFileSync(noHandler, "exports.notTheHandler = 1;\n");

    // Act
    const answer = await control<{ detail: string }>("POST", "/functions/publish", { bundle: noHandler });

    // Assess
    expect(answer.status).toBe(400);
    expect(answer.body.detail).toContain("does not load as the function");
    expect(answer.body.detail).toContain("exports no handler function");
    const functions = await control<Record<string, RegionFunction>>("GET", "/functions");
    expect(functions.body[REGION]?.versions).toHaveLength(2);
  }, 180_000);

  it("keeps the versions and the alias when the region's API process is killed", async () => {
    // Prepare
    const alias: LiveAlias = { version: "1", additionalVersion: "2", weight: 0.5 };
    await setAlias(alias);
    const killed = cloud().state().regions[REGION]?.api.pid as number;

    // Act
    process.kill(killed, "SIGKILL");
    await eventually(
      "the supervisor restarts the region's API",
      async () => {
        const pid = cloud().state().regions[REGION]?.api.pid;
        return pid !== null && pid !== undefined && pid !== killed && isRunning(pid) ? pid : undefined;
      },
      120_000,
      100,
    );
    const seen = await eventually(
      "the restarted API serves",
      async () => ((await call(CALCULATION).catch(() => ({ status: 0 }))).status === 0 ? undefined : true),
      60_000,
      100,
    ).then(() => versionsServing(60));

    // Assess
    const functions = await control<Record<string, RegionFunction>>("GET", "/functions");
    expect(functions.body[REGION]?.alias).toEqual(alias);
    expect([...seen].sort()).toEqual(["1", "2"]);
  }, 240_000);
});
