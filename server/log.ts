/**
 * One named logger per module (`createLogger('registrar')`). Lines go to stderr in the shared format
 * (shared/logging.ts); OFFHOOK_LOG_LEVEL picks the threshold (debug, info, warn, error, silent).
 */
import { loggerFactory, parseLogLevel } from '../shared/logging';
import type { LogLevel } from '../shared/logging';

export type { Logger, LogLevel } from '../shared/logging';

let threshold: LogLevel = parseLogLevel(process.env.OFFHOOK_LOG_LEVEL) ?? 'info';

export function setLogLevel(level: LogLevel): void {
  threshold = level;
}

export const createLogger = loggerFactory((line) => process.stderr.write(line), () => threshold);
