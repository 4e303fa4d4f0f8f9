import systemPackages from "../../shared/system-packages.json";
import { findOnPath } from "../process/executable.js";

export type MonitoringBinary = keyof typeof systemPackages.monitoring.binaries;
export type MonitoringBinaries = Record<MonitoringBinary, string>;

/** The exact command that installs every monitoring binary (Debian packages). */
export const MONITORING_INSTALL_COMMAND = `apt-get install -y --no-install-recommends ${systemPackages.monitoring.packages.join(" ")}`;

/** Where each binary is, or which are missing and the command that installs them. */
export function findMonitoringBinaries():
  | { available: true; binaries: MonitoringBinaries }
  | { available: false; missing: string[]; installCommand: string } {
  const found: Partial<MonitoringBinaries> = {};
  const missing: string[] = [];
  for (const [role, name] of Object.entries(systemPackages.monitoring.binaries) as [MonitoringBinary, string][]) {
    const location = findOnPath(name);
    if (location === undefined) missing.push(name);
    else found[role] = location;
  }
  if (missing.length > 0) return { available: false, missing, installCommand: MONITORING_INSTALL_COMMAND };
  return { available: true, binaries: found as MonitoringBinaries };
}

/** For tests and tools that cannot work without them: the binaries, or an error naming the install command. */
export function requireMonitoringBinaries(): MonitoringBinaries {
  const found = findMonitoringBinaries();
  if (found.available) return found.binaries;
  throw new Error(`${found.missing.join(", ")} not found on PATH: ${found.installCommand}`);
}
