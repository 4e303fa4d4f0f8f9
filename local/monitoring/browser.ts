import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import systemPackages from "../../shared/system-packages.json";
import { findOnPath } from "../process/executable.js";

/**
 * Debian's headless Chromium, to look at the dashboard console as a person would: its DOM after
 * the scripts ran, or a screenshot. No puppeteer: its browser download cannot reach this network,
 * and the command line does all that is needed here.
 */

export const BROWSER_INSTALL_COMMAND = `apt-get install -y --no-install-recommends ${systemPackages.browser.packages.join(" ")}`;

/** The dashboard console's screenshots: the two-column page, all panels in view. */
export const DASHBOARD_SCREENSHOT = { width: 1400, height: 2000 } as const;

export function findChromium(): string | undefined {
  return findOnPath(systemPackages.browser.binaries.chromium);
}

export type PageCapture = { kind: "dom" } | { kind: "screenshot"; file: string; width: number; height: number };

/**
 * Loads `url`, lets its scripts run for `scriptBudgetMs` of the page's own (virtual) time, and
 * returns the DOM (or writes the screenshot and returns ""). The browser gets its own profile
 * folder and process group, both gone when this returns.
 */
export async function capturePage(
  url: string,
  capture: PageCapture,
  options: { scriptBudgetMs: number; timeoutMs: number },
): Promise<string> {
  const chromium = findChromium();
  if (chromium === undefined) throw new Error(`chromium is not installed: ${BROWSER_INSTALL_COMMAND}`);
  const profile = mkdtempSync(path.join(tmpdir(), "calcburst-chromium-"));
  const args = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--hide-scrollbars",
    `--user-data-dir=${profile}`,
    `--virtual-time-budget=${options.scriptBudgetMs}`,
    ...(capture.kind === "dom"
      ? ["--dump-dom"]
      : [`--screenshot=${capture.file}`, `--window-size=${capture.width},${capture.height}`]),
    url,
  ];
  const child = spawn(chromium, args, { detached: true, stdio: ["ignore", "pipe", "pipe"] });
  const output: Buffer[] = [];
  const errors: Buffer[] = [];
  child.stdout.on("data", (chunk: Buffer) => output.push(chunk));
  child.stderr.on("data", (chunk: Buffer) => errors.push(chunk));
  const killGroup = () => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  };
  const timer = setTimeout(killGroup, options.timeoutMs);
  // Its own process group outlives this process unless taken down with it.
  const onSignal = (signal: NodeJS.Signals) => {
    killGroup();
    process.kill(process.pid, signal);
  };
  process.once("SIGTERM", onSignal);
  process.once("SIGINT", onSignal);
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once("error", reject);
      child.once("close", resolve);
    });
    if (code !== 0) {
      const tail = Buffer.concat(errors).toString("utf8").trim().split("\n").slice(-5).join("\n");
      throw new Error(
        `chromium ${code === null ? `was stopped after ${options.timeoutMs} ms` : `exited ${code}`}: ${tail}`,
      );
    }
    return Buffer.concat(output).toString("utf8");
  } finally {
    clearTimeout(timer);
    process.off("SIGTERM", onSignal);
    process.off("SIGINT", onSignal);
    // Renderer and zygote children share the group; none outlives the capture.
    killGroup();
    rmSync(profile, { recursive: true, force: true });
  }
}

/** A PNG's width and height, from its IHDR chunk; undefined for anything that is not a PNG. */
export function pngDimensions(bytes: Buffer): { width: number; height: number } | undefined {
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  if (bytes.length < 24 || !bytes.subarray(0, 8).equals(signature)) return undefined;
  if (bytes.toString("ascii", 12, 16) !== "IHDR") return undefined;
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}
