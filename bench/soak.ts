/**
 * The soak (`BENCH_ONLY=soak npm run bench`, 10 minutes by default, BENCH_SOAK_SECONDS to shorten): the PBX
 * as a child process under mixed traffic, all on loopback, bounded in rate, count and time, stopping by
 * itself. Legitimate traffic (soak-legit.ts: calls with media between UDP desk phones, registrations over
 * UDP, TCP and WebSocket, messages) runs beside hostile traffic from many other addresses (soak-hostile.ts,
 * soak-idle.ts: malformed packets, the known killer, password guessing, 60 KB requests, idle TCP, TLS and
 * WebSocket connections). The PBX's memory is read after a forced full GC every few seconds, its peak RSS
 * from the kernel.
 *
 * If the PBX exits during the soak, that is a crash: every generator stops at once (its sockets are closed,
 * its waits end), the report says when and shows the PBX's last words, and the soak fails. It fails too if a
 * legitimate call, registration or message failed, a wrong password was accepted, or memory went over its
 * budgets (soak-report.ts). Settings: soak-options.ts, all printed at the start.
 */
import type { MemoryUsage } from './inspector';
import type { BenchUser } from './sip-rates';
import { SoakContext, describeError } from './soak-context';
import { count, newCounters } from './soak-counters';
import { guessingTraffic, largeTraffic, malformedTraffic, victim } from './soak-hostile';
import { idleTraffic } from './soak-idle';
import { legitTraffic } from './soak-legit';
import type { LegitUsers } from './soak-legit';
import { describeOptions, heapBudgetMb, soakOptions } from './soak-options';
import type { SoakOptions } from './soak-options';
import { startSoakPbx } from './soak-pbx';
import type { SoakPbx } from './soak-pbx';
import { logRows, summaryRows, trafficRows, verdict } from './soak-report';
import type { MemorySample, SoakOutcome } from './soak-report';
import { SocketRegistry } from './soak-wire';

/** How long traffic under way may take to finish once the run stops (a call's hold, a transaction's 64·T1). */
const FINISH_GRACE_MS = 40_000;
const PROGRESS_EVERY_MS = 30_000;
const DECOYS = 5;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

interface SoakUsers {
  legit: LegitUsers;
  /** Accounts only ever guessed at. */
  decoys: BenchUser[];
  all: BenchUser[];
}

function soakUsers(options: SoakOptions): SoakUsers {
  const make = (base: number, n: number) => Array.from({ length: n }, (_, i) => ({ extension: String(base + i), password: `soak-${base + i}-sip` }));
  const legit = { callers: make(4000, options.callPairs * 2), tcp: make(4100, options.streamUsers), ws: make(4200, options.streamUsers) };
  const decoys = make(4900, DECOYS);
  return { legit, decoys, all: [...legit.callers, ...legit.tcp, ...legit.ws, ...decoys] };
}

export interface SoakResult {
  ok: boolean;
  figures: Record<string, unknown>;
}

function progress(context: SoakContext, latest: MemorySample | undefined): string {
  const c = context.counters;
  const sentTotal = (prefix: string) => Object.entries(c.traffic).filter(([k]) => k.startsWith(prefix)).reduce((n, [, t]) => n + t.sent, 0);
  const regs = c.registrations.UDP.ok + c.registrations.TCP.ok + c.registrations.WS.ok;
  const regsFailed = c.registrations.UDP.failed + c.registrations.TCP.failed + c.registrations.WS.failed;
  const memory = latest ? `, heap+ext ${((latest.heapUsed + latest.external) / 1048576).toFixed(0)} MB, RSS ${(latest.rss / 1048576).toFixed(0)} MB` : '';
  return `  [${context.elapsedS.toFixed(0)} s] calls ${c.calls.completed}/${c.calls.attempted} completed, registrations ${regs} ok ${regsFailed} failed, messages ${c.messages.delivered}/${c.messages.sent}, malformed ${sentTotal('malformed')}, guesses ${c.guesses.attempts}, large ${sentTotal('large')}, reflected ${c.reflected.datagrams}${memory}`;
}

/** Reads memory every sampleSeconds until `done`; the samples go to `samples`. */
async function sampleMemory(pbx: SoakPbx, options: SoakOptions, startedAt: number, samples: MemorySample[], done: () => boolean): Promise<void> {
  while (!done() && !pbx.exit) {
    await sleep(options.sampleSeconds * 1000);
    if (done()) return;
    const memory = await pbx.memory();
    if (memory) samples.push({ atS: (Date.now() - startedAt) / 1000, heapUsed: memory.heapUsed, external: memory.external, rss: memory.rss });
  }
}

export async function soak(): Promise<SoakResult> {
  const options = soakOptions(process.env);
  const log = (line: string) => process.stdout.write(`${line}\n`);
  log(`\nSoak: ${options.seconds} s of mixed traffic on loopback against the PBX as a child process. Settings:`);
  for (const line of describeOptions(options)) log(line);

  const users = soakUsers(options);
  const pbx = await startSoakPbx(users.all);
  try {
    return await soakAgainst(pbx, options, users, log);
  } finally {
    // Whatever happened, the PBX is not left running (stop() after stop() only answers the first exit again).
    await pbx.stop();
  }
}

async function soakAgainst(pbx: SoakPbx, options: SoakOptions, users: SoakUsers, log: (line: string) => void): Promise<SoakResult> {
  log(`  PBX pid ${pbx.pid}, from ${pbx.runFrom}; UDP ${pbx.address.udp}, TCP ${pbx.address.tcp}, TLS ${pbx.address.tls}, HTTP ${pbx.address.http}`);
  for (const line of pbx.limits) log(`  PBX limit: ${line}`);
  options.heapBudgetMb = heapBudgetMb(options, pbx.heldBytesBudget);
  log(`  heap + external budget: ${options.heapBudgetMb} MB${pbx.heldBytesBudget === undefined ? ' (the PBX printed no held-bytes budget)' : ''}`);
  await sleep(2_000);
  const idle: MemoryUsage | undefined = await pbx.memory();
  // BENCH_SOAK_HEAP_SNAPSHOT=/some/prefix writes the PBX's heap at idle and after the drain, to compare in DevTools.
  const snapshots = process.env.BENCH_SOAK_HEAP_SNAPSHOT;
  if (snapshots && (await pbx.heapSnapshot(`${snapshots}-idle.heapsnapshot`))) log(`  heap snapshot at idle: ${snapshots}-idle.heapsnapshot`);

  const registry = new SocketRegistry();
  const context = new SoakContext(options, newCounters(), registry, pbx.address);
  let stoppingPbx = false;
  void pbx.exited.then((exit) => {
    if (stoppingPbx) return;
    log(`  ✗ the PBX exited after ${(exit.atMs / 1000).toFixed(1)} s (code ${exit.code}, signal ${exit.signal}); stopping the soak`);
    context.markPbxGone();
    registry.closeAll();
  });

  const samples: MemorySample[] = [];
  let peakRss = 0;
  const rssTimer = setInterval(() => (peakRss = Math.max(peakRss, pbx.rss()?.peak ?? 0)), 1_000);
  const progressTimer = setInterval(() => log(progress(context, samples.at(-1))), PROGRESS_EVERY_MS);
  let sampling = true;
  const sampler = sampleMemory(pbx, options, context.startedAt, samples, () => !sampling);

  const generatorErrors: Record<string, number> = {};
  const guard = (name: string, work: Promise<void>) => work.catch((error: unknown) => count(generatorErrors, `${name}: ${describeError(error)}`));
  const kinds = options.kinds;
  const generators: Array<Promise<void>> = [guard('legitimate traffic', legitTraffic(context, users.legit))];
  if (kinds.has('malformed') || kinds.has('killers')) generators.push(guard('malformed', victim(context).then((target) => malformedTraffic(context, target))));
  if (kinds.has('guessing')) generators.push(guard('guessing', guessingTraffic(context, [...users.decoys, ...users.legit.tcp, ...users.legit.ws])));
  if (kinds.has('large')) generators.push(guard('large', largeTraffic(context)));
  if (kinds.has('idle')) generators.push(guard('idle', idleTraffic(context)));

  await context.hold(options.seconds * 1000);
  const trafficSeconds = context.elapsedS;
  context.stop();
  const finished = Promise.all(generators);
  await Promise.race([finished, sleep(FINISH_GRACE_MS)]);
  registry.closeAll();
  await Promise.race([finished, sleep(5_000)]);
  clearInterval(progressTimer);

  const drainStarted = Date.now();
  let final: MemoryUsage | undefined;
  if (!pbx.exit) {
    log(`  traffic stopped after ${trafficSeconds.toFixed(0)} s; ${options.drainSeconds} s of quiet before the final reading`);
    await sleep(options.drainSeconds * 1000);
    final = await pbx.memory();
    if (snapshots && (await pbx.heapSnapshot(`${snapshots}-final.heapsnapshot`))) log(`  heap snapshot after the drain: ${snapshots}-final.heapsnapshot`);
  }
  sampling = false;
  await sampler;
  clearInterval(rssTimer);
  peakRss = Math.max(peakRss, pbx.rss()?.peak ?? 0);
  const crash = pbx.exit;
  stoppingPbx = true;
  const stopExit = crash ? undefined : await pbx.stop();

  const outcome: SoakOutcome = {
    options, counters: context.counters, runFrom: pbx.runFrom, trafficSeconds, drainSeconds: (Date.now() - drainStarted) / 1000,
    crash, stopExit, idle, final, samples, peakRss, faults: pbx.faults(), logCounts: pbx.logCounts, errorExamples: pbx.errorExamples, tail: pbx.tail(),
  };
  const failures = verdict(outcome);
  log(`\nSoak (${trafficSeconds.toFixed(0)} s of traffic; BENCH_SOAK_SECONDS, BENCH_SOAK_KINDS and the settings above)`);
  console.table(summaryRows(outcome));
  log('Traffic sent, by kind, and what the PBX sent back');
  console.table(trafficRows(context.counters));
  const logged = logRows(pbx.logCounts);
  if (logged.length) console.table(logged);
  const examples = Object.values(pbx.errorExamples);
  if (examples.length) log(`The first of each error the PBX logged:\n  ${examples.join('\n  ')}`);
  if (Object.keys(generatorErrors).length) log(`The soak's own generators failed: ${JSON.stringify(generatorErrors)}`);
  if (crash) log(`\nThe PBX's last lines before it exited:\n${pbx.tail().join('\n')}`);
  log(failures.length ? `\nSOAK FAILED:\n  - ${failures.join('\n  - ')}` : '\nSOAK PASSED: no crash, every legitimate call, registration and message through, memory within its budgets');
  return {
    ok: failures.length === 0,
    figures: { ...outcome, options: { ...options, kinds: [...options.kinds] }, failures, generatorErrors },
  };
}
