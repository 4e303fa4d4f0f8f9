import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { PROBLEM_TYPES } from "../../shared/problem.js";

describe("docs/API.md", () => {
  it("lists every problem type with its status", () => {
    const doc = readFileSync(path.join(__dirname, "..", "API.md"), "utf8");
    for (const [slug, { status }] of Object.entries(PROBLEM_TYPES)) {
      expect(doc, slug).toMatch(new RegExp(`\\|\\s*\`${slug}\`\\s*\\|\\s*${status}\\s*\\|`));
    }
  });
});
