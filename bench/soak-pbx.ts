/**
 * The PBX under soak, as a child process, so that a crash is seen for what it is: the process exiting.
 * It runs `serve` from dist/ when the build there is newer than the sources, else from the sources through
 * tsx (so a soak during development tests the code as it is), with the inspector on loopback so the bench
 * can force a full garbage collection before reading its memory (bench/inspector.ts).
 *
 * Its log (stderr, at info; BENCH_SOAK_PBX_LOG_LEVEL to change) is read line by line: warnings and errors
 * are counted by module and message, and so are the SIP edge's fault lines (server/sip/edge/faults.ts logs each
 * kind up to a burst, then says how many more it left out). Kinds it logs below info (malformed, sendFailed)
 * are seen that way only beyond the burst, so these counts are a floor.
 *
 * The exact counts (`SipEndpoint.faults.snapshot`) live inside the PBX. The hook for them: a log line of the
 * `sip-faults` module with the message `counts` and the snapshot as its fields (as `log.info('counts',
 * faults.snapshot)` on shutdown would write it) replaces the floor with the exact figures.
 *
 * BENCH_SOAK_FROM=source runs the sources even when dist/ is newer.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { inspectorUrl, memoryAfterGc, writeHeapSnapshot } from './inspector';
import type { MemoryUsage } from './inspector';
import { prepareDataDir } from './sip-rates';
import type { BenchUser } from './sip-rates';
import type { PbxAddress } from './soak-wire';

const ROOT = resolve(import.meta.dirname, '..');
const DIST_CLI = join(ROOT, 'dist/server/cli.js');
const SOURCE_CLI = join(ROOT, 'server/cli.ts');
const START_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 15_000;
/** A reading of memory that takes longer than this (the process is stuck or gone) counts as none. */
const MEMORY_TIMEOUT_MS = 20_000;
const TAIL_LINES = 40;
const MAX_LOG_KEYS = 200;
const MAX_EXAMPLE_CHARS = 600;

export interface PbxExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Milliseconds after the start of the process. */
  atMs: number;
}

/** `level [module] message` of each log line at warn or above, and each SIP fault kind, with how often. */
export type LogCounts = Record<string, number>;

export interface SoakPbx {
  address: PbxAddress;
  pid: number;
  /** `dist` or `source`, and the command that ran. */
  runFrom: string;
  /** The resource limits the PBX printed at start (open files, connections, held bytes), as it printed them. */
  limits: string[];
  /** Its total budget for the bytes of requests it holds, when it printed one. */
  heldBytesBudget: number | undefined;
  /** Set once the process has exited, whoever caused it. */
  exit: PbxExit | undefined;
  exited: Promise<PbxExit>;
  logCounts: LogCounts;
  /** The first line logged at error, for each of those keys, fields and all (cut short). */
  errorExamples: Record<string, string>;
  /** Faults by kind: the PBX's own counts when it logged them, else what its log lines add up to (a floor). */
  faults(): { counts: Record<string, number>; exact: boolean };
  /** The last lines the process wrote, for a report after a crash. */
  tail(): string[];
  /** Heap and RSS after a full garbage collection; undefined when the process did not answer. */
  memory(): Promise<MemoryUsage | undefined>;
  /** Writes a heap snapshot of the PBX to `file`; false when it could not. */
  heapSnapshot(file: string): Promise<boolean>;
  /** Resident set now and its peak so far (VmRSS, VmHWM), in bytes. */
  rss(): { now: number; peak: number } | undefined;
  /** SIGTERM, and SIGKILL if it has not gone within the grace; the exit as seen. */
  stop(): Promise<PbxExit>;
}

/** The newest modification time of the files under `dir`, in ms. */
function newest(dir: string): number {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return latest;
}

function command(): { args: string[]; runFrom: string } {
  let built = 0;
  try {
    built = statSync(DIST_CLI).mtimeMs;
  } catch {
    // not built
  }
  const sources = Math.max(newest(join(ROOT, 'server')), newest(join(ROOT, 'shared')));
  if (process.env.BENCH_SOAK_FROM !== 'source' && built > sources) return { args: [DIST_CLI], runFrom: 'dist (dist/server/cli.js)' };
  return { args: ['--import', 'tsx', SOURCE_CLI], runFrom: 'source (server/cli.ts through tsx; dist/ is missing or older than the sources)' };
}

function readStatus(pid: number): { now: number; peak: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
    return { now: kb('VmRSS'), peak: kb('VmHWM') };
  } catch {
    return undefined;
  }
}

const LOG_LINE = /^\S+ (debug|info|warn|error)\s+\[([^\]]+)\] (.*?)(?: (\{.*\}))?$/;
/** The lines of serve's start-up text that state resource limits (server/resource-limits.ts). */
const LIMIT_LINE = /^\s+(open files|SIP TCP\/TLS|SIP held bytes|HTTP\s{2,})/;
const INSPECTOR_NOTE = /^(Debugger (listening|attached|ending)|For help, see: https:\/\/nodejs\.org)/;
const SUPPRESSED = /^(\d+) more of "(\w+)" were not logged$/;

export async function startSoakPbx(users: readonly BenchUser[]): Promise<SoakPbx> {
  const dataDir = await prepareDataDir(users);
  const { args, runFrom } = command();
  const serve = [
    'serve', '--demo', '--bind', '127.0.0.1', '--data-dir', dataDir, '--web-root', join(dataDir, 'no-web-phone'),
    '--http-port', '0', '--sip-udp-port', '0', '--sip-tcp-port', '0', '--sip-tls-port', '0',
  ];
  const child = spawn(process.execPath, ['--inspect=127.0.0.1:0', ...args, ...serve], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, OFFHOOK_LOG_LEVEL: process.env.BENCH_SOAK_PBX_LOG_LEVEL ?? 'info' },
  });
  const started = Date.now();
  const tail: string[] = [];
  const logCounts: LogCounts = {};
  const errorExamples: Record<string, string> = {};
  const faults: Record<string, number> = {};
  let exactFaults: Record<string, number> | undefined;
  let stdout = '';
  let inspector: string | undefined;
  let partial = '';
  const keep = (line: string) => {
    tail.push(line);
    if (tail.length > TAIL_LINES) tail.shift();
  };
  const countLine = (line: string) => {
    const match = LOG_LINE.exec(line);
    if (!match) {
      // Not a log line: Node's own words (a stack trace on a crash) are what matter most in the tail; the
      // inspector's notes on each memory reading are not.
      if (line.trim() && !INSPECTOR_NOTE.test(line)) keep(line);
      return;
    }
    const [, level = '', module = '', message = '', fields = ''] = match;
    if (level === 'warn' || level === 'error') {
      keep(line);
      const key = `${level} [${module}] ${message}`;
      if (key in logCounts || Object.keys(logCounts).length < MAX_LOG_KEYS) logCounts[key] = (logCounts[key] ?? 0) + 1;
      if (level === 'error' && !(key in errorExamples) && Object.keys(errorExamples).length < MAX_LOG_KEYS) errorExamples[key] = line.slice(0, MAX_EXAMPLE_CHARS);
    }
    if (module === 'sip-faults' && message === 'counts' && fields) {
      try {
        exactFaults = JSON.parse(fields) as Record<string, number>;
      } catch {
        // not the snapshot after all
      }
      return;
    }
    if (module === 'sip-faults') {
      const suppressed = SUPPRESSED.exec(message);
      const kind = suppressed?.[2] ?? /"kind":"(\w+)"/.exec(fields)?.[1];
      if (kind) faults[kind] = (faults[kind] ?? 0) + (suppressed ? Number(suppressed[1]) : 1);
    }
  };
  child.stdout.on('data', (chunk: Buffer) => {
    if (stdout.length < 20_000) stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    const text = partial + chunk.toString();
    const lines = text.split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      inspector ??= inspectorUrl(line);
      countLine(line);
    }
  });
  let exit: PbxExit | undefined;
  const exited = new Promise<PbxExit>((resolveExit) =>
    child.once('exit', (code, signal) => {
      if (partial) countLine(partial);
      exit = { code, signal, atMs: Date.now() - started };
      resolveExit(exit);
    }),
  );

  const port = (pattern: RegExp) => Number(pattern.exec(stdout)?.[1] ?? NaN);
  const listening = () => /SIP over TLS\s+sip:[^:]+:\d+/.test(stdout) && /HTTP port\s+\d+/.test(stdout);
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!listening() && !exit && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  if (!listening()) {
    if (!exit) child.kill('SIGKILL');
    await exited;
    rmSync(dataDir, { recursive: true, force: true });
    throw new Error(`the PBX did not start (${runFrom}):\n${stdout}\n${tail.join('\n')}`);
  }
  const address: PbxAddress = {
    host: '127.0.0.1',
    udp: port(/SIP over UDP\s+sip:[^:]+:(\d+)/),
    tcp: port(/SIP over TCP\s+sip:[^:]+:(\d+)/),
    tls: port(/SIP over TLS\s+sip:[^:]+:(\d+)/),
    http: port(/HTTP port\s+(\d+)/),
  };
  const pid = child.pid ?? 0;
  const limits = stdout.split('\n').filter((line) => LIMIT_LINE.test(line)).map((line) => line.trim());
  const held = /SIP held bytes\s+(\d+(?:\.\d+)?)([KMG]?)\b/.exec(stdout);
  const heldBytesBudget = held ? Number(held[1]) * 1024 ** ' KMG'.indexOf(held[2] || ' ') : undefined;
  return {
    address,
    pid,
    runFrom,
    limits,
    heldBytesBudget,
    get exit() {
      return exit;
    },
    exited,
    logCounts,
    errorExamples,
    faults: () => (exactFaults ? { counts: exactFaults, exact: true } : { counts: { ...faults }, exact: false }),
    tail: () => [...tail],
    async memory() {
      if (exit || !inspector) return undefined;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), MEMORY_TIMEOUT_MS)));
      try {
        return await Promise.race([memoryAfterGc(inspector).catch(() => undefined), timeout, exited.then(() => undefined)]);
      } finally {
        clearTimeout(timer);
      }
    },
    async heapSnapshot(file) {
      if (exit || !inspector) return false;
      return writeHeapSnapshot(inspector, file).then(() => true, () => false);
    },
    rss: () => (exit ? undefined : readStatus(pid)),
    async stop() {
      if (!exit) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dataDir, { recursive: true, force: true });
      return exit ?? (await exited);
    },
  };
}
