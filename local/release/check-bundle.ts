/**
 * Loads a bundle the way a region's cold start does (local/region/lambda.ts), in a process of its
 * own, before it is published: `node --import tsx check-bundle.ts <bundle>` with a region's
 * settings in CALCBURST_CHILD_SETTINGS. Exit 0: it initialises and exports a handler. Exit 1: it
 * does not; stderr says why. Its own process, so a bundle that exits, hangs or throws at init
 * harms nothing else.
 */

import { PROJECT_ROOT } from "../../shared/paths.js";
import { type RegionSettings, readSettings } from "../cloud/ipc.js";
import { functionEnvironment } from "../region/environment.js";
import { LambdaEmulator } from "../region/lambda.js";

const [bundlePath] = process.argv.slice(2);
try {
  if (bundlePath === undefined) throw new Error("usage: check-bundle.ts <bundle>");
  const { remoteWriteUrl: _metricsStayHere, ...settings } = readSettings<RegionSettings>();
  Object.assign(process.env, functionEnvironment(settings));
  new LambdaEmulator({
    bundlePath,
    timeoutMs: settings.timeoutMs,
    concurrency: 1,
    environment: { AWS_LAMBDA_FUNCTION_VERSION: "$LATEST" },
    resolveFrom: `${PROJECT_ROOT}/package.json`,
  }).prepare();
  process.exit(0);
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
