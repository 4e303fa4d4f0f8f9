import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { stringify } from "yaml";
import { freePort } from "../dynamodb/launcher.js";
import { type SupervisedProcess, spawnSupervised, waitUntilReady } from "../process/supervised.js";

export interface PrometheusServer {
  url: string;
  process: SupervisedProcess;
  stop(): Promise<void>;
}

export interface PrometheusOptions {
  name: string;
  binary: string;
  /** prometheus.yml as an object; written into `directory`. */
  config: unknown;
  /** The config file and the TSDB live here. */
  directory: string;
  /** host:port to listen on; a free loopback port when absent. */
  address?: string;
  remoteWriteReceiver?: boolean;
  /** Console templates to serve at /consoles/ (the libraries folder may be empty). */
  consoles?: { templates: string; libraries: string };
  /** --web.enable-lifecycle: POST /-/reload rereads the config file. */
  lifecycle?: boolean;
  logFile?: string;
  readyTimeoutMs?: number;
}

/** A real Prometheus on loopback, resolved once /-/ready answers 200. */
export async function startPrometheus(options: PrometheusOptions): Promise<PrometheusServer> {
  mkdirSync(options.directory, { recursive: true });
  const configFile = prometheusConfigFile(options.directory);
  writeFileSync(configFile, stringify(options.config));
  const address = options.address ?? `127.0.0.1:${await freePort()}`;
  const started = spawnSupervised(
    options.name,
    options.binary,
    [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${path.join(options.directory, "data")}`,
      `--web.listen-address=${address}`,
      ...(options.remoteWriteReceiver === true ? ["--web.enable-remote-write-receiver"] : []),
      ...(options.lifecycle === true ? ["--web.enable-lifecycle"] : []),
      ...(options.consoles !== undefined
        ? [
            `--web.console.templates=${options.consoles.templates}`,
            `--web.console.libraries=${options.consoles.libraries}`,
          ]
        : []),
      "--log.level=warn",
    ],
    options.logFile !== undefined ? { logFile: options.logFile } : {},
  );
  const url = `http://${address}`;
  await waitForHttp(started, `${url}/-/ready`, options.readyTimeoutMs ?? 20_000).catch(async (error: Error) => {
    await started.stop();
    throw error;
  });
  return { url, process: started, stop: () => started.stop() };
}

/** The config file startPrometheus writes into `directory`. */
export function prometheusConfigFile(directory: string): string {
  return path.join(directory, "prometheus.yml");
}

/** Writes a new config and has the server reread it (started with `lifecycle`). */
export async function reloadPrometheus(url: string, directory: string, config: unknown): Promise<void> {
  writeFileSync(prometheusConfigFile(directory), stringify(config));
  const response = await fetch(`${url}/-/reload`, { method: "POST", signal: AbortSignal.timeout(10_000) });
  const text = await response.text();
  if (!response.ok) throw new Error(`${url}/-/reload answered ${response.status}: ${text.trim()}`);
}

/** Resolves once `probeUrl` answers 2xx; fails early if the process exits. */
export function waitForHttp(started: SupervisedProcess, probeUrl: string, timeoutMs: number): Promise<void> {
  return waitUntilReady(
    started,
    async () => {
      const response = await fetch(probeUrl, { signal: AbortSignal.timeout(1000) });
      await response.arrayBuffer();
      return response.ok;
    },
    { timeoutMs },
    `answer ${probeUrl}`,
  );
}

/** An instant query; the result vector (empty when nothing matches). */
export async function queryPrometheus(
  url: string,
  expr: string,
): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
  const response = await fetch(`${url}/api/v1/query?${new URLSearchParams({ query: expr })}`, {
    signal: AbortSignal.timeout(5000),
  });
  const body = (await response.json()) as {
    status: string;
    error?: string;
    data?: { result: { metric: Record<string, string>; value: [number, string] }[] };
  };
  if (body.status !== "success") throw new Error(`query ${expr} failed: ${body.error ?? response.status}`);
  return body.data?.result ?? [];
}
