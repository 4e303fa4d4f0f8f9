export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";

const SEVERITY: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 };

export type LogFields = Record<string, string | number | boolean | undefined>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

/**
 * A structured JSON logger: one line per call. It writes to stdout directly, as Powertools
 * does, because Lambda's patched console would wrap an already-JSON line in another object.
 */
export function createLogger(options: { level: LogLevel; base: LogFields; write?: (line: string) => void }): Logger {
  const threshold = SEVERITY[options.level];
  const write = options.write ?? ((line: string) => process.stdout.write(line));
  const log = (level: Exclude<LogLevel, "silent">, message: string, fields?: LogFields) => {
    if (SEVERITY[level] < threshold) return;
    write(
      `${JSON.stringify({ level: level.toUpperCase(), timestamp: new Date().toISOString(), message, ...options.base, ...fields })}\n`,
    );
  };
  return {
    debug: (message, fields) => log("debug", message, fields),
    info: (message, fields) => log("info", message, fields),
    warn: (message, fields) => log("warn", message, fields),
    error: (message, fields) => log("error", message, fields),
  };
}
