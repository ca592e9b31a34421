/**
 * One named logger per module of the Electron main process (`createLogger('tray')`), writing to stderr the
 * same lines as the PBX (shared/logging.ts), so one reader handles both; OFFHOOK_LOG_LEVEL picks the threshold.
 */
import { loggerFactory, parseLogLevel } from '../shared/logging';

export type { Logger, LogLevel } from '../shared/logging';

const threshold = parseLogLevel(process.env.OFFHOOK_LOG_LEVEL) ?? 'info';

export const createLogger = loggerFactory((line) => process.stderr.write(line), () => threshold);
