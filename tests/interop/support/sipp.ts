/**
 * Runs Debian's SIPp (`sip-tester`) as a child process, always bounded (`-m` calls, `-timeout` seconds, and a
 * kill after that), and reads back what it saw: its exit code, the final statistics (`-trace_stat`), and the
 * errors it logged (`-trace_err`), so a failing test shows the SIP that went wrong.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const SCENARIOS = resolve(import.meta.dirname, '../scenarios');

export type SipTransport = 'udp' | 'tcp';

export function sippAvailable(): boolean {
  return spawnSync('sipp', ['-v'], { stdio: 'ignore' }).error === undefined;
}

export interface SippOptions {
  /** A file in tests/interop/scenarios, or an absolute path. */
  scenario: string;
  transport: SipTransport;
  /** Where the PBX listens; omitted for a UAS that only waits for calls. */
  remote?: { host: string; port: number };
  localPort: number;
  /** `-key name value` pairs: user, callee, domain, expires. */
  keys?: Record<string, string>;
  credentials?: { username: string; password: string };
  calls?: number;
  /** Calls per second (`-r`) and the most at once (`-l`). */
  rate?: number;
  limit?: number;
  /** SIPp's own overall bound; the process is killed a few seconds after it. */
  timeoutS: number;
  /** Injection file (`-inf`). */
  injection?: string;
  extraArgs?: string[];
}

export interface SippStats {
  successful: number;
  failed: number;
  created: number;
  /** Successful calls per second in each statistics period (`-fd 1`), oldest first. */
  series: number[];
  /** Every column of the last line of the statistics file, by name (cumulative "(C)" columns included). */
  columns: Record<string, string>;
}

export interface SippResult {
  exitCode: number | null;
  stats: SippStats | undefined;
  errors: string;
  output: string;
}

/** A running SIPp; `done` settles when it exits. */
export interface SippRun {
  done: Promise<SippResult>;
  kill(): void;
  /** Undefined while SIPp runs; after it exits, its exit code and the end of what it printed. */
  exited(): string | undefined;
}

export function startSipp(options: SippOptions): SippRun {
  const work = mkdtempSync(join(tmpdir(), 'offhook-sipp-'));
  const scenario = options.scenario.startsWith('/') ? options.scenario : join(SCENARIOS, options.scenario);
  const args = [
    '-sf', scenario,
    '-t', options.transport === 'udp' ? 'u1' : 't1',
    '-i', '127.0.0.1',
    '-p', String(options.localPort),
    '-m', String(options.calls ?? 1),
    '-timeout', `${options.timeoutS}s`,
    '-timeout_error',
    '-nostdin',
    '-trace_err', '-error_file', join(work, 'errors.log'),
    '-trace_stat', '-stf', join(work, 'stats.csv'), '-fd', '1',
  ];
  if (options.rate !== undefined) args.push('-r', String(options.rate));
  if (options.limit !== undefined) args.push('-l', String(options.limit));
  if (options.credentials) args.push('-au', options.credentials.username, '-ap', options.credentials.password);
  if (options.injection) args.push('-inf', options.injection);
  for (const [name, value] of Object.entries(options.keys ?? {})) args.push('-key', name, value);
  args.push(...(options.extraArgs ?? []));
  if (options.remote) args.push(`${options.remote.host}:${options.remote.port}`);

  const child = spawn('sipp', args, { cwd: work, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000)));
  child.stderr.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000)));
  const killer = setTimeout(() => child.kill('SIGKILL'), (options.timeoutS + 5) * 1000);

  let exitedWith: string | undefined;
  const done = new Promise<SippResult>((resolveDone) => {
    child.once('exit', (code, signal) => {
      clearTimeout(killer);
      exitedWith = `exit ${code ?? signal}; ${output.slice(-2_000)}`;
      const result: SippResult = {
        exitCode: code,
        stats: readStats(join(work, 'stats.csv')),
        errors: readErrors(work),
        output,
      };
      if (process.env.OFFHOOK_KEEP_SIPP) process.stdout.write(`SIPp files kept in ${work}\n`);
      else rmSync(work, { recursive: true, force: true });
      resolveDone(result);
    });
  });
  return { done, kill: () => child.kill('SIGTERM'), exited: () => exitedWith };
}

export async function runSipp(options: SippOptions): Promise<SippResult> {
  return startSipp(options).done;
}

function readStats(file: string): SippStats | undefined {
  if (!existsSync(file)) return undefined;
  const lines = readFileSync(file, 'utf8').trim().split('\n');
  const header = lines[0]?.split(';') ?? [];
  const last = lines.at(-1)?.split(';') ?? [];
  if (lines.length < 2) return undefined;
  const columns: Record<string, string> = {};
  header.forEach((name, i) => (columns[name] = last[i] ?? ''));
  const count = (name: string) => Number(columns[name] ?? 0);
  const successCol = header.indexOf('SuccessfulCall(P)');
  const elapsedCol = header.indexOf('ElapsedTime(P)');
  const series = lines.slice(1).map((line) => {
    const cells = line.split(';');
    // ElapsedTime(P) reads HH:MM:SS:microseconds.
    const [h = 0, m = 0, sec = 0, us = 0] = (cells[elapsedCol] ?? '').split(':').map(Number);
    const seconds = h * 3600 + m * 60 + sec + us / 1e6;
    return seconds > 0 ? Number(cells[successCol] ?? 0) / seconds : 0;
  });
  return { successful: count('SuccessfulCall(C)'), failed: count('FailedCall(C)'), created: count('TotalCallCreated'), series, columns };
}

function readErrors(work: string): string {
  const texts: string[] = [];
  for (const name of readdirSync(work)) if (name.endsWith('errors.log')) texts.push(readFileSync(join(work, name), 'utf8'));
  return texts.join('\n').slice(0, 8_000);
}

/** One line for an assertion message: exit code, counts, and the first errors SIPp logged. */
export function describeRun(result: SippResult): string {
  const s = result.stats;
  return `sipp exited ${result.exitCode}; ${s ? `${s.successful} successful, ${s.failed} failed of ${s.created}` : 'no statistics'}\n${result.errors || result.output.slice(-2_000)}`;
}
