import { accessSync, constants } from "node:fs";
import path from "node:path";

/** The full path of an executable found on PATH, as a shell would find it; undefined when absent. */
export function findOnPath(name: string): string | undefined {
  for (const directory of (process.env.PATH ?? "").split(path.delimiter)) {
    if (directory === "") continue;
    const candidate = path.join(directory, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; next directory
    }
  }
  return undefined;
}
