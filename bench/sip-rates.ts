/**
 * Why past 500 lines: one benchmark that starts, drives and measures two servers (the PBX and Kamailio) with
 * the same SIPp scenarios and the same probe-and-hold rule; splitting the servers' set-up from the measuring
 * would be the seam.
 *
 * SIP signalling rates with SIPp, the PBX and Kamailio side by side on this machine, with the same users and
 * scenarios: REGISTER with digest authentication per second (bench/scenarios/register-users.xml, cycling
 * through BENCH_SIP_USERS users), and call setups per second (tests/interop/scenarios caller.xml and
 * answerer.xml: INVITE with 407, 200, ACK, BYE; no media, though the PBX still anchors each call's media on
 * plain RTP legs, which is its real cost). For each server and kind, short probes at rising fixed rates find
 * the highest rate SIPp sustains with no failed call; one probe narrows it, at the pace the server kept when
 * it lost nothing but fell short of a rate, else halfway to the first failing rate;
 * that rate is then held for the steady-state period, stepping back by a quarter if the hold fails. Each
 * probe starts once the server has been idle for a second (what an overloaded probe leaves behind, such as
 * retransmissions to a stopped SIPp, lasts up to 64·T1 and is not the next probe's to pay for). The
 * figure is the median of SIPp's per-second successful rates over the hold. Beside it, the server's own CPU
 * time per successful call over the hold (user and system, from /proc, every Kamailio process summed), and
 * what one core would carry at that cost: a figure that the machine's other load moves far less than rates.
 *
 * What keeps the comparison fair and the failures real (the reasons earlier runs lost calls on Kamailio):
 * - SIPp's sockets get 4 MB buffers (-buff_size), Kamailio probes up to the same (maxbuffer); with the
 *   default 64 KB a burst overflows a socket and the loss shows up as a failed call after a retransmission.
 * - Kamailio answers REGISTER inside a transaction (t_newtran), so a retransmitted REGISTER is absorbed as
 *   the PBX's transaction layer absorbs it. Statelessly, the retransmission met a one-time nonce already
 *   used and got a fresh 401, which SIPp counts as a failed registration.
 * - The answering SIPp has no call bound of its own (-m, -l): a stray message (an ACK resent after a late
 *   2xx retransmission) opens a call there and used to count towards -m, so the answerer exited before the
 *   caller's last calls. It is stopped after the caller ends, and the caller's count, which sees every call
 *   from INVITE to the 200 for BYE, is the one reported.
 * - Kamailio's children relay the answerer's 180 and 200 in parallel, and now and then the 200 arrives
 *   first; SIPp failed those calls on the late 180. The caller's authenticated INVITE is now a SIPp
 *   transaction (caller.xml start_txn), and SIPp ignores a provisional response after its final one.
 * - A probe's rate counts only when SIPp reached 90 % of it: with -l capping calls at once, an overloaded
 *   server shows up as a lower rate rather than as failures. The hold is judged on failures alone.
 *
 * Also the PBX's memory: RSS at idle, per registration (BENCH_MEMORY_USERS distinct users each registered
 * once, read after their REGISTER transactions have ended) and per active call (BENCH_MEMORY_CALLS calls
 * held up, plain RTP legs on both sides).
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { SETTINGS } from '../server/config';
import { closeDatabase, openDatabase } from '../server/store/db';
import { DEMO_ORGANIZATION, DEMO_USERS, seedDemo } from '../server/store/demo';
import { setDevicePassword } from '../server/store/device-credentials';
import { migrateToLatest } from '../server/store/migrate';
import { freePort, waitUntilBound } from '../tests/interop/support/ports';
import { runSipp, sippAvailable, startSipp } from '../tests/interop/support/sipp';
import type { SippResult } from '../tests/interop/support/sipp';
import { inspectorUrl, memoryAfterGc } from './inspector';
import type { MemoryUsage } from './inspector';
import { findKamailio, KAMAILIO_INSTALL_HINT, kamailioVersion, startKamailio } from './kamailio';

const DOMAIN = DEMO_ORGANIZATION.domain;
const CLI = resolve(import.meta.dirname, '../dist/server/cli.js');
const REGISTER_USERS = resolve(import.meta.dirname, 'scenarios/register-users.xml');
const RATES = (process.env.BENCH_SIP_RATES ?? '250,500,1000,2000,4000,8000').split(',').map(Number);
const STEADY_S = Number(process.env.BENCH_SIP_SECONDS ?? 30);
const PROBE_S = Number(process.env.BENCH_SIP_PROBE_SECONDS ?? 5);
const USERS = Number(process.env.BENCH_SIP_USERS ?? 1000);
/** Which servers and measures to run (both of each by default): BENCH_SIP_SERVERS=pbx,kamailio, BENCH_SIP_MEASURES=register,calls. */
const SERVERS = (process.env.BENCH_SIP_SERVERS ?? 'pbx,kamailio').split(',');
const MEASURES = (process.env.BENCH_SIP_MEASURES ?? 'register,calls').split(',');
/** Socket buffers for SIPp and Kamailio; Linux caps them at net.core.rmem_max / wmem_max. */
const BUFFER_BYTES = 4 * 1024 * 1024;
const SIPP_ARGS = ['-buff_size', String(BUFFER_BYTES)];
const TARGETS = { registration: 0.5, calls: 1000, callsFloor: 500, kbPerRegistration: 2, kbPerCall: 300 };

export interface BenchUser {
  extension: string;
  password: string;
}

interface Target {
  name: string;
  port: number;
  /** The PBX's inspector, when started with one (bench/inspector.ts). */
  inspector?: () => string | undefined;
  users: readonly BenchUser[];
  pids(): number[];
  stop(): Promise<void>;
}

/** Clock ticks per second, the unit of /proc/<pid>/stat's CPU times. */
const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** User plus system CPU milliseconds the processes have used so far (a process already gone counts 0). */
function cpuMs(pids: readonly number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      // After "pid (comm) ", fields start at the state (field 3); utime and stime are fields 14 and 15.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // gone
    }
  }
  return (ticks * 1000) / CLOCK_TICKS;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length === 0 ? 0 : sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/** The demo users (101 calls 102) and `count` more, extensions 2000 up, each with a SIP password. */
function benchUsers(count: number): BenchUser[] {
  const demo = DEMO_USERS.map((u) => ({ extension: u.extension, password: u.sipPassword ?? u.password }));
  const more = Array.from({ length: count }, (_, i) => ({ extension: String(2000 + i), password: `bench-${2000 + i}-sip` }));
  return [...demo, ...more];
}

/**
 * A data folder with the demo organization and the bench users. The users' login password hash is copied
 * from a demo user (scrypt for thousands of users would take minutes and plays no part in SIP); their SIP
 * passwords, which digest authentication uses, go through the store as `offhook-pbx user sip-password` does.
 */
export async function prepareDataDir(users: readonly BenchUser[]): Promise<string> {
  const dataDir = mkdtempSync(join(tmpdir(), 'offhook-bench-'));
  const db = openDatabase(join(dataDir, 'offhook.db'));
  try {
    await migrateToLatest(db);
    const { organization, users: seeded } = await seedDemo(db);
    const template = await db.selectFrom('users').select('password_hash').where('id', '=', seeded[0]?.id ?? 0).executeTakeFirstOrThrow();
    const now = new Date().toISOString();
    const extra = users.filter((u) => !DEMO_USERS.some((d) => d.extension === u.extension));
    await db.transaction().execute(async (trx) => {
      for (const user of extra) {
        const row = await trx
          .insertInto('users')
        .values({ organization_id: organization.id, extension: user.extension, display_name: `Bench ${user.extension}`, role: 'user', password_hash: template.password_hash, created_at: now, updated_at: now })
          .returning('id')
          .executeTakeFirstOrThrow();
        await setDevicePassword(trx, row.id, user.password);
      }
    });
  } finally {
    await closeDatabase(db);
  }
  return dataDir;
}

function injectionFile(users: readonly BenchUser[]): string {
  const file = join(mkdtempSync(join(tmpdir(), 'offhook-bench-users-')), 'users.csv');
  writeFileSync(file, `SEQUENTIAL\n${users.map((u) => `${u.extension};[authentication username=${u.extension} password=${u.password}]`).join('\n')}\n`);
  return file;
}

/** Why the PBX can't be measured yet, or undefined. */
export function pbxSipMissing(): string | undefined {
  if (!existsSync(CLI)) return `${CLI} is missing (npm run build)`;
  return undefined;
}

async function startPbxTarget(users: readonly BenchUser[], options: { inspect?: boolean } = {}): Promise<Target> {
  const dataDir = await prepareDataDir(users);
  const port = await freePort();
  // Every SIPp here is 127.0.0.1, and the PBX limits requests per source: trusted, as an edge proxy would be.
  const args = [CLI, 'serve', '--demo', '--http-port', '0', '--bind', '127.0.0.1', '--data-dir', dataDir, '--sip-udp-port', String(port), '--sip-tcp-port', 'off', '--sip-tls-port', 'off', SETTINGS.sipTrustedSources.flag, '127.0.0.1'];
  // BENCH_PBX_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof", profiles the PBX under the load.
  const nodeArgs = [...(process.env.BENCH_PBX_NODE_ARGS ?? '').split(' ').filter(Boolean), ...(options.inspect ? ['--inspect=127.0.0.1:0'] : [])];
  let inspector: string | undefined;
  const child = spawn(process.execPath, [...nodeArgs, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, OFFHOOK_LOG_LEVEL: 'error' } });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out = (out + c.toString()).slice(-5_000)));
  child.stderr.on('data', (c: Buffer) => {
    out = (out + c.toString()).slice(-5_000);
    inspector ??= inspectorUrl(out);
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  await waitUntilBound(port, 'udp', 20_000).catch(() => {
    child.kill('SIGKILL');
    throw new Error(`the PBX did not listen on UDP ${port}:\n${out}`);
  });
  return {
    name: 'Offhook PBX',
    port,
    users,
    inspector: () => inspector,
    pids: () => [child.pid ?? 0],
    async stop() {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

const KAMAILIO_CHILDREN = Number(process.env.BENCH_KAMAILIO_CHILDREN ?? 2);

async function startKamailioTarget(binary: string, users: readonly BenchUser[]): Promise<Target> {
  const port = await freePort();
  const running = await startKamailio(binary, { port, domain: DOMAIN, users, children: KAMAILIO_CHILDREN, bufferBytes: BUFFER_BYTES });
  return { name: `Kamailio ${kamailioVersion(binary)} (${KAMAILIO_CHILDREN} UDP children)`, port, users, pids: () => running.pids(), stop: () => running.stop() };
}

function password(target: Target, extension: string): string {
  return target.users.find((u) => u.extension === extension)?.password ?? '';
}

/** Registers `calls` users in turn from the injection file, at `rate` per second. */
function registerUsers(target: Target, injection: string, rate: number, calls: number, localPort: number): Promise<SippResult> {
  return runSipp({
    scenario: REGISTER_USERS,
    transport: 'udp',
    remote: { host: '127.0.0.1', port: target.port },
    localPort,
    keys: { domain: DOMAIN, expires: '3600' },
    injection,
    calls,
    rate,
    limit: Math.max(100, rate),
    timeoutS: Math.ceil(calls / rate) + 20,
    extraArgs: SIPP_ARGS,
  });
}

async function registerRun(target: Target, rate: number, seconds: number): Promise<SippResult> {
  const injection = injectionFile(target.users);
  try {
    return await registerUsers(target, injection, rate, rate * seconds, await freePort());
  } finally {
    rmSync(resolve(injection, '..'), { recursive: true, force: true });
  }
}

async function callRun(target: Target, rate: number, seconds: number): Promise<SippResult> {
  const bobPort = await freePort();
  const credentials = (extension: string) => ({ username: extension, password: password(target, extension) });
  const registered = await runSipp({
    scenario: 'register.xml', transport: 'udp', remote: { host: '127.0.0.1', port: target.port }, localPort: bobPort,
    keys: { user: '102', domain: DOMAIN, expires: '3600' }, credentials: credentials('102'), timeoutS: 10,
  });
  if (registered.stats?.successful !== 1) return registered;
  // No -m or -l of its own: it answers whatever comes and is stopped once the caller is done.
  const bob = startSipp({
    scenario: 'answerer.xml', transport: 'udp', localPort: bobPort, keys: { domain: DOMAIN },
    calls: rate * seconds * 10 + 1_000, limit: 1_000_000, timeoutS: seconds + 60, extraArgs: SIPP_ARGS,
  });
  try {
    // Under load SIPp can be slow to open its socket; the probe then fails rather than the bench.
    await waitUntilBound(bobPort, 'udp', 20_000);
    return await runSipp({
      scenario: 'caller.xml',
      transport: 'udp',
      remote: { host: '127.0.0.1', port: target.port },
      localPort: await freePort(),
      keys: { user: '101', callee: '102', domain: DOMAIN },
      credentials: credentials('101'),
      calls: rate * seconds,
      rate,
      limit: Math.max(100, rate * 2),
      timeoutS: seconds + 30,
      extraArgs: SIPP_ARGS,
    });
  } finally {
    bob.kill();
    await bob.done;
    // A binding left behind is a device that never answers: every call of the next run would ring it too,
    // retransmitting an INVITE there until Timer B (RFC 3261 §9.1 allows no CANCEL before a provisional).
    const unregistered = await runSipp({
      scenario: 'register.xml', transport: 'udp', remote: { host: '127.0.0.1', port: target.port }, localPort: bobPort,
      keys: { user: '102', domain: DOMAIN, expires: '0' }, credentials: credentials('102'), timeoutS: 10,
    });
    if (unregistered.stats?.successful !== 1) process.stdout.write(`    (102's binding at port ${bobPort} was not removed: later runs ring it too)\n`);
  }
}

type Run = (target: Target, rate: number, seconds: number) => Promise<SippResult>;

interface Attempt {
  rate: number;
  seconds: number;
  successful: number;
  failed: number;
  medianPerSecond: number;
  /** The server's CPU time over the run, divided by its successful calls. */
  cpuMsPerCall: number;
  /** Messages SIPp had to send again for want of an answer within its timer (its Retransmissions(C)). */
  retransmissions: number;
  clean: boolean;
}

/** Below this share of a core the server counts as idle. */
const IDLE_CPU_SHARE = 0.1;
/** Longer than any transaction timer (64·T1 = 32 s), so a server always gets there. */
const SETTLE_MAX_MS = 40_000;

/**
 * Waits until the server has been idle for a second: a probe that overloaded it leaves retransmissions and
 * transactions to a stopped SIPp behind for up to 64·T1, and the next probe should not pay for them.
 */
async function settle(pids: readonly number[]): Promise<void> {
  const deadline = Date.now() + SETTLE_MAX_MS;
  let last = cpuMs(pids);
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 1_000));
    const now = cpuMs(pids);
    if (now - last < 1_000 * IDLE_CPU_SHARE) return;
    last = now;
  }
}

async function attempt(target: Target, run: Run, rate: number, seconds: number): Promise<Attempt> {
  const pids = target.pids();
  await settle(pids);
  const cpuBefore = cpuMs(pids);
  const result = await run(target, rate, seconds).catch((error: unknown) => ({ exitCode: null, stats: undefined, errors: String(error), output: '' }));
  const cpu = cpuMs(pids) - cpuBefore;
  const successful = result.stats?.successful ?? 0;
  const failed = result.stats?.failed ?? 0;
  // The first and last periods are partial: ramp-up and draining.
  const series = result.stats?.series ?? [];
  const medianPerSecond = Math.round(median(series.length > 2 ? series.slice(1, -1) : series));
  // A probe must also reach the rate asked for; the hold is judged on failures alone, its median is the figure.
  const clean = result.exitCode === 0 && failed === 0 && successful === rate * seconds && (seconds === STEADY_S || medianPerSecond >= rate * 0.9);
  const cpuMsPerCall = successful > 0 ? Number((cpu / successful).toFixed(3)) : 0;
  const retransmissions = Number(result.stats?.columns['Retransmissions(C)'] ?? 0);
  return { rate, seconds, successful, failed, medianPerSecond, cpuMsPerCall, retransmissions, clean };
}

/** The highest rate with no failure in a probe, narrowed once, then held for STEADY_S (stepping back on failure). */
async function steadyRate(target: Target, run: Run, log: (line: string) => void): Promise<{ held?: Attempt; attempts: Attempt[] }> {
  const attempts: Attempt[] = [];
  const probe = async (rate: number, seconds: number) => {
    const a = await attempt(target, run, rate, seconds);
    attempts.push(a);
    log(`    ${rate}/s for ${seconds} s: ${a.successful} ok, ${a.failed} failed, median ${a.medianPerSecond}/s, server CPU ${a.cpuMsPerCall} ms each, ${a.retransmissions} sent again${a.clean ? '' : '  ✗'}`);
    return a;
  };
  let best = 0;
  let failedAt: number | undefined;
  /** The pace of a probe that lost nothing but fell short of its rate: the server's own pace. */
  let pace: number | undefined;
  for (const rate of RATES) {
    const a = await probe(rate, PROBE_S);
    if (!a.clean) {
      failedAt = rate;
      if (a.failed === 0 && a.successful === rate * PROBE_S) pace = Math.floor(a.medianPerSecond / 10) * 10;
      break;
    }
    best = rate;
  }
  const low = best === 0 ? Math.round((failedAt ?? RATES[0] ?? 100) / 4) : best;
  if (failedAt !== undefined) {
    const mid = pace !== undefined && pace > low ? pace : Math.round((low + failedAt) / 2);
    if ((await probe(mid, PROBE_S)).clean) best = mid;
    else if (best === 0 && (await probe(low, PROBE_S)).clean) best = low;
  }
  for (let rate = best, tries = 0; rate > 0 && tries < 2; rate = Math.floor(rate * 0.75), tries++) {
    const held = await probe(rate, STEADY_S);
    if (held.clean) return { held, attempts };
  }
  return { attempts };
}

export async function sipRates(): Promise<Record<string, unknown> | undefined> {
  if (!sippAvailable()) {
    process.stdout.write('\nSIP rates: SIPp is not installed (Debian: sudo apt-get install sip-tester); skipped.\n');
    return undefined;
  }
  const users = benchUsers(USERS);
  const targets: Array<() => Promise<Target>> = [];
  const pbxMissing = pbxSipMissing();
  if (pbxMissing) process.stdout.write(`\nSIP rates: the PBX is left out: ${pbxMissing}.\n`);
  else if (SERVERS.includes('pbx')) targets.push(() => startPbxTarget(users));
  const kamailio = findKamailio();
  if (kamailio && SERVERS.includes('kamailio')) targets.push(() => startKamailioTarget(kamailio, users));
  else if (!kamailio) process.stdout.write(`\n${KAMAILIO_INSTALL_HINT}\n`);

  const log = (line: string) => process.stdout.write(`${line}\n`);
  log(`\nSIP rates: probes of ${PROBE_S} s at ${RATES.join(', ')}/s, then ${STEADY_S} s held (BENCH_SIP_RATES, BENCH_SIP_PROBE_SECONDS, BENCH_SIP_SECONDS)`);
  const kinds = ([['register', 'REGISTER with digest auth', registerRun], ['calls', 'call setups (INVITE/407/200/ACK/BYE)', callRun]] as const)
    .filter(([key]) => MEASURES.includes(key))
    .map(([, kind, run]) => [kind, run] as const);
  const rows: Array<Record<string, string | number>> = [];
  const raw: Array<Record<string, unknown>> = [];
  for (const start of targets) {
    for (const [kind, run] of kinds) {
      const target = await start();
      log(`  ${target.name}, ${kind}:`);
      try {
        const { held, attempts } = await steadyRate(target, run, log);
        raw.push({ server: target.name, measure: kind, attempts });
        rows.push({
          server: target.name,
          measure: kind,
          'held rate /s': held?.rate ?? 0,
          'median /s over hold': held?.medianPerSecond ?? 0,
          successful: held?.successful ?? 0,
          failed: held?.failed ?? 0,
          'server CPU ms each': held?.cpuMsPerCall ?? 0,
          'per core at that cost /s': held && held.cpuMsPerCall > 0 ? Math.round(1000 / held.cpuMsPerCall) : 0,
        });
      } finally {
        await target.stop();
      }
    }
  }
  if (rows.length === 0) return undefined;
  const reference = (measure: string) => rows.find((r) => String(r.server).startsWith('Kamailio') && r.measure === measure);
  for (const row of rows) {
    const ref = reference(String(row.measure));
    const ours = Number(row['median /s over hold']);
    const theirs = Number(ref?.['median /s over hold'] ?? 0);
    row['ratio to Kamailio'] = ref && theirs > 0 ? Number((ours / theirs).toFixed(2)) : 'n/a';
    if (String(row.server).startsWith('Kamailio')) row.target = 'reference';
    else if (String(row.measure).startsWith('REGISTER')) {
      row.target = ref ? `≥ ${TARGETS.registration} × Kamailio = ${Math.round(theirs * TARGETS.registration)}/s: ${ours >= theirs * TARGETS.registration ? 'met' : 'not met'}` : `≥ ${TARGETS.registration} × Kamailio`;
    } else {
      row.target = `≥ ${TARGETS.calls}/s (floor ${TARGETS.callsFloor}): ${ours >= TARGETS.calls ? 'met' : ours >= TARGETS.callsFloor ? 'floor met' : 'not met'}`;
    }
  }
  process.stdout.write(`\nSIP signalling with SIPp over UDP on 127.0.0.1, ${users.length} users (highest rate with 0 failures held ${STEADY_S} s; median of per-second rates)\n`);
  console.table(rows);
  process.stdout.write('SIPp itself runs on the same 2 cores; at the top rates it, not the server, may be the limit. The PBX is one Node.js process; Kamailio forks its UDP children.\n');
  return { rows, raw, users: users.length, steadySeconds: STEADY_S, probeSeconds: PROBE_S, rates: RATES, targets: TARGETS };
}

/** Timer J (64·T1) and a few seconds for the heap to shrink after it. */
const LINGER_MS = Number(process.env.BENCH_MEMORY_LINGER_MS ?? 40_000);

/**
 * RSS of the PBX at idle, after each of N users registers once, what each of K ended calls leaves while its
 * transactions linger (64·T1 after the call: what a sustained call rate piles up), and with M anchored calls
 * up (plain RTP legs on both sides).
 */
export async function pbxMemory(): Promise<Record<string, unknown> | undefined> {
  const missing = pbxSipMissing();
  if (missing || !sippAvailable()) return undefined;
  const registrations = Number(process.env.BENCH_MEMORY_USERS ?? 2000);
  const n = Number(process.env.BENCH_MEMORY_CALLS ?? 200);
  const ended = Number(process.env.BENCH_MEMORY_ENDED_CALLS ?? 2000);
  const users = benchUsers(registrations);
  const target = await startPbxTarget(users, { inspect: true });
  const settle = () => new Promise((r) => setTimeout(r, 3_000));
  const measure = async (): Promise<MemoryUsage> => {
    const url = target.inspector?.();
    if (!url) throw new Error('the PBX did not open its inspector');
    return memoryAfterGc(url);
  };
  try {
    await settle();
    const idle = await measure();

    const bench = users.filter((u) => Number(u.extension) >= 2000);
    const injection = injectionFile(bench);
    const registered = await registerUsers(target, injection, 250, bench.length, await freePort());
    rmSync(resolve(injection, '..'), { recursive: true, force: true });
    // What a registration costs while it lasts, not the REGISTER transactions that linger 64·T1 (32 s, Timer J)
    // after their answer to absorb retransmissions: measured once those have ended.
    await new Promise((r) => setTimeout(r, LINGER_MS));
    const afterRegistrations = await measure();

    const bobPort = await freePort();
    const creds = (e: string) => ({ username: e, password: password(target, e) });
    await runSipp({ scenario: 'register.xml', transport: 'udp', remote: { host: '127.0.0.1', port: target.port }, localPort: bobPort, keys: { user: '102', domain: DOMAIN, expires: '3600' }, credentials: creds('102'), timeoutS: 10 });

    // Calls that end at once (SIPp's -d 0), at a rate that finishes them well within 64·T1, measured while
    // every one of their transactions still lingers; then the next step waits for those to end.
    const endedRate = 250;
    const answerer = startSipp({ scenario: 'answerer.xml', transport: 'udp', localPort: bobPort, keys: { domain: DOMAIN }, calls: ended, limit: 1_000_000, timeoutS: 120, extraArgs: SIPP_ARGS });
    await waitUntilBound(bobPort, 'udp');
    const endedRun = await runSipp({
      scenario: 'caller.xml', transport: 'udp', remote: { host: '127.0.0.1', port: target.port }, localPort: await freePort(),
      keys: { user: '101', callee: '102', domain: DOMAIN }, credentials: creds('101'), calls: ended, rate: endedRate, limit: ended, timeoutS: 120, extraArgs: SIPP_ARGS,
    });
    const withLingering = await measure();
    answerer.kill();
    await answerer.done;
    const endedCount = endedRun.stats?.successful ?? 0;
    await new Promise((r) => setTimeout(r, LINGER_MS));
    const afterLingering = await measure();

    const rate = 50;
    const rampMs = Math.ceil(n / rate) * 1000;
    const bob = startSipp({ scenario: 'answerer.xml', transport: 'udp', localPort: bobPort, keys: { domain: DOMAIN }, calls: n * 10, limit: 1_000_000, timeoutS: 120, extraArgs: SIPP_ARGS });
    await waitUntilBound(bobPort, 'udp');
    const alice = startSipp({
      scenario: 'caller.xml', transport: 'udp', remote: { host: '127.0.0.1', port: target.port }, localPort: await freePort(),
      keys: { user: '101', callee: '102', domain: DOMAIN }, credentials: creds('101'), calls: n, rate, limit: n, timeoutS: 120,
      extraArgs: [...SIPP_ARGS, '-d', String(rampMs + 15_000)],
    });
    await new Promise((r) => setTimeout(r, rampMs + 5_000));
    const withCalls = await measure();
    alice.kill();
    bob.kill();
    await Promise.all([alice.done, bob.done]);

    const registeredCount = registered.stats?.successful ?? 0;
    const kb = (bytes: number) => bytes / 1024;
    const each = (from: MemoryUsage, to: MemoryUsage, count: number, key: 'rss' | 'heapUsed') => (count > 0 ? kb(to[key] - from[key]) / count : NaN);
    const perRegistration = each(idle, afterRegistrations, registeredCount, 'heapUsed');
    const perEnded = each(afterRegistrations, withLingering, endedCount, 'heapUsed');
    const perCall = each(afterLingering, withCalls, n, 'heapUsed');
    const mb = (bytes: number) => Number((bytes / 1024 / 1024).toFixed(1));
    const rows = [
      { measure: 'idle', count: '', 'RSS MB': mb(idle.rss), 'heap MB': mb(idle.heapUsed), 'heap KB each': '', 'RSS KB each': '', target: '' },
      {
        measure: 'registrations (distinct users)', count: registeredCount, 'RSS MB': mb(afterRegistrations.rss), 'heap MB': mb(afterRegistrations.heapUsed),
        'heap KB each': Number(perRegistration.toFixed(2)), 'RSS KB each': Number(each(idle, afterRegistrations, registeredCount, 'rss').toFixed(2)),
        target: `< ${TARGETS.kbPerRegistration} KB: ${perRegistration < TARGETS.kbPerRegistration ? 'met' : 'not met'}`,
      },
      {
        measure: 'ended calls, transactions lingering 64·T1', count: endedCount, 'RSS MB': mb(withLingering.rss), 'heap MB': mb(withLingering.heapUsed),
        'heap KB each': Number(perEnded.toFixed(2)), 'RSS KB each': Number(each(afterRegistrations, withLingering, endedCount, 'rss').toFixed(2)),
        target: `${Math.round((perEnded * 1000 * 32) / 1024)} MB held at 1,000 calls/s`,
      },
      {
        measure: 'active calls (anchored, plain RTP legs)', count: n, 'RSS MB': mb(withCalls.rss), 'heap MB': mb(withCalls.heapUsed),
        'heap KB each': Math.round(perCall), 'RSS KB each': Math.round(each(afterLingering, withCalls, n, 'rss')),
        target: `< ${TARGETS.kbPerCall} KB: ${perCall < TARGETS.kbPerCall ? 'met' : 'not met'}`,
      },
    ];
    process.stdout.write(`\nPBX memory after a full garbage collection (through its inspector): each step's growth over the one before, divided by its count. Targets are judged on the heap the step left in use; RSS also shows how far V8 grew its heap for the step's garbage and keeps it.\n`);
    console.table(rows);
    if (registeredCount !== bench.length) process.stdout.write(`only ${registeredCount} of ${bench.length} registrations succeeded\n`);
    if (endedCount !== ended) process.stdout.write(`only ${endedCount} of ${ended} ended calls succeeded\n`);
    return { rows, idle, afterRegistrations, withLingering, afterLingering, withCalls, registrations: registeredCount, endedCalls: endedCount, calls: n, targets: TARGETS };
  } finally {
    await target.stop();
  }
}
