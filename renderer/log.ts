/**
 * One named logger per module (`createLogger('phone')`), as in the rest of Offhook. The renderer writes to the
 * DevTools console, which is where a person debugging the app (or a test's browser log) looks. Debug lines are
 * shown in development builds, or in any build after `localStorage.setItem('offhook.debug', '1')`. Unit tests
 * provoke failures on purpose, so under test only errors are written.
 */
import type { Logger } from '../shared/logging';

export type { Logger };

type Level = keyof Logger;

const RANK: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

function threshold(): Level {
  try {
    if (globalThis.localStorage?.getItem('offhook.debug') === '1') return 'debug';
  } catch {
    // Storage can be unavailable (privacy settings); the default threshold applies.
  }
  if (import.meta.env?.MODE === 'test') return 'error';
  return import.meta.env?.DEV ? 'debug' : 'info';
}

export function createLogger(name: string): Logger {
  const write = (level: Level, message: string, fields?: Record<string, unknown>) => {
    if (RANK[level] < RANK[threshold()]) return;
    const line = `[${name}] ${message}`;
    // This is the renderer's one sanctioned use of the console: every module logs through here.
    // eslint-disable-next-line no-console
    const sink = console[level];
    if (fields && Object.keys(fields).length > 0) sink(line, fields);
    else sink(line);
  };
  return {
    debug: (m, f) => write('debug', m, f),
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
  };
}

/** An error as one line of a log entry: its message, or the thrown value itself when it is not an Error. */
export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
