import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { PROJECT_ROOT } from "../../shared/paths.js";

const project = parse(readFileSync(path.join(PROJECT_ROOT, "Pulumi.yaml"), "utf8")) as {
  runtime: { options?: { nodeargs?: string } };
};
const manifest = JSON.parse(readFileSync(path.join(PROJECT_ROOT, "package.json"), "utf8")) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

describe("what pulumi up loads before the program", () => {
  it("installs every module Pulumi.yaml's nodeargs import with the runtime dependencies", () => {
    const imported = [...(project.runtime.options?.nodeargs ?? "").matchAll(/--import[= ](\S+)/g)].map(
      (match) => match[1] ?? "",
    );

    expect(imported).toEqual(["tsx"]);
    for (const name of imported) {
      expect(manifest.dependencies[name], `${name} in dependencies`).toBeDefined();
      // `npm install --omit=dev`, what a deploy pipeline may run, would leave it out.
      expect(manifest.devDependencies[name], `${name} not only a devDependency`).toBeUndefined();
    }
  });
});
