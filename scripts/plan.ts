/**
 * `npm run plan -- --stack prod`: runs the Pulumi program under mocks (no CLI, no credentials),
 * prints the resource tree grouped by region, writes docs/architecture.mmd from the recorded
 * resource graph and docs/RESOURCES.md around it, and writes infra/deployer-policy.json (the
 * deploying identity's IAM policy).
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { deployerPolicy } from "../infra/deployer-policy.js";
import { runProgramUnderMocks } from "../infra/mock-runtime.js";
import { renderMermaid, renderTree, resourcesDocument } from "../infra/plan.js";
import { PROJECT_ROOT } from "../shared/paths.js";
import { readStackValues } from "../shared/stack-file.js";
import { buildHandler } from "./build.js";

export const DIAGRAM = path.join(PROJECT_ROOT, "docs", "architecture.mmd");
export const RESOURCES_DOCUMENT = path.join(PROJECT_ROOT, "docs", "RESOURCES.md");
export const DEPLOYER_POLICY = path.join(PROJECT_ROOT, "infra", "deployer-policy.json");

async function main(): Promise<void> {
  const { values: flags } = parseArgs({
    options: {
      stack: { type: "string", default: "prod" },
      diagram: { type: "string", default: DIAGRAM },
      "resources-doc": { type: "string", default: RESOURCES_DOCUMENT },
      "deployer-policy": { type: "string", default: DEPLOYER_POLICY },
    },
  });
  await buildHandler({ quiet: true });
  const { stack, file, values } = readStackValues(flags.stack);
  // The plan needs no real secret: under mocks nothing is created.
  const run = await runProgramUnderMocks(
    { "calcburst:grafanaAdminPassword": "not-a-real-password", ...values },
    () => import("../infra/index.js"),
    { stack },
  );
  const custom = run.resources.filter((resource) => resource.custom);
  console.log(
    `stack ${stack} (${path.relative(process.cwd(), file)}): ${custom.length} resources in ${run.resources.length - custom.length} components, under mocks\n`,
  );
  for (const line of renderTree(run)) console.log(line);
  console.log("\noutputs");
  for (const [name, value] of Object.entries(run.outputs)) console.log(`  ${name}: ${JSON.stringify(value)}`);
  const mermaid = renderMermaid(run);
  writeFileSync(flags.diagram, mermaid);
  writeFileSync(flags["resources-doc"], resourcesDocument(mermaid, stack));
  writeFileSync(flags["deployer-policy"], `${JSON.stringify(deployerPolicy(), null, 2)}\n`);
  console.log(
    `\nwrote ${[flags.diagram, flags["resources-doc"], flags["deployer-policy"]].map((file) => path.relative(process.cwd(), file)).join(", ")}`,
  );
}

main().catch((error: unknown) => {
  console.error(`npm run plan failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
