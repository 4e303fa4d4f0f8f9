import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../../shared/paths.js";
import { NodeChild } from "../cloud/node-child.js";
import type { RunningProcess } from "../cloud/supervisor.js";

// The supervisor's orders to its children (a kill switch, an isolation) on a machine too busy for
// them to answer at once, and to a child that dies before it answers.

const FIXTURE = path.join(PROJECT_ROOT, "local/test/fixtures/slow-child.mjs");
const logs = mkdtempSync(path.join(tmpdir(), "calcburst-child-orders-"));
const started: RunningProcess[] = [];
afterAll(async () => {
  await Promise.all(started.map((running) => running.stop()));
  rmSync(logs, { recursive: true, force: true });
});

async function startChild(name: string, settings: { answerAfterMs?: number; exitOnOrder?: boolean }) {
  const child = new NodeChild({
    name,
    script: FIXTURE,
    settings: () => settings,
    logFile: path.join(logs, `${name}.log`),
  });
  started.push(await child.launch(60_000));
  return child;
}

describe("orders to the local cloud's children", () => {
  it("waits longer than 2 s for a child that is slow to answer", async () => {
    // Prepare: the answer comes 3 s after the order, as from a child starved of CPU.
    const child = await startChild("slow", { answerAfterMs: 3_000 });

    // Act
    const answer = await child.request({ type: "set-kill-switch", disabled: true });

    // Assess
    expect(answer).toMatchObject({ type: "answer", requestId: 1 });
  });

  it("fails the order at once, saying so, when the child exits before it answers", async () => {
    // Prepare
    const child = await startChild("dying", { exitOnOrder: true });

    // Act
    const order = child.request({ type: "stats" });

    // Assess
    await expect(order).rejects.toThrow("dying exited before it answered stats");
  });
});
