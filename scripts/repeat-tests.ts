/**
 * Runs test files again and again, some of the runs with a CPU burner on one core, and reports
 * each run: the evidence behind docs/RELIABILITY.md's "the suite passes where a user runs it".
 * A test that passes once on a quiet machine proves little; one that passes ten times in a row,
 * five of them while another process keeps a core busy, does not depend on timing it does not
 * control.
 *
 *   npm run test:repeat -- [--runs 10] [--burner-runs 5] [--json <file>] <test file>…
 *
 * The burner runs are the last ones. Exit 0 when every run passed, 1 when one failed, 2 on
 * usage errors.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { PROJECT_ROOT } from "../shared/paths.js";

interface RunResult {
  run: number;
  burner: boolean;
  passed: boolean;
  seconds: number;
  loadAverageAfter: number;
  failures: string[];
  /** Where a failed run's whole output was kept. */
  outputFile?: string;
}

function usage(message: string): never {
  console.error(`test:repeat: ${message}`);
  console.error("usage: npm run test:repeat -- [--runs 10] [--burner-runs 5] [--json <file>] <test file>…");
  process.exit(2);
}

function positiveInteger(text: string, name: string, allowZero: boolean): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < (allowZero ? 0 : 1)) usage(`--${name} must be a whole number, got "${text}"`);
  return value;
}

/** One busy loop in its own process: it keeps one core busy until it is killed. */
function startBurner(): ChildProcess {
  return spawn(process.execPath, ["-e", "for (;;) {}"], { stdio: "ignore" });
}

async function stopBurner(burner: ChildProcess): Promise<void> {
  if (burner.exitCode !== null || burner.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => burner.once("exit", () => resolve()));
  burner.kill("SIGKILL");
  await exited;
}

/** Failed test names from vitest's default reporter (run without colour): the lines it marks with a cross. */
function failedTests(output: string): string[] {
  return [
    ...new Set(
      output
        .split("\n")
        .filter((line) => /^\s*(×|FAIL)\s/.test(line))
        .map((line) => line.trim()),
    ),
  ];
}

function runVitest(files: string[]): Promise<{ passed: boolean; output: string }> {
  return new Promise((resolve) => {
    const vitest = spawn(path.join(PROJECT_ROOT, "node_modules", ".bin", "vitest"), ["run", ...files], {
      cwd: PROJECT_ROOT,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, FORCE_COLOR: "0", NO_COLOR: "1" },
    });
    let output = "";
    vitest.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    vitest.stderr.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    vitest.on("close", (code) => resolve({ passed: code === 0, output }));
  });
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    options: {
      runs: { type: "string", default: "10" },
      "burner-runs": { type: "string", default: "5" },
      json: { type: "string" },
    },
    allowPositionals: true,
  });
  if (positionals.length === 0) usage("name at least one test file");
  const runs = positiveInteger(values.runs, "runs", false);
  const burnerRuns = positiveInteger(values["burner-runs"], "burner-runs", true);
  if (burnerRuns > runs) usage("--burner-runs cannot exceed --runs");

  console.log(
    `test:repeat: ${positionals.join(" ")}: ${runs} runs, the last ${burnerRuns} with a CPU burner on one of ${os.cpus().length} cores`,
  );
  const results: RunResult[] = [];
  for (let run = 1; run <= runs; run++) {
    const burning = run > runs - burnerRuns;
    const burner = burning ? startBurner() : undefined;
    const started = performance.now();
    const { passed, output } = await runVitest(positionals);
    const seconds = (performance.now() - started) / 1000;
    if (burner !== undefined) await stopBurner(burner);
    const result: RunResult = {
      run,
      burner: burning,
      passed,
      seconds: Math.round(seconds * 10) / 10,
      loadAverageAfter: Math.round((os.loadavg()[0] ?? 0) * 100) / 100,
      failures: passed ? [] : failedTests(output),
    };
    if (!passed) {
      // The whole output of a failed run, for the cause: a run that failed once may not fail again.
      const directory = path.join(PROJECT_ROOT, ".local", "test-repeat");
      mkdirSync(directory, { recursive: true });
      result.outputFile = path.join(directory, `run-${new Date().toISOString().replace(/[:.]/g, "-")}-${run}.log`);
      writeFileSync(result.outputFile, output);
    }
    results.push(result);
    console.log(
      `  run ${run}/${runs}${burning ? " (burner)" : ""}: ${passed ? "passed" : "FAILED"} in ${result.seconds} s, load average ${result.loadAverageAfter}`,
    );
    if (!passed) {
      for (const failure of result.failures) console.log(`    ${failure}`);
      if (result.failures.length === 0) console.log(output.split("\n").slice(-30).join("\n"));
      console.log(`    output: ${path.relative(process.cwd(), result.outputFile ?? "")}`);
    }
  }
  const failed = results.filter((r) => !r.passed).length;
  console.log(`test:repeat: ${runs - failed} of ${runs} runs passed`);
  if (values.json !== undefined) {
    mkdirSync(path.dirname(path.resolve(values.json)), { recursive: true });
    writeFileSync(
      values.json,
      `${JSON.stringify({ files: positionals, date: new Date().toISOString(), cores: os.cpus().length, results }, null, 2)}\n`,
    );
  }
  process.exit(failed === 0 ? 0 : 1);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
