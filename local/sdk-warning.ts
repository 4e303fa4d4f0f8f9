/**
 * The AWS SDK warns once per process that releases from 2027 will need Node 22; Lambda runs
 * nodejs22.x and this machine Node 20. Hide only that warning.
 */
export function quietSdkNodeWarning(): void {
  process.removeAllListeners("warning");
  process.on("warning", (warning) => {
    if (!warning.message.startsWith("NodeVersionSupportWarning")) console.warn(`${warning.name}: ${warning.message}`);
  });
}
