/**
 * Bundles the Lambda handler: the one artifact the local cloud runs and Pulumi deploys.
 * The AWS SDK stays external: Lambda's nodejs22.x runtime ships SDK v3, and bundling it would
 * add about 530 KB to every cold start.
 */
import { mkdirSync } from "node:fs";
import path from "node:path";
import { build, type Metafile } from "esbuild";
import { HANDLER_BUNDLE, PROJECT_ROOT } from "../shared/paths.js";

export { HANDLER_BUNDLE };
export const BUNDLE_BUDGET_BYTES = 150 * 1000;

function kib(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KiB`;
}

/** The largest inputs by their share of the minified output. */
function topContributors(metafile: Metafile, count: number): string[] {
  const output = Object.values(metafile.outputs).find((o) => o.entryPoint !== undefined);
  if (output === undefined) return [];
  const byPackage = new Map<string, number>();
  for (const [file, { bytesInOutput }] of Object.entries(output.inputs)) {
    const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file);
    const key = match?.[1] ?? "(project code)";
    byPackage.set(key, (byPackage.get(key) ?? 0) + bytesInOutput);
  }
  return [...byPackage.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([name, bytes]) => `    ${kib(bytes).padStart(10)}  ${name}`);
}

export async function buildHandler(options: { quiet?: boolean } = {}): Promise<{ bytes: number }> {
  mkdirSync(path.dirname(HANDLER_BUNDLE), { recursive: true });
  const result = await build({
    entryPoints: [path.join(PROJECT_ROOT, "functions", "handler.ts")],
    outfile: HANDLER_BUNDLE,
    bundle: true,
    platform: "node",
    target: "node20",
    format: "cjs",
    minify: true,
    sourcemap: "linked",
    external: ["@aws-sdk/*"],
    metafile: true,
    logLevel: "warning",
    legalComments: "none",
  });
  const output = result.metafile.outputs[path.relative(process.cwd(), HANDLER_BUNDLE)];
  const bytes = output?.bytes ?? 0;
  if (!options.quiet) {
    const verdict = bytes <= BUNDLE_BUDGET_BYTES ? "within" : "OVER";
    console.log(
      `built ${path.relative(process.cwd(), HANDLER_BUNDLE)}: ${kib(bytes)} (${bytes} bytes, ${verdict} the ${BUNDLE_BUDGET_BYTES / 1000} KB budget)`,
    );
    console.log(topContributors(result.metafile, 6).join("\n"));
  }
  return { bytes };
}

if (require.main === module) {
  buildHandler().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
