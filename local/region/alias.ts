import type { APIGatewayProxyEventV2 } from "aws-lambda";
import type { LiveAlias } from "../../shared/function-versions.js";
import { PROJECT_ROOT } from "../../shared/paths.js";
import { type InvocationOutcome, LambdaEmulator } from "./lambda.js";

/** What the region runs behind `live`: the alias and the bundle file of each version it names. */
export interface AliasRouting {
  alias: LiveAlias;
  bundles: Record<string, string>;
}

export interface AliasedFunctionOptions {
  routing: AliasRouting;
  timeoutMs: number;
  /** Reserved concurrency belongs to the function, not to a version: every version shares it. */
  concurrency: number;
  /** [0, 1); replaceable so a test can pin the draw. */
  random?: () => number;
}

/** The outcome of one invocation through the alias, with the version that ran it. */
export type AliasedOutcome = InvocationOutcome & { version: string };

/**
 * The `live` alias of one region's function: each version it names runs in its own Lambda
 * emulator (its own instances, each initialised with that version's AWS_LAMBDA_FUNCTION_VERSION),
 * and each request draws its version by the alias's weight, as Lambda's weighted aliases do per
 * invocation. Moving the alias keeps the instances of a version that stays, and retires the
 * others once their invocations end.
 */
export class AliasedFunction {
  private readonly emulators = new Map<string, LambdaEmulator>();
  private routing: AliasRouting;
  private readonly random: () => number;

  constructor(private readonly options: AliasedFunctionOptions) {
    this.random = options.random ?? Math.random;
    this.routing = options.routing;
    this.route(options.routing);
  }

  get alias(): LiveAlias {
    return this.routing.alias;
  }

  /** Points the alias at new versions; fails, changing nothing, when a version's bundle is not given. */
  route(routing: AliasRouting): void {
    const { alias, bundles } = routing;
    const wanted = [alias.version, ...(alias.additionalVersion === undefined ? [] : [alias.additionalVersion])];
    for (const version of wanted) {
      if (bundles[version] === undefined) throw new Error(`no bundle for version ${version}`);
    }
    for (const version of wanted) {
      if (this.emulators.has(version)) continue;
      this.emulators.set(
        version,
        new LambdaEmulator({
          bundlePath: bundles[version] as string,
          timeoutMs: this.options.timeoutMs,
          // The alias enforces the function's limit across versions (invoke below).
          concurrency: Number.POSITIVE_INFINITY,
          environment: { AWS_LAMBDA_FUNCTION_VERSION: version },
          resolveFrom: `${PROJECT_ROOT}/package.json`,
        }),
      );
    }
    this.routing = routing;
    for (const [version, emulator] of this.emulators) {
      if (wanted.includes(version)) continue;
      this.emulators.delete(version);
      // In-flight invocations finish; their instances are retired afterwards (a newer generation).
      void emulator.shutdown();
    }
  }

  /** Lambda's draw: the additional version serves a request with probability `weight`. */
  pick(): string {
    const { version, additionalVersion, weight } = this.routing.alias;
    return additionalVersion !== undefined && this.random() < (weight ?? 0) ? additionalVersion : version;
  }

  private get all(): LambdaEmulator[] {
    return [...this.emulators.values()];
  }

  get coldStarts(): number {
    return this.all.reduce((sum, emulator) => sum + emulator.coldStarts, 0);
  }

  get inFlight(): number {
    return this.all.reduce((sum, emulator) => sum + emulator.inFlight, 0);
  }

  get idleInstances(): number {
    return this.all.reduce((sum, emulator) => sum + emulator.idleInstances, 0);
  }

  async invoke(event: APIGatewayProxyEventV2): Promise<AliasedOutcome> {
    const version = this.pick();
    if (this.inFlight >= this.options.concurrency) return { kind: "throttled", version };
    const emulator = this.emulators.get(version) as LambdaEmulator;
    return { ...(await emulator.invoke(event)), version };
  }

  /** A configuration change (the kill switch): no instance started before it is reused. */
  recycle(): void {
    for (const emulator of this.all) emulator.recycle();
  }

  async shutdown(): Promise<void> {
    await Promise.all(this.all.map((emulator) => emulator.shutdown()));
  }
}
