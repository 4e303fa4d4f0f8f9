import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { createRequire, Module } from "node:module";
import path from "node:path";
import { Script, constants as vmConstants } from "node:vm";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from "aws-lambda";

export type PayloadV2Handler = (
  event: APIGatewayProxyEventV2,
  context?: Pick<Context, "awsRequestId">,
) => Promise<APIGatewayProxyStructuredResultV2>;

/** How one invocation ended, as API Gateway would see it. */
export type InvocationOutcome =
  | { kind: "response"; result: APIGatewayProxyStructuredResultV2; coldStart: boolean }
  /** Every allowed concurrent execution is busy: Lambda throttles. */
  | { kind: "throttled" }
  /** The function ran past its timeout; Lambda stops it and discards the instance. */
  | { kind: "timeout" }
  /** The handler threw, or the module failed to initialise. */
  | { kind: "error"; error: unknown };

export interface LambdaEmulatorOptions {
  /** The bundled handler; it must export `handler`. */
  bundlePath: string;
  timeoutMs: number;
  /** The function's reserved concurrency: at most this many invocations at once. */
  concurrency: number;
  /**
   * Variables Lambda sets per version (AWS_LAMBDA_FUNCTION_VERSION), in place while an instance
   * initialises: the function reads its environment once, at cold start.
   */
  environment?: Record<string, string>;
  /**
   * Where the bundle's own require() looks for modules it leaves external (the AWS SDK), when the
   * bundle lives elsewhere (a published version's copy under the state folder): Lambda's runtime
   * provides them the same way, from outside the code.
   */
  resolveFrom?: string;
}

interface FunctionInstance {
  handler: PayloadV2Handler;
  /** The bundle's `shutdown` export: what Lambda's SIGTERM to a retired environment triggers. */
  shutdown?: () => Promise<void>;
  /** Instances from before a configuration change are never reused. */
  generation: number;
}

/**
 * Lambda's execution model for one function in one region: an instance serves one invocation
 * at a time; a request finds an idle instance (warm) or initialises a new one (cold start, a
 * fresh module instance with its own clients, logger and metrics registry); at most
 * `concurrency` run at once; an invocation that outlives the timeout is cut off and its
 * instance thrown away.
 */
export class LambdaEmulator {
  private readonly idle: FunctionInstance[] = [];
  private running = 0;
  private generation = 0;
  private coldStartCount = 0;
  /** The bundle compiled once; each instance evaluates it afresh. */
  private compiled: Script | undefined;

  constructor(private readonly options: LambdaEmulatorOptions) {}

  get coldStarts(): number {
    return this.coldStartCount;
  }

  get inFlight(): number {
    return this.running;
  }

  get idleInstances(): number {
    return this.idle.length;
  }

  /** What a configuration update does on Lambda: instances started before it are not reused. */
  recycle(): void {
    this.generation += 1;
    for (const instance of this.idle.splice(0)) this.retire(instance);
  }

  /** Retires every idle instance and waits for their shutdown hooks, as the region stops. */
  async shutdown(): Promise<void> {
    this.generation += 1;
    await Promise.all(this.idle.splice(0).map((instance) => this.retire(instance)));
  }

  private retire(instance: FunctionInstance): Promise<void> {
    return (instance.shutdown?.() ?? Promise.resolve()).catch(() => undefined);
  }

  /**
   * A new execution environment: the bundle's module evaluated afresh, with its own clients,
   * logger and metrics registry. The bundle is compiled once and evaluated per instance, the way
   * the CommonJS loader would run it. On Lambda each environment compiles it too, but on its own
   * machine, in parallel with every other; here every cold start runs on the region's one event
   * loop, and compiling each time made a burst of cold starts (a failover doubling a region's
   * traffic) stall every request of the region: 16 ms a cold start against 4 ms, measured on an
   * idle machine of this kind.
   */
  private initialise(): FunctionInstance {
    const filename = path.resolve(this.options.bundlePath);
    this.compiled ??= new Script(Module.wrap(readFileSync(filename, "utf8")), {
      filename,
      // The AWS SDK loads some of its parts with import(), as under the CommonJS loader.
      importModuleDynamically: vmConstants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
    });
    const evaluate = this.compiled.runInThisContext() as (
      exports: object,
      require: NodeJS.Require,
      module: { exports: object },
      filename: string,
      dirname: string,
    ) => void;
    const instanceModule = { exports: {} as { handler?: unknown; shutdown?: unknown } };
    const environment = Object.entries(this.options.environment ?? {});
    const before = environment.map(([name]) => [name, process.env[name]] as const);
    for (const [name, value] of environment) process.env[name] = value;
    try {
      evaluate.call(
        instanceModule.exports,
        instanceModule.exports,
        createRequire(this.options.resolveFrom ?? filename),
        instanceModule,
        filename,
        path.dirname(filename),
      );
    } finally {
      // Another version's instances share this process's environment.
      for (const [name, value] of before) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
    const loaded = instanceModule.exports;
    if (typeof loaded.handler !== "function") {
      throw new Error(`${this.options.bundlePath} exports no handler function`);
    }
    this.coldStartCount += 1;
    return {
      handler: loaded.handler as PayloadV2Handler,
      generation: this.generation,
      ...(typeof loaded.shutdown === "function" && { shutdown: loaded.shutdown as () => Promise<void> }),
    };
  }

  /** Initialises one instance and keeps it warm: throws what a cold start would (a bundle that does not load). */
  prepare(): void {
    this.idle.push(this.initialise());
  }

  async invoke(event: APIGatewayProxyEventV2): Promise<InvocationOutcome> {
    if (this.running >= this.options.concurrency) return { kind: "throttled" };
    this.running += 1;
    let instance = this.idle.pop();
    const coldStart = instance === undefined;
    let timer: NodeJS.Timeout | undefined;
    try {
      instance ??= this.initialise();
      const invocation = instance.handler(event, { awsRequestId: randomUUID() });
      const timedOut = new Promise<"timeout">((resolve) => {
        timer = setTimeout(() => resolve("timeout"), this.options.timeoutMs);
      });
      const result = await Promise.race([invocation, timedOut]);
      if (result === "timeout") {
        // The instance may still be working; Lambda would freeze and discard it.
        invocation.catch(() => undefined);
        instance = undefined;
        return { kind: "timeout" };
      }
      return { kind: "response", result, coldStart };
    } catch (error) {
      return { kind: "error", error };
    } finally {
      clearTimeout(timer);
      this.running -= 1;
      if (instance !== undefined) {
        if (instance.generation === this.generation) this.idle.push(instance);
        else void this.retire(instance);
      }
    }
  }
}

/** API Gateway stage throttling: a token bucket refilled at `ratePerSecond`, `burst` deep. */
export class TokenBucket {
  private tokens: number;
  private refilledAt: number;

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    private readonly nowMs: () => number = () => performance.now(),
  ) {
    this.tokens = burst;
    this.refilledAt = nowMs();
  }

  take(): boolean {
    const now = this.nowMs();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.refilledAt) / 1000) * this.ratePerSecond);
    this.refilledAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
