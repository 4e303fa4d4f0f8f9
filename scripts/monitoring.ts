/**
 * npm run monitoring [-- --stack prod] [--check]: renders the rule files and the Grafana
 * dashboard (and its Prometheus console) under monitoring/ from the stack config. --check only reports what is stale.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { committedMonitoringFiles } from "../monitoring/render.js";
import { PROJECT_ROOT } from "../shared/paths.js";
import { loadStack } from "../shared/stack-file.js";

const args = process.argv.slice(2);
const stackIndex = args.indexOf("--stack");
const stack = stackIndex === -1 ? "prod" : (args[stackIndex + 1] ?? "prod");
const check = args.includes("--check");

const { config } = loadStack(stack);
const stale: string[] = [];
for (const [file, text] of Object.entries(committedMonitoringFiles(config))) {
  const target = path.join(PROJECT_ROOT, file);
  if (existsSync(target) && readFileSync(target, "utf8") === text) continue;
  stale.push(file);
  if (check) continue;
  mkdirSync(path.dirname(target), { recursive: true });
  writeFileSync(target, text);
}
if (check && stale.length > 0) {
  console.error(`stale, run npm run monitoring: ${stale.join(", ")}`);
  process.exit(1);
}
console.log(stale.length === 0 ? "monitoring files are current" : `wrote ${stale.join(", ")} (stack ${stack})`);
