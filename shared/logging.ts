/**
 * The logger shape every Offhook runtime shares, and the line format the two Node processes (the PBX and
 * Electron's main) write: `time level [name] message {fields}`. Each runtime supplies where lines go and the
 * threshold; this file touches no runtime API.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export function parseLogLevel(value: string | undefined): LogLevel | undefined {
  return value && value in RANK ? (value as LogLevel) : undefined;
}

/** Makes `createLogger(name)` for a runtime: `write` receives whole lines, `threshold` is read on every line. */
export function loggerFactory(write: (line: string) => void, threshold: () => LogLevel): (name: string) => Logger {
  return (name) => {
    const log = (level: Exclude<LogLevel, 'silent'>, message: string, fields?: Record<string, unknown>) => {
      if (RANK[level] < RANK[threshold()]) return;
      const extra = fields && Object.keys(fields).length > 0 ? ` ${safeJson(fields)}` : '';
      write(`${new Date().toISOString()} ${level.padEnd(5)} [${name}] ${message}${extra}\n`);
    };
    return {
      debug: (m, f) => log('debug', m, f),
      info: (m, f) => log('info', m, f),
      warn: (m, f) => log('warn', m, f),
      error: (m, f) => log('error', m, f),
    };
  };
}

function safeJson(fields: Record<string, unknown>): string {
  try {
    return JSON.stringify(fields, (_key, value: unknown) => (value instanceof Error ? value.message : value));
  } catch {
    return '{unserializable}';
  }
}
