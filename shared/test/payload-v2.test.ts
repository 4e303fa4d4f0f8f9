import { describe, expect, it } from "vitest";
import { buildHttpApiEvent } from "../payload-v2.js";

describe("payload-2.0 event builder", () => {
  it("builds the event API Gateway hands to Lambda for a JSON POST", () => {
    const now = new Date("2026-03-12T19:03:58Z");
    const event = buildHttpApiEvent({
      method: "post",
      path: "/v1/calculations?dry=1&dry=2",
      headers: {
        "Content-Type": "application/json",
        Host: "api.example.com",
        "X-Forwarded-For": ["1.1.1.1", "2.2.2.2"],
      },
      body: '{"a":1}',
      now,
      requestId: "req-1",
    });
    expect(event).toMatchObject({
      version: "2.0",
      routeKey: "$default",
      rawPath: "/v1/calculations",
      rawQueryString: "dry=1&dry=2",
      queryStringParameters: { dry: "1,2" },
      headers: { "content-type": "application/json", host: "api.example.com", "x-forwarded-for": "1.1.1.1,2.2.2.2" },
      body: '{"a":1}',
      isBase64Encoded: false,
      requestContext: {
        domainName: "api.example.com",
        domainPrefix: "api",
        http: { method: "POST", path: "/v1/calculations" },
        requestId: "req-1",
        stage: "$default",
        time: "12/Mar/2026:19:03:58 +0000",
        timeEpoch: now.getTime(),
      },
    });
  });

  it("splits cookies out of the headers", () => {
    const event = buildHttpApiEvent({ method: "GET", path: "/health", headers: { cookie: "a=1; b=2" } });
    expect(event.cookies).toEqual(["a=1", "b=2"]);
    expect(event.headers.cookie).toBeUndefined();
  });

  it("base64-encodes a binary body", () => {
    const body = Buffer.from([0, 255, 1]);
    const event = buildHttpApiEvent({
      method: "POST",
      path: "/x",
      headers: { "content-type": "application/octet-stream" },
      body,
    });
    expect(event.isBase64Encoded).toBe(true);
    expect(Buffer.from(event.body ?? "", "base64")).toEqual(body);
  });
});
