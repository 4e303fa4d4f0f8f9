import { appendFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { WitnessVersions } from "../data/witness.js";

/** A version of item `id` as the regions copy it: stamped with its applied time in µs. */
const version = (id: string, time: number, result = "4") => ({
  id: { S: id },
  result: { N: result },
  "aws:rep:updatetime": { N: String(time) },
  "aws:rep:updateregion": { S: "us-east-1" },
});
const keyOf = (id: string) => ({ key: `calcburst-calculations/${id}`, itemKey: { id: { S: id } } });

describe("the versions a witness keeps on disk", () => {
  const folders: string[] = [];
  const versionsFile = () => {
    const folder = mkdtempSync(path.join(tmpdir(), "calcburst-witness-versions-"));
    folders.push(folder);
    return path.join(folder, "witness-us-west-2", "versions.jsonl");
  };
  afterEach(() => {
    for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
  });

  it("keeps a copy only when it is newer than the version it holds", () => {
    // Prepare
    const versions = new WitnessVersions(versionsFile());
    const { key, itemKey } = keyOf("a");

    // Act
    const first = versions.apply(key, itemKey, version("a", 2000, "4"));
    const older = versions.apply(key, itemKey, version("a", 1000, "5"));
    const held = versions.get(key);
    versions.close();

    // Assess
    expect([first, older]).toEqual([true, true]);
    expect(held?.result).toEqual({ N: "4" });
  });

  it("gives back after a restart what it held, a rolled-back create deleted, and a line cut short ignored", () => {
    // Prepare
    const file = versionsFile();
    const before = new WitnessVersions(file);
    before.apply(keyOf("kept").key, keyOf("kept").itemKey, version("kept", 1000));
    before.apply(keyOf("kept").key, keyOf("kept").itemKey, version("kept", 3000, "8"));
    before.apply(keyOf("rolled-back").key, keyOf("rolled-back").itemKey, version("rolled-back", 2000));
    before.apply(keyOf("rolled-back").key, keyOf("rolled-back").itemKey, null);
    before.close();
    appendFileSync(file, '{"key":"calcburst-calculations/cut","itemKey":{"id":{"S":"cu');

    // Act
    const after = new WitnessVersions(file);
    const page = after.page(undefined, 10);
    after.close();

    // Assess
    expect(after.get(keyOf("kept").key)?.result).toEqual({ N: "8" });
    expect(after.get(keyOf("rolled-back").key)).toBeUndefined();
    expect(page.items.map((item) => item.id)).toEqual([{ S: "kept" }]);
    expect(readFileSync(file, "utf8").trim().split("\n")).toHaveLength(1);
  });

  it("pages its versions in key order, naming the last one while more follow", () => {
    // Prepare
    const versions = new WitnessVersions(versionsFile());
    for (const id of ["c", "a", "b"]) versions.apply(keyOf(id).key, keyOf(id).itemKey, version(id, 1000));

    // Act
    const first = versions.page(undefined, 2);
    const second = versions.page(keyOf("b").key, 2);
    versions.close();

    // Assess
    expect(first.items.map((item) => item.id?.S)).toEqual(["a", "b"]);
    expect(first.next).toEqual({ id: { S: "b" } });
    expect(second.items.map((item) => item.id?.S)).toEqual(["c"]);
    expect(second.next).toBeUndefined();
  });
});
