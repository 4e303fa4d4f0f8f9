/**
 * The short demo `npm start` runs once the local cloud is ready: a calculation from a client
 * in each location, the region that served it, and the same item read back from another
 * region once the replicator has copied it there.
 */
import { CLIENT_ID_HEADER, CLIENT_LOCATION_HEADER, TARGET_REGION_HEADER } from "./router/server.js";

const REPLICATION_WAIT_MS = 10_000;

interface DemoCalculation {
  label: string;
  body: { operation: string; operands: (string | number)[]; precision?: number };
}

const CALCULATIONS: DemoCalculation[] = [
  { label: "0.1 + 0.2, exactly", body: { operation: "add", operands: [0.1, 0.2] } },
  { label: "1 / 3 to 10 digits", body: { operation: "divide", operands: [1, 3], precision: 10 } },
  { label: "sample stddev", body: { operation: "stddev_sample", operands: ["2", "4", "4", "4", "5", "5", "7", "9"] } },
];

export interface DemoOptions {
  routerUrl: string;
  locations: string[];
  regions: string[];
  log: (line: string) => void;
}

async function readBack(routerUrl: string, id: string, region: string): Promise<{ ms: number; result: string }> {
  const started = Date.now();
  while (Date.now() - started < REPLICATION_WAIT_MS) {
    const response = await fetch(`${routerUrl}/v1/calculations/${encodeURIComponent(id)}`, {
      headers: { [TARGET_REGION_HEADER]: region },
    });
    const body = (await response.json()) as { result?: string };
    if (response.status === 200) return { ms: Date.now() - started, result: String(body.result) };
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`${id} did not reach ${region} within ${REPLICATION_WAIT_MS / 1000} s: is the replicator running?`);
}

export async function runDemo(options: DemoOptions): Promise<void> {
  const { routerUrl, log } = options;
  log(`\ndemo: one client per location, through the router at ${routerUrl}\n`);
  for (const [index, location] of options.locations.entries()) {
    const calculation = CALCULATIONS[index % CALCULATIONS.length] as DemoCalculation;
    const id = `demo-${location}-${Date.now().toString(36)}`;
    const response = await fetch(`${routerUrl}/v1/calculations`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        [CLIENT_LOCATION_HEADER]: location,
        [CLIENT_ID_HEADER]: `demo-client-${location}`,
      },
      body: JSON.stringify({ ...calculation.body, id }),
    });
    const body = (await response.json()) as { result?: string; detail?: string };
    const servedBy = response.headers.get("x-calcburst-region") ?? "?";
    if (response.status !== 201) throw new Error(`demo write from ${location} got ${response.status}: ${body.detail}`);
    log(
      `  client in ${location.padEnd(4)} POST ${calculation.label.padEnd(20)} → ${response.status} from ${servedBy}: ${body.result}`,
    );
    const other = options.regions.find((region) => region !== servedBy) ?? servedBy;
    const { ms, result } = await readBack(routerUrl, id, other);
    log(`  ${" ".repeat(14)}read back from ${other} (replicated; visible after ${ms} ms): ${result}`);
  }
}
