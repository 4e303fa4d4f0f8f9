import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PEER_PATH } from "../data/majority.js";
import { startWitness, type WitnessServer } from "../data/witness.js";
import { firstBody, sendRaw } from "./support/raw-http.js";

// The witness's HTTP front door: it answers only the peer protocol, and whatever else reaches its
// port gets a 4xx that says what was wrong, while it keeps answering the protocol.

const folder = mkdtempSync(path.join(tmpdir(), "calcburst-witness-door-"));
let witness: WitnessServer;

beforeAll(async () => {
  witness = await startWitness({
    region: "us-west-2",
    tableName: "calcburst-calculations",
    port: 0,
    versionsFile: path.join(folder, "versions.jsonl"),
    regions: [],
  });
});
afterAll(async () => {
  await witness.close();
  rmSync(folder, { recursive: true, force: true });
});

/** A POST of `body` to the peer path `op`, as raw bytes. */
const peerPost = (op: string, body: string) =>
  `POST ${PEER_PATH}${op} HTTP/1.1\r\nhost: witness\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`;

describe("the witness's front door", () => {
  it("answers a request line it cannot parse with 400 and closes", async () => {
    // Act
    const exchange = await sendRaw(witness.url, "GARBAGE / NOT-HTTP\r\n\r\n");

    // Assess
    expect(exchange.statuses).toEqual([400]);
    expect(exchange.error).toBeUndefined();
  });

  it("answers a known peer message with the wrong fields with 400, naming the message", async () => {
    // Act
    const exchange = await sendRaw(witness.url, peerPost("claim", JSON.stringify({ op: "claim", key: 7 })));

    // Assess
    expect(exchange.statuses).toEqual([400]);
    expect(JSON.parse(firstBody(exchange)).message).toContain("a malformed claim message");
  });

  it("answers what is not the peer protocol with 404, saying what it serves", async () => {
    // Act
    const exchange = await sendRaw(witness.url, peerPost("nosuch", JSON.stringify({ op: "nosuch" })));

    // Assess
    expect(exchange.statuses).toEqual([404]);
    expect(JSON.parse(firstBody(exchange)).message).toContain("answers only the peer protocol");
  });

  it("still answers the peer protocol afterwards", async () => {
    // Act
    const exchange = await sendRaw(witness.url, peerPost("status", JSON.stringify({ op: "status" })));

    // Assess
    expect(exchange.statuses).toEqual([200]);
  });
});
