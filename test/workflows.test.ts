import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { PROJECT_ROOT } from "../shared/paths.js";
import { listStacks } from "../shared/stack-file.js";

const WORKFLOWS = path.join(PROJECT_ROOT, ".github", "workflows");
const VALIDATOR = path.join(PROJECT_ROOT, "node_modules", ".bin", "action-validator");

interface Step {
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
}
interface Job {
  needs?: string | string[];
  environment?: string;
  permissions?: Record<string, string>;
  strategy?: { matrix?: Record<string, unknown> };
  steps: Step[];
}
interface Workflow {
  on: Record<string, unknown>;
  permissions?: Record<string, string>;
  concurrency?: { group: string; "cancel-in-progress": boolean };
  jobs: Record<string, Job>;
}

const read = (file: string) => parse(readFileSync(path.join(WORKFLOWS, file), "utf8")) as Workflow;
const lint = (file: string) => spawnSync(VALIDATOR, [file], { encoding: "utf8", timeout: 60_000 });
const needs = (job: Job | undefined) => [job?.needs ?? []].flat();
const withIdToken = (workflow: Workflow) =>
  Object.entries(workflow.jobs)
    .filter(([, job]) => job.permissions?.["id-token"] === "write")
    .map(([name]) => name);
const pulumiStep = (job: Job | undefined) => job?.steps.find((step) => step.uses?.startsWith("pulumi/actions@"));

describe("the GitHub workflows", () => {
  const scratch = mkdtempSync(path.join(tmpdir(), "calcburst-workflows-"));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it.each(["pull-request.yml", "release.yml"])("passes the workflow linter: %s", (file) => {
    const result = lint(path.join(WORKFLOWS, file));

    expect(result.stdout + result.stderr).not.toContain('"errors"');
    expect(result.status).toBe(0);
  });

  it("has a linter that fails a broken workflow", () => {
    const broken = path.join(scratch, "broken.yml");
    writeFileSync(broken, "name: broken\non: push\njobs:\n  test:\n    runs-on: ubuntu-24.04\n    steps: npm test\n");

    const result = lint(broken);

    expect(result.status).not.toBe(0);
    expect(result.stdout + result.stderr).toContain("/jobs/test/steps");
  });

  it("tests a pull request, then previews every stack with the policy pack and comments the preview", () => {
    const workflow = read("pull-request.yml");
    const preview = workflow.jobs.preview;

    expect(Object.keys(workflow.on)).toEqual(["pull_request"]);
    expect(needs(preview)).toEqual(["test"]);
    expect(workflow.jobs.test?.steps.some((step) => step.run === "npm test")).toBe(true);
    expect([...((preview?.strategy?.matrix?.stack as string[] | undefined) ?? [])].sort()).toEqual(listStacks().sort());
    expect(pulumiStep(preview)?.with).toMatchObject({
      command: "preview",
      policyPacks: "infra/policy",
      "comment-on-pr": true,
    });
    expect(preview?.permissions).toEqual({ contents: "read", "id-token": "write", "pull-requests": "write" });
  });

  it("releases main to staging, then to prod behind its environment, wave by wave", () => {
    const workflow = read("release.yml");
    const { staging, prod } = workflow.jobs;

    expect(workflow.on.push).toEqual({ branches: ["main"] });
    expect(needs(staging)).toEqual(["test"]);
    expect(needs(prod)).toEqual(["staging"]);
    expect([staging?.environment, prod?.environment]).toEqual(["staging", "prod"]);
    for (const [job, stack] of [
      [staging, "staging"],
      [prod, "prod"],
    ] as const) {
      const steps = job?.steps ?? [];
      const up = steps.findIndex((step) => step.uses?.startsWith("pulumi/actions@"));
      const release = steps.findIndex((step) => step.run?.startsWith(`npm run release -- --target ${stack} `));
      expect(pulumiStep(job)?.with).toMatchObject({ command: "up", policyPacks: "infra/policy" });
      expect(release).toBeGreaterThan(up);
    }
    // A release is never cancelled halfway, and never runs beside another.
    expect(workflow.concurrency).toEqual({ group: "release", "cancel-in-progress": false });
  });

  it("asks for an OIDC token only in the jobs that reach AWS, and for no write access anywhere else", () => {
    const pullRequest = read("pull-request.yml");
    const release = read("release.yml");

    expect(withIdToken(pullRequest)).toEqual(["preview"]);
    expect(withIdToken(release)).toEqual(["staging", "prod"]);
    for (const workflow of [pullRequest, release]) {
      expect(workflow.permissions).toEqual({ contents: "read" });
      for (const [name, job] of Object.entries(workflow.jobs)) {
        const assumes = job.steps.some((step) => step.uses?.startsWith("aws-actions/configure-aws-credentials@"));
        expect(assumes, name).toBe(job.permissions?.["id-token"] === "write");
      }
    }
  });

  it("pins every action to a major version and names the workflows' limits in their comments", () => {
    for (const file of ["pull-request.yml", "release.yml"]) {
      const text = readFileSync(path.join(WORKFLOWS, file), "utf8");
      const uses = Object.values(read(file).jobs).flatMap((job) => job.steps.flatMap((step) => step.uses ?? []));

      expect(uses.filter((action) => !/@v\d+$/.test(action))).toEqual([]);
      expect(text).toContain("NOT RUN YET");
    }
  });
});
