import path from "node:path";

/** The repository root: Pulumi.yaml, the stack files, docs/, .local/ and .cache/ live here. */
export const PROJECT_ROOT = path.resolve(__dirname, "..");

/** The one artifact `npm run build` makes; the local cloud runs it and Pulumi deploys it. */
export const HANDLER_BUNDLE = path.join(PROJECT_ROOT, "dist", "functions", "handler.js");
