import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import {
  type LiveAlias,
  type PublishedVersion,
  type RegionFunction,
  regionFunctionSchema,
} from "../../shared/function-versions.js";
import { PROJECT_ROOT } from "../../shared/paths.js";
import { type RegionSettings, SETTINGS_VARIABLE } from "../cloud/ipc.js";
import type { AliasRouting } from "../region/alias.js";

/** An order about versions that cannot be carried out as given: the caller's mistake, a 4xx. */
export class VersionOrderError extends Error {}

/** How long loading a bundle may take before it counts as one that does not load (tsx starts first). */
const CHECK_TIMEOUT_MS = 60_000;

function writeAtomically(file: string, content: string | Buffer): void {
  const temporary = `${file}.tmp`;
  writeFileSync(temporary, content);
  renameSync(temporary, file);
}

/**
 * Each region's published versions and its `live` alias, kept under the state folder
 * (`functions/<region>/<n>.js` and `functions/<region>/function.json`), so a restarted region API
 * and a restarted cloud find them. Only the supervisor writes here; a region API learns of a
 * change by an order (set-alias) or, when it restarts, from its settings.
 */
export class FunctionVersions {
  private readonly regions = new Map<string, RegionFunction>();

  constructor(private readonly directory: string) {}

  private regionDirectory(region: string): string {
    return path.join(this.directory, region);
  }

  private stateFile(region: string): string {
    return path.join(this.regionDirectory(region), "function.json");
  }

  bundleFile(region: string, version: string): string {
    return path.join(this.regionDirectory(region), `${version}.js`);
  }

  /** What the region has, read from disk the first time. */
  describe(region: string): RegionFunction | undefined {
    const known = this.regions.get(region);
    if (known !== undefined) return known;
    const file = this.stateFile(region);
    if (!existsSync(file)) return undefined;
    const parsed = regionFunctionSchema.safeParse(JSON.parse(readFileSync(file, "utf8")));
    if (!parsed.success) throw new Error(`${file} is not a region's function state: ${parsed.error.message}`);
    this.regions.set(region, parsed.data);
    return parsed.data;
  }

  private save(region: string, state: RegionFunction): void {
    mkdirSync(this.regionDirectory(region), { recursive: true });
    writeAtomically(this.stateFile(region), `${JSON.stringify(state, null, 2)}\n`);
    this.regions.set(region, state);
  }

  /**
   * The bundle becomes the region's next version; the same code as its newest version returns
   * that one, as Lambda's PublishVersion does. A region's first version also becomes `live`.
   */
  publish(region: string, bundle: string): PublishedVersion {
    const code = readFileSync(bundle);
    const sha256 = createHash("sha256").update(code).digest("hex");
    const state = this.describe(region);
    const newest = state?.versions.at(-1);
    if (newest !== undefined && newest.sha256 === sha256) return newest;
    const published: PublishedVersion = {
      version: String(Number(newest?.version ?? "0") + 1),
      sha256,
      bytes: code.length,
      publishedAt: new Date().toISOString(),
    };
    mkdirSync(this.regionDirectory(region), { recursive: true });
    writeAtomically(this.bundleFile(region, published.version), code);
    this.save(region, {
      versions: [...(state?.versions ?? []), published],
      alias: state?.alias ?? { version: published.version },
    });
    return published;
  }

  /** Moves `live`; a version the region has not published is refused. */
  setAlias(region: string, alias: LiveAlias): void {
    const state = this.describe(region);
    if (state === undefined) throw new VersionOrderError(`${region} has no published version yet`);
    const known = new Set(state.versions.map(({ version }) => version));
    for (const version of [alias.version, alias.additionalVersion]) {
      if (version !== undefined && !known.has(version)) {
        throw new VersionOrderError(
          `${region} has no version ${version} (it has ${[...known].join(", ")}): publish it first`,
        );
      }
    }
    this.save(region, { ...state, alias });
  }

  /** The alias and the bundle of each version it names: what the region API runs. */
  routing(region: string): AliasRouting {
    const state = this.describe(region);
    if (state === undefined) throw new Error(`${region} has no published version`);
    const { alias } = state;
    const versions = [alias.version, ...(alias.additionalVersion === undefined ? [] : [alias.additionalVersion])];
    return {
      alias,
      bundles: Object.fromEntries(versions.map((version) => [version, this.bundleFile(region, version)])),
    };
  }
}

/**
 * Refuses a bundle that cannot become a version: a path that is not an absolute path to a file,
 * or a bundle that does not initialise and export a handler in a region's environment (loaded in
 * a process of its own, local/release/check-bundle.ts).
 */
export async function checkBundle(bundle: string, settings: RegionSettings): Promise<void> {
  if (!path.isAbsolute(bundle)) throw new VersionOrderError(`the bundle must be an absolute path, not ${bundle}`);
  if (!existsSync(bundle) || !statSync(bundle).isFile()) throw new VersionOrderError(`no bundle file at ${bundle}`);
  await new Promise<void>((resolve, reject) => {
    execFile(
      process.execPath,
      ["--import", "tsx", path.join(__dirname, "check-bundle.ts"), bundle],
      {
        cwd: PROJECT_ROOT,
        env: { ...process.env, [SETTINGS_VARIABLE]: JSON.stringify(settings) },
        timeout: CHECK_TIMEOUT_MS,
        killSignal: "SIGKILL",
        maxBuffer: 1024 * 1024,
      },
      (error, _stdout, stderr) => {
        if (error === null) return resolve();
        const said = error.killed
          ? `it did not finish loading within ${CHECK_TIMEOUT_MS / 1000} s`
          : stderr.trim().split("\n").slice(-3).join(" ") || error.message;
        reject(new VersionOrderError(`${bundle} does not load as the function: ${said}`));
      },
    );
  });
}
