import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../shared/paths.js";

/**
 * DESIGN.md's layout: data flows one way. `shared` is imported by everything; the function, the
 * monitoring renderers and the release logic stand on `shared` alone; the Pulumi program adds the
 * monitoring renderers. Nothing in them imports the local cloud (`local/`) or the program
 * (`infra/`): the local cloud emulates AWS around the product, and the product must not lean on it.
 * Tools (scripts/, bench/) and tests may import anything.
 */
const MAY_IMPORT: Record<string, string[]> = {
  shared: ["shared"],
  functions: ["functions", "shared"],
  monitoring: ["monitoring", "shared"],
  release: ["release", "shared"],
  infra: ["infra", "monitoring", "shared"],
};

function sourceFiles(folder: string): string[] {
  return readdirSync(path.join(PROJECT_ROOT, folder), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && /\.(ts|mts)$/.test(entry.name))
    .map((entry) => path.join(entry.parentPath, entry.name))
    .filter((file) => !file.split(path.sep).includes("test"));
}

/** The top-level folder each relative import of `file` lands in. */
function importedFolders(file: string): string[] {
  const specifiers = [
    ...readFileSync(file, "utf8").matchAll(/\bfrom\s+"(\.{1,2}\/[^"]+)"|\bimport\(\s*"(\.{1,2}\/[^"]+)"\s*\)/g),
  ];
  return specifiers.map((match) => {
    const target = path.relative(PROJECT_ROOT, path.resolve(path.dirname(file), match[1] ?? match[2] ?? ""));
    return target.split(path.sep)[0] ?? "";
  });
}

describe("the layout's import rules", () => {
  it.each(Object.entries(MAY_IMPORT))("lets %s import only from %j", (folder, allowed) => {
    // Prepare
    const files = sourceFiles(folder);

    // Act
    const breaches = files.flatMap((file) =>
      importedFolders(file)
        .filter((imported) => !allowed.includes(imported))
        .map((imported) => `${path.relative(PROJECT_ROOT, file)} imports from ${imported}/`),
    );

    // Assess
    expect(files.length).toBeGreaterThan(0);
    expect(breaches).toEqual([]);
  });
});
