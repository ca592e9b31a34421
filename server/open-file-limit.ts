/**
 * The open-file limit (RLIMIT_NOFILE), and the connection caps it leaves room for. Every SIP connection,
 * HTTP connection, media socket and database file takes a descriptor; a process that runs out can accept
 * nothing at all, so one flood of connections would stop the HTTP API, SIP over every transport and call
 * setup at once. The stream connections are therefore capped below the limit, with a reserve kept for the
 * rest.
 *
 * At start the soft limit is raised to the hard one where it is lower (any process may do so, setrlimit(2)).
 * Node raises it itself as it starts on Linux, so there this mostly confirms what it did; an embedder that
 * turns that off (or a Node that does not) is covered too. The native addon (media/native/open-files.c)
 * does it in-process; without the addon, util-linux `prlimit --pid` does it from outside. The limit is
 * read from /proc/self/limits, so on other systems nothing is raised and the caps are the settings alone.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger } from './log';

const log = createLogger('open-files');

/** Descriptors kept out of the SIP stream connections' cap unless told otherwise. */
export const DEFAULT_OPEN_FILES_RESERVE = 256;
/** How long `prlimit` may take before it is given up on. */
const PRLIMIT_TIMEOUT_MS = 2_000;
const ADDON = join('build', 'Release', 'offhook_relay.node');

export interface OpenFileLimit {
  /** The limit in force; Infinity when unlimited. */
  soft: number;
  hard: number;
}

export interface RaisedLimit {
  /** The soft limit before and after; undefined where it cannot be read (not Linux). */
  before?: number;
  after?: number;
  hard?: number;
  /** What raised it, when something had to. */
  raisedBy?: 'addon' | 'prlimit';
  /** Why it is still below the hard limit. */
  failure?: string;
}

/** "Max open files  1024  524288  files" from the text of /proc/<pid>/limits; undefined when absent. */
export function parseOpenFileLimit(limitsText: string): OpenFileLimit | undefined {
  const match = /^Max open files\s+(\S+)\s+(\S+)/m.exec(limitsText);
  if (!match) return undefined;
  const value = (text: string | undefined) => (text === 'unlimited' ? Infinity : Number(text));
  const soft = value(match[1]);
  const hard = value(match[2]);
  return Number.isNaN(soft) || Number.isNaN(hard) ? undefined : { soft, hard };
}

/** This process's open-file limit, where the system says (Linux). */
export function readOpenFileLimit(): OpenFileLimit | undefined {
  if (process.platform !== 'linux') return undefined;
  try {
    return parseOpenFileLimit(readFileSync('/proc/self/limits', 'utf8'));
  } catch {
    return undefined;
  }
}

interface OpenFilesAddon {
  raiseOpenFileLimit?: () => { before: number; after: number; hard: number; error?: string };
}

/** The addon's function, from the build folder above this module (source or bundle), if it was built with it. */
function addonRaise(): OpenFilesAddon['raiseOpenFileLimit'] {
  let folder = dirname(fileURLToPath(import.meta.url));
  for (let up = 0; up < 4; up++, folder = dirname(folder)) {
    const file = join(folder, ADDON);
    if (!existsSync(file)) continue;
    try {
      return (createRequire(import.meta.url)(file) as OpenFilesAddon).raiseOpenFileLimit;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

function raiseWithPrlimit(hard: number): string | undefined {
  const result = spawnSync('prlimit', ['--pid', `${process.pid}`, `--nofile=${hard}:${hard}`], { encoding: 'utf8', timeout: PRLIMIT_TIMEOUT_MS });
  if (result.error) return `prlimit: ${result.error.message}`;
  if (result.status !== 0) return `prlimit: ${result.stderr.trim() || `exited with ${result.status}`}`;
  return undefined;
}

/**
 * Raises the soft open-file limit to the hard one where it is lower, and says how it went (logged too).
 * `via` chooses the way, for tests; by default the addon's, else prlimit.
 */
export function raiseOpenFileLimit(via: 'addon' | 'prlimit' | 'any' = 'any'): RaisedLimit {
  const current = readOpenFileLimit();
  if (!current) {
    log.info('open-file limit unknown here; connection caps are the settings alone', { platform: process.platform });
    return {};
  }
  if (current.soft >= current.hard) {
    log.info('open-file limit', { limit: current.soft, hard: current.hard });
    return { before: current.soft, after: current.soft, hard: current.hard };
  }
  const failures: string[] = [];
  let raisedBy: RaisedLimit['raisedBy'];
  const raise = via === 'prlimit' ? undefined : addonRaise();
  if (raise) {
    const outcome = raise();
    if (outcome.error) failures.push(`setrlimit: ${outcome.error}`);
    else raisedBy = 'addon';
  } else if (via === 'addon') {
    failures.push(`${ADDON} was not built with raiseOpenFileLimit`);
  }
  if (!raisedBy && via !== 'addon' && Number.isFinite(current.hard)) {
    const failure = raiseWithPrlimit(current.hard);
    if (failure) failures.push(failure);
    else raisedBy = 'prlimit';
  }
  const after = readOpenFileLimit() ?? current;
  const report: RaisedLimit = { before: current.soft, after: after.soft, hard: after.hard, ...(raisedBy ? { raisedBy } : {}) };
  if (after.soft < after.hard) {
    report.failure = failures.join('; ') || 'the limit did not change';
    log.warn('could not raise the open-file limit; connections are capped below the one in force', { ...report });
  } else {
    log.info('open-file limit raised', { ...report });
  }
  return report;
}

export interface ConnectionCaps {
  /** SIP TCP and TLS connections at once. */
  streams: number;
  /** HTTP and HTTPS connections at once (the web phone's WebSockets among them). */
  http: number;
  /** Whether the open-file limit, rather than the settings, set the SIP cap. */
  streamsLimitedByOpenFiles: boolean;
}

/**
 * The caps the open-file limit leaves room for. SIP stream connections get what the limit leaves after the
 * reserve; HTTP gets what they leave but half the reserve, which is always kept for the UDP socket, the
 * database, media sockets and the listeners, so HTTP and UDP keep working when stream connections are at
 * their cap. Each is at most its setting.
 */
export function connectionCaps(settings: { streams: number; http: number }, openFiles: number | undefined, reserve: number): ConnectionCaps {
  if (openFiles === undefined || !Number.isFinite(openFiles)) return { ...settings, streamsLimitedByOpenFiles: false };
  // A limit within the reserve leaves nothing by the rule: the streams get a quarter, and the log says so.
  const room = openFiles > reserve ? openFiles - reserve : Math.floor(openFiles / 4);
  const streams = Math.max(1, Math.min(settings.streams, room));
  const http = Math.max(1, Math.min(settings.http, openFiles - streams - Math.ceil(reserve / 2)));
  return { streams, http, streamsLimitedByOpenFiles: streams < settings.streams };
}
