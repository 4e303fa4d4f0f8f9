import { describe, expect, it } from "vitest";
import { Leases } from "../data/majority.js";

const LEASE_MS = 5000;

/** Leases on a clock the test moves: what a region's data endpoint grants under MRSC. */
function leasesAt(startMs: number) {
  let now = startMs;
  const leases = new Leases(LEASE_MS, () => now);
  return { leases, advance: (ms: number) => (now += ms) };
}

describe("the leases a region grants under MRSC", () => {
  it("grants nothing for a whole lease after it starts, so a lease granted before a crash is never granted twice", () => {
    const { leases, advance } = leasesAt(1_000_000);

    const atStart = leases.claim("item", "us-east-1/1", "write");
    advance(LEASE_MS);
    const afterOneLease = leases.claim("item", "us-east-1/1", "write");

    expect(atStart).toEqual({ granted: false, reason: "starting" });
    expect(afterOneLease).toEqual({ granted: true });
  });

  it("refuses a second writer while the first holds the item, and grants it once released", () => {
    const { leases, advance } = leasesAt(0);
    advance(LEASE_MS);
    leases.claim("item", "us-east-1/1", "write");

    const contested = leases.claim("item", "us-west-2/1", "write");
    leases.release("item", "us-east-1/1");
    const free = leases.claim("item", "us-west-2/1", "write");

    expect(contested).toEqual({ granted: false, reason: "held" });
    expect(free).toEqual({ granted: true });
  });

  it("keeps a write's lease while a copy under it is applied, even past its term", async () => {
    const { leases, advance } = leasesAt(0);
    advance(LEASE_MS);
    leases.claim("item", "us-east-1/1", "write");
    let finishCopy: () => void = () => undefined;
    const copying = leases.underLease(
      "item",
      "us-east-1/1",
      () => new Promise<void>((resolve) => (finishCopy = resolve)),
    );

    advance(2 * LEASE_MS);
    const duringCopy = leases.claim("item", "us-west-2/1", "write");
    finishCopy();
    const copied = await copying;
    const afterCopy = leases.claim("item", "us-west-2/1", "write");

    expect(duringCopy).toEqual({ granted: false, reason: "held" });
    expect(copied).toEqual({ held: true, value: undefined });
    expect(afterCopy).toEqual({ granted: true });
  });

  it("applies no copy for a writer whose lease lapsed", async () => {
    const { leases, advance } = leasesAt(0);
    advance(LEASE_MS);
    leases.claim("item", "us-east-1/1", "write");
    advance(LEASE_MS + 1);
    leases.claim("item", "us-west-2/1", "write");
    let applied = false;

    const outcome = await leases.underLease("item", "us-east-1/1", async () => {
      applied = true;
    });

    expect(outcome).toEqual({ held: false });
    expect(applied).toBe(false);
  });

  it("lets strong reads share an item, and keeps a writer out while one reads", () => {
    const { leases, advance } = leasesAt(0);
    advance(LEASE_MS);

    const first = leases.claim("item", "us-east-1/1", "read");
    const second = leases.claim("item", "us-east-2/1", "read");
    const writer = leases.claim("item", "us-west-2/1", "write");

    expect([first, second]).toEqual([{ granted: true }, { granted: true }]);
    expect(writer).toEqual({ granted: false, reason: "held" });
  });
});
