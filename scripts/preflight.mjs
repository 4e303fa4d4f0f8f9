#!/usr/bin/env node
// Runs before `npm start` and `npm test` on a machine that may be fresh: checks Node, installs
// the npm dependencies when they are missing or stale, and names exactly what else is missing.
// Plain JavaScript with no dependencies, because it runs before anything is installed.
import { execFileSync, spawnSync } from "node:child_process";
import { accessSync, constants, existsSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const purpose = process.argv[2] ?? "start";
const problems = [];

const [major] = process.versions.node.split(".").map(Number);
if (major < 20) problems.push(`Node.js 20 or newer is needed (this is ${process.version}).`);

const javaHome = process.env.JAVA_HOME;
const java = spawnSync(javaHome ? path.join(javaHome, "bin", "java") : "java", ["-version"], { encoding: "utf8" });
if (java.error !== undefined || java.status !== 0) {
  problems.push("Java 17 or newer is needed to run DynamoDB Local: apt-get install -y openjdk-17-jre-headless");
} else {
  const version = /version "(\d+)/.exec(java.stderr)?.[1];
  if (version !== undefined && Number(version) < 17) {
    problems.push(
      `Java 17 or newer is needed to run DynamoDB Local (found Java ${version}): apt-get install -y openjdk-17-jre-headless`,
    );
  }
}

// Prometheus, Alertmanager and the blackbox exporter: Debian packages, as on the AWS instances.
// eatmydata: lets each region's DynamoDB Local keep its data on disk without paying an fsync per write.
// chromium: only the tests need it (they open the dashboard console in a real browser).
const { monitoring, storage, browser } = JSON.parse(
  readFileSync(path.join(root, "shared", "system-packages.json"), "utf8"),
);
const onPath = (name) =>
  (process.env.PATH ?? "").split(path.delimiter).some((folder) => {
    try {
      accessSync(path.join(folder, name), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
const missingIn = (group) => Object.values(group.binaries).filter((name) => !onPath(name));
const groups = purpose === "test" ? [monitoring, storage, browser] : [monitoring, storage];
const packages = groups.flatMap((group) => group.packages);
const installCommand = (names) => `apt-get install -y --no-install-recommends ${names.join(" ")}`;
if (groups.some((group) => missingIn(group).length > 0)) {
  const canInstall = process.getuid?.() === 0 && existsSync("/usr/bin/apt-get");
  if (canInstall) {
    console.error(
      `installing Prometheus, Alertmanager, the blackbox exporter, eatmydata${purpose === "test" ? " and Chromium" : ""} (${installCommand(packages)}) ...`,
    );
    const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
    const install = () =>
      spawnSync("apt-get", ["install", "-y", "-qq", "--no-install-recommends", ...packages], {
        stdio: "inherit",
        env,
      }).status === 0;
    // A fresh machine may have no package lists yet.
    if (!install()) {
      spawnSync("apt-get", ["update", "-qq"], { stdio: "inherit", env });
      install();
    }
  }
  const how = (group) => `install them as root with: ${installCommand(group.packages)}`;
  const monitoringMissing = missingIn(monitoring);
  if (monitoringMissing.length > 0) {
    if (purpose === "test")
      problems.push(`${monitoringMissing.join(", ")} missing; the tests run the real binaries: ${how(monitoring)}`);
    else
      console.error(
        `note: ${monitoringMissing.join(", ")} missing, so the local cloud runs without monitoring; ${how(monitoring)}`,
      );
  }
  const browserMissing = purpose === "test" ? missingIn(browser) : [];
  if (browserMissing.length > 0)
    problems.push(`${browserMissing.join(", ")} missing; a test opens the dashboard in it: ${how(browser)}`);
  const storageMissing = missingIn(storage);
  if (storageMissing.length > 0) {
    const why = "without it each region's DynamoDB Local syncs every write to disk, about 3× the cost";
    if (purpose === "test")
      problems.push(`${storageMissing.join(", ")} missing; ${why}, too slow for the tests' budgets: ${how(storage)}`);
    else console.error(`note: ${storageMissing.join(", ")} missing; ${why}; ${how(storage)}`);
  }
}

if (problems.length > 0) {
  console.error(`npm ${purpose} cannot run on this machine yet:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  process.exit(1);
}

const installed = path.join(root, "node_modules", ".package-lock.json");
const lock = path.join(root, "package-lock.json");
if (!existsSync(installed) || statSync(installed).mtimeMs < statSync(lock).mtimeMs) {
  // `npm install`, not `npm ci`: a registry that lacks some platforms' optional binaries (as
  // the one here does for biome) writes a lockfile that `npm ci` then calls out of sync.
  // npm itself shows only a spinner for minutes: say what is happening and what to expect.
  const first = !existsSync(installed);
  console.error(
    first
      ? "installing npm dependencies (npm install, first run): about 740 packages, 900 MB into node_modules/ " +
          "(Pulumi, the AWS SDK, artillery, vitest, esbuild, biome). It takes a few minutes: 3 min measured on a " +
          "busy 2-core machine with npm's cache already filled, longer when every package is downloaded. It runs " +
          "again only when package-lock.json changes ..."
      : "package-lock.json changed since the last install: updating npm dependencies (npm install) ...",
  );
  const installStartedAt = Date.now();
  try {
    // artillery pulls in Playwright, whose install script would download a browser the load tests
    // never use: say no here, so nobody has to remember the variable (package.json's allowScripts
    // also leaves that script unapproved).
    execFileSync("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error"], {
      cwd: root,
      stdio: "inherit",
      env: { ...process.env, PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: "1", ARTILLERY_DISABLE_TELEMETRY: "true" },
    });
  } catch {
    console.error(`npm ${purpose}: npm install failed (its output is above); fix that, then try again.`);
    process.exit(1);
  }
  console.error(`npm dependencies installed in ${Math.round((Date.now() - installStartedAt) / 1000)} s`);
}
