/** Prometheus durations ("5m", "1h", "3d") as data, and the local cloud's time scaling of them. */

const UNIT_MS = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000, ms: 1 } as const;
type Unit = keyof typeof UNIT_MS;

export function durationMs(text: string): number {
  const match = /^(\d+)(ms|s|m|h|d)$/.exec(text);
  if (match === null) throw new Error(`"${text}" is not a Prometheus duration such as 5m or 1h`);
  return Number(match[1]) * UNIT_MS[match[2] as Unit];
}

/** The largest unit that writes the duration exactly: 3600000 → "1h", 45000 → "45s". */
export function formatDuration(ms: number): string {
  const whole = Math.max(1, Math.round(ms));
  for (const unit of Object.keys(UNIT_MS) as Unit[]) {
    if (whole % UNIT_MS[unit] === 0) return `${whole / UNIT_MS[unit]}${unit}`;
  }
  return `${whole}ms`;
}

/**
 * A duration shrunk by the local cloud's --time-scale, never below `floorMs` (a rate window
 * needs at least a few samples). At scale 1 the text comes back as written.
 */
export function scaleDuration(text: string, timeScale: number, floorMs = 1000): string {
  if (timeScale === 1) return text;
  return formatDuration(Math.max(floorMs, durationMs(text) * timeScale));
}
