/**
 * SIP signalling rates with SIPp, the PBX and Kamailio side by side on this machine, with the same scenarios
 * (tests/interop/scenarios): REGISTER with digest authentication per second, and call setups per second
 * (INVITE with 407, 200, ACK, BYE; no media). For each server and kind, short runs at rising fixed rates find
 * the highest rate without a failed call; that rate then runs for the steady-state period, and the figure
 * is the median of SIPp's per-second successful rates over it. Also the PBX's memory: RSS at idle, per
 * active call.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { SETTINGS } from '../server/config';
import { DEMO_ORGANIZATION, DEMO_USERS } from '../server/store/demo';
import { freePort, waitUntilBound } from '../tests/interop/support/ports';
import { runSipp, sippAvailable, startSipp } from '../tests/interop/support/sipp';
import type { SippResult } from '../tests/interop/support/sipp';
import { findKamailio, KAMAILIO_INSTALL_HINT, kamailioVersion, rssKb, startKamailio } from './kamailio';

const DOMAIN = DEMO_ORGANIZATION.domain;
const CLI = resolve(import.meta.dirname, '../dist/server/cli.js');
const RATES = (process.env.BENCH_SIP_RATES ?? '250,500,1000,2000,4000,8000').split(',').map(Number);
const STEADY_S = Number(process.env.BENCH_SIP_SECONDS ?? 30);
const PROBE_S = 5;

interface Target {
  name: string;
  port: number;
  users: Map<string, string>;
  pids(): number[];
  stop(): Promise<void>;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length === 0 ? 0 : sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/** Why the PBX can't be measured yet, or undefined. */
export function pbxSipMissing(): string | undefined {
  const flags = new Set(Object.values(SETTINGS).map((s) => s.flag));
  if (!flags.has('--sip-udp-port')) return 'the PBX has no UDP SIP transport yet (--sip-udp-port)';
  if (!existsSync(CLI)) return `${CLI} is missing (npm run build)`;
  return undefined;
}

/** The PBX's rate limits are per source, and every SIPp here is 127.0.0.1: trust it where the CLI allows. */
function trustFlag(): string[] {
  const flag = Object.values(SETTINGS).find((s) => /trusted/i.test(s.flag))?.flag;
  return flag ? [flag, '127.0.0.1'] : [];
}

async function startPbxTarget(): Promise<Target> {
  const dataDir = mkdtempSync(join(tmpdir(), 'offhook-bench-'));
  const port = await freePort();
  const child = spawn(process.execPath, [CLI, 'serve', '--demo', '--http-port', '0', '--bind', '127.0.0.1', '--data-dir', dataDir, '--sip-udp-port', String(port), ...trustFlag()], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, OFFHOOK_LOG_LEVEL: 'error' },
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out = (out + c.toString()).slice(-5_000)));
  child.stderr.on('data', (c: Buffer) => (out = (out + c.toString()).slice(-5_000)));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  await waitUntilBound(port, 'udp', 20_000).catch(() => {
    throw new Error(`the PBX did not listen on UDP ${port}:\n${out}`);
  });
  const users = new Map(DEMO_USERS.map((u) => [u.extension, (u as { sipPassword?: string }).sipPassword ?? u.password]));
  return {
    name: 'Offhook PBX',
    port,
    users,
    pids: () => [child.pid ?? 0],
    async stop() {
      child.kill('SIGTERM');
      await exited;
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function startKamailioTarget(binary: string): Promise<Target> {
  const port = await freePort();
  const users = new Map(DEMO_USERS.map((u) => [u.extension, (u as { sipPassword?: string }).sipPassword ?? u.password]));
  const running = await startKamailio(binary, { port, domain: DOMAIN, users: [...users].map(([extension, password]) => ({ extension, password })) });
  return { name: `Kamailio ${kamailioVersion(binary)}`, port, users, pids: () => running.pids(), stop: () => running.stop() };
}

function perSecondRates(result: SippResult): number[] {
  return result.stats?.series ?? [];
}

async function registerRun(target: Target, rate: number, seconds: number): Promise<SippResult> {
  return runSipp({
    scenario: 'register.xml',
    transport: 'udp',
    remote: { host: '127.0.0.1', port: target.port },
    localPort: await freePort(),
    keys: { user: '101', domain: DOMAIN, expires: '3600' },
    credentials: { username: '101', password: target.users.get('101') ?? '' },
    calls: rate * seconds,
    rate,
    limit: rate * 4,
    timeoutS: seconds + 20,
  });
}

async function callRun(target: Target, rate: number, seconds: number): Promise<SippResult> {
  const bobPort = await freePort();
  const credentials = (extension: string) => ({ username: extension, password: target.users.get(extension) ?? '' });
  const registered = await runSipp({
    scenario: 'register.xml', transport: 'udp', remote: { host: '127.0.0.1', port: target.port }, localPort: bobPort,
    keys: { user: '102', domain: DOMAIN, expires: '3600' }, credentials: credentials('102'), timeoutS: 10,
  });
  if (registered.stats?.successful !== 1) return registered;
  const bob = startSipp({ scenario: 'answerer.xml', transport: 'udp', localPort: bobPort, keys: { domain: DOMAIN }, calls: rate * seconds, timeoutS: seconds + 30 });
  try {
    await waitUntilBound(bobPort, 'udp');
    return await runSipp({
      scenario: 'caller.xml',
      transport: 'udp',
      remote: { host: '127.0.0.1', port: target.port },
      localPort: await freePort(),
      keys: { user: '101', callee: '102', domain: DOMAIN },
      credentials: credentials('101'),
      calls: rate * seconds,
      rate,
      limit: rate * 4,
      timeoutS: seconds + 20,
    });
  } finally {
    bob.kill();
    await bob.done;
  }
}

type Run = (target: Target, rate: number, seconds: number) => Promise<SippResult>;

const clean = (r: SippResult) => r.exitCode === 0 && (r.stats?.failed ?? 1) === 0 && (r.stats?.successful ?? 0) > 0;

/** Highest rate of RATES that a short run passes with no failure, then held for STEADY_S. */
async function steadyRate(target: Target, run: Run): Promise<{ rate: number; medianPerSecond: number; successful: number; failed: number }> {
  let best = 0;
  for (const rate of RATES) {
    if (!clean(await run(target, rate, PROBE_S))) break;
    best = rate;
  }
  if (best === 0) return { rate: 0, medianPerSecond: 0, successful: 0, failed: 0 };
  const steady = await run(target, best, STEADY_S);
  const series = perSecondRates(steady);
  return { rate: best, medianPerSecond: median(series.slice(1, -1)), successful: steady.stats?.successful ?? 0, failed: steady.stats?.failed ?? 0 };
}

export async function sipRates(): Promise<Record<string, unknown> | undefined> {
  if (!sippAvailable()) {
    process.stdout.write('\nSIP rates: SIPp is not installed (Debian: sudo apt-get install sip-tester); skipped.\n');
    return undefined;
  }
  const targets: Array<() => Promise<Target>> = [];
  const pbxMissing = pbxSipMissing();
  if (pbxMissing) process.stdout.write(`\nSIP rates: the PBX is left out: ${pbxMissing}.\n`);
  else targets.push(startPbxTarget);
  const kamailio = findKamailio();
  if (kamailio) targets.push(() => startKamailioTarget(kamailio));
  else process.stdout.write(`\n${KAMAILIO_INSTALL_HINT}\n`);

  const rows: Array<Record<string, string | number>> = [];
  for (const start of targets) {
    for (const [kind, run] of [['REGISTER with digest auth', registerRun], ['call setups (INVITE/407/200/ACK/BYE)', callRun]] as const) {
      const target = await start();
      try {
        const result = await steadyRate(target, run);
        rows.push({ server: target.name, measure: kind, 'fixed rate /s': result.rate, 'median /s over steady state': result.medianPerSecond, successful: result.successful, failed: result.failed });
      } finally {
        await target.stop();
      }
    }
  }
  if (rows.length === 0) return undefined;
  const reference = (measure: string) => rows.find((r) => String(r.server).startsWith('Kamailio') && r.measure === measure);
  for (const row of rows) {
    const ref = reference(String(row.measure));
    row['ratio to Kamailio'] = ref && Number(ref['median /s over steady state']) > 0 ? Number((Number(row['median /s over steady state']) / Number(ref['median /s over steady state'])).toFixed(2)) : 'n/a';
  }
  process.stdout.write(`\nSIP signalling with SIPp over UDP on 127.0.0.1 (highest fixed rate of ${RATES.join(', ')} with 0 failures in ${PROBE_S} s, then held ${STEADY_S} s; median of per-second rates)\n`);
  console.table(rows);
  process.stdout.write('SIPp itself runs on the same 2 cores; at the top rates it, not the server, may be the limit.\n');
  return { rows, steadySeconds: STEADY_S, rates: RATES };
}

/** RSS of the PBX at idle and with N anchored calls up (plain RTP legs on both sides). */
export async function pbxMemory(): Promise<Record<string, unknown> | undefined> {
  const missing = pbxSipMissing();
  if (missing || !sippAvailable()) return undefined;
  const n = Number(process.env.BENCH_MEMORY_CALLS ?? 200);
  const target = await startPbxTarget();
  try {
    await new Promise((r) => setTimeout(r, 2_000));
    const pid = target.pids()[0] ?? 0;
    const idle = rssKb(pid);
    const calls = await (async () => {
      const bobPort = await freePort();
      const creds = (e: string) => ({ username: e, password: target.users.get(e) ?? '' });
      await runSipp({ scenario: 'register.xml', transport: 'udp', remote: { host: '127.0.0.1', port: target.port }, localPort: bobPort, keys: { user: '102', domain: DOMAIN, expires: '3600' }, credentials: creds('102'), timeoutS: 10 });
      const bob = startSipp({ scenario: 'answerer.xml', transport: 'udp', localPort: bobPort, keys: { domain: DOMAIN }, calls: n, timeoutS: 120 });
      await waitUntilBound(bobPort, 'udp');
      const alice = startSipp({
        scenario: 'caller.xml', transport: 'udp', remote: { host: '127.0.0.1', port: target.port }, localPort: await freePort(),
        keys: { user: '101', callee: '102', domain: DOMAIN }, credentials: creds('101'), calls: n, rate: 50, timeoutS: 120,
        extraArgs: ['-d', String(Math.ceil(n / 50) * 1000 + 10_000)],
      });
      await new Promise((r) => setTimeout(r, Math.ceil(n / 50) * 1000 + 5_000));
      const up = rssKb(pid);
      alice.kill();
      bob.kill();
      await Promise.all([alice.done, bob.done]);
      return up;
    })();
    const row = { 'idle RSS MB': Number((idle / 1024).toFixed(1)), calls: n, 'RSS with calls up MB': Number((calls / 1024).toFixed(1)), 'KB per active call': Math.round((calls - idle) / n) };
    process.stdout.write('\nPBX memory (RSS from /proc)\n');
    console.table([row]);
    return row;
  } finally {
    await target.stop();
  }
}
