import { describe, expect, it } from "vitest";
import type { CloudState } from "../cloud/cloud.js";
import { CONTROL_QUESTION_TIMEOUT_MS, controlTimeoutMs } from "../cloud/control-client.js";

/** The part of a state file the control client reads: the cloud allows a restart 600 s. */
const STATE = { control: { url: "http://127.0.0.1:1", orderTimeoutMs: 600_000 } } as CloudState;

describe("how long the control client waits for the local cloud", () => {
  it("waits for a restore at least as long as the cloud allows a restarted process to come back", () => {
    // Prepare: the state of a cloud started with --ready-timeout 600 (the consistency benchmark's).
    const state = STATE;

    // Act
    const restore = controlTimeoutMs(state, "/restore");
    const fail = controlTimeoutMs(state, "/fail");

    // Assess: a restore after the crash fault waits for the restarted DynamoDB Local (42 s measured on a busy machine).
    expect(restore).toBeGreaterThan(state.control.orderTimeoutMs);
    expect(fail).toBeGreaterThan(state.control.orderTimeoutMs);
  });

  it("gives a question (status, health checks) its short timeout", () => {
    // Prepare
    const state = STATE;

    // Act
    const status = controlTimeoutMs(state, "/status");

    // Assess
    expect(status).toBe(CONTROL_QUESTION_TIMEOUT_MS);
  });
});
