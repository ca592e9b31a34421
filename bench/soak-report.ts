/**
 * The soak's verdict and tables. The verdict is what the issue asks of the PBX under mixed traffic: no crash,
 * every legitimate call, registration and message through, no wrong password accepted, and memory within
 * the budgets (peak after a full GC, peak RSS, and back near idle once the traffic has drained). What else
 * is worth knowing (responses aimed at a third party, how idle connections were treated, faults the PBX
 * contained) is printed beside it without deciding the verdict.
 */
import type { MemoryUsage } from './inspector';
import { describeCounts } from './soak-counters';
import type { SoakCounters } from './soak-counters';
import type { SoakOptions } from './soak-options';
import type { PbxExit } from './soak-pbx';

export interface MemorySample {
  atS: number;
  heapUsed: number;
  external: number;
  rss: number;
}

export interface SoakOutcome {
  options: SoakOptions;
  counters: SoakCounters;
  runFrom: string;
  trafficSeconds: number;
  drainSeconds: number;
  /** The PBX's exit while the soak ran (a crash), if it exited then; the traffic stopped with it. */
  crash: PbxExit | undefined;
  /** How the PBX ended when the soak stopped it (SIGTERM), when it was still there. */
  stopExit: PbxExit | undefined;
  idle: MemoryUsage | undefined;
  final: MemoryUsage | undefined;
  samples: MemorySample[];
  peakRss: number;
  faults: { counts: Record<string, number>; exact: boolean };
  logCounts: Record<string, number>;
  errorExamples: Record<string, string>;
  tail: string[];
}

const MB = 1024 * 1024;
const mb = (bytes: number) => Number((bytes / MB).toFixed(1));
const js = (m: { heapUsed: number; external: number }) => m.heapUsed + m.external;

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

/** Why the soak failed; empty when it passed. */
export function verdict(outcome: SoakOutcome): string[] {
  const { counters: c, options } = outcome;
  const failures: string[] = [];
  if (outcome.crash) failures.push(`the PBX exited during the soak (code ${outcome.crash.code}, signal ${outcome.crash.signal}), ${outcome.trafficSeconds.toFixed(0)} s into the traffic`);
  if (c.calls.failed > 0) failures.push(`${c.calls.failed} of ${c.calls.attempted} legitimate calls failed`);
  if (options.kinds.has('calls') && options.callPairs > 0 && c.calls.attempted === 0) failures.push('no call was attempted');
  const registrationFailures = c.registrations.UDP.failed + c.registrations.TCP.failed + c.registrations.WS.failed;
  if (registrationFailures > 0) failures.push(`${registrationFailures} legitimate registrations failed`);
  if (c.messages.failed > 0) failures.push(`${c.messages.failed} of ${c.messages.sent} messages were not delivered`);
  if (c.guesses.accepted > 0) failures.push(`${c.guesses.accepted} wrong passwords were accepted`);
  const peak = Math.max(0, ...outcome.samples.map(js));
  if (peak > options.heapBudgetMb * MB) failures.push(`heap + external peaked at ${mb(peak)} MB, over the ${options.heapBudgetMb} MB budget`);
  if (outcome.peakRss > options.rssBudgetMb * MB) failures.push(`RSS peaked at ${mb(outcome.peakRss)} MB, over the ${options.rssBudgetMb} MB budget`);
  if (outcome.idle && outcome.final && js(outcome.final) - js(outcome.idle) > options.leakAllowanceMb * MB) {
    failures.push(`after the drain, heap + external stayed ${mb(js(outcome.final) - js(outcome.idle))} MB above idle (allowance ${options.leakAllowanceMb} MB)`);
  }
  if (!outcome.crash && !outcome.final) failures.push('the PBX did not report its memory at the end');
  return failures;
}

const row = (measure: string, value: string | number, expected = '') => ({ measure, value, expected });

export function summaryRows(outcome: SoakOutcome): Array<Record<string, string | number>> {
  const { counters: c, options } = outcome;
  const peak = outcome.samples.reduce<MemorySample | undefined>((best, s) => (!best || js(s) > js(best) ? s : best), undefined);
  const lastRss = outcome.samples.at(-1)?.rss ?? 0;
  const mediaLoss = c.calls.mediaSent > 0 ? ((1 - c.calls.mediaHeard / c.calls.mediaSent) * 100).toFixed(2) : 'n/a';
  const idle = (kind: 'TCP' | 'TLS' | 'WS') => {
    const t = c.idle[kind];
    const lasted = t.lifetimesS.length ? `, median ${median(t.lifetimesS).toFixed(0)} s held` : '';
    return `${t.opened} opened, ${t.refused} refused, ${t.closedByPbx} closed by the PBX${lasted}, ${t.failedToOpen} failed to open`;
  };
  const regs = (['UDP', 'TCP', 'WS'] as const).map((t) => `${t} ${c.registrations[t].ok}/${c.registrations[t].ok + c.registrations[t].failed}`).join(', ');
  const rows = [
    row('PBX ran from', outcome.runFrom),
    row('traffic, then drain (s)', `${outcome.trafficSeconds.toFixed(0)}, then ${outcome.drainSeconds.toFixed(0)}`, `${options.seconds}, then ${options.drainSeconds}`),
    row('crashes (PBX exits during the soak)', outcome.crash ? `1: code ${outcome.crash.code}, signal ${outcome.crash.signal}, ${outcome.trafficSeconds.toFixed(0)} s into the traffic` : 0, '0'),
    row('legitimate calls attempted / completed / failed', `${c.calls.attempted} / ${c.calls.completed} / ${c.calls.failed}`, 'failed 0'),
    row('  why calls failed', describeCounts(c.calls.reasons) || '-'),
    row('call media packets sent / heard (loss %)', `${c.calls.mediaSent} / ${c.calls.mediaHeard} (${mediaLoss})`),
    row('registrations ok / tried', regs, 'all ok'),
    row('  registration notes', describeCounts(c.registrations.reasons) || '-'),
    row('messages sent / delivered / failed', `${c.messages.sent} / ${c.messages.delivered} / ${c.messages.failed}`, 'failed 0'),
    row('  why messages failed', describeCounts(c.messages.reasons) || '-'),
    row('password guesses: refused 403 / no answer / other / accepted', `${c.guesses.refused} / ${c.guesses.unanswered} / ${describeCounts(c.guesses.other) || 0} / ${c.guesses.accepted}`, 'accepted 0'),
    row('idle TCP (never send)', idle('TCP')),
    row('idle TLS (no ClientHello)', idle('TLS')),
    row('idle WebSocket', idle('WS')),
    row('responses aimed at a third party (datagrams / bytes)', `${c.reflected.datagrams} / ${c.reflected.bytes}`, '0 (received= and maddr= ignored)'),
    row('heap + external after GC: idle', outcome.idle ? mb(js(outcome.idle)) : '-'),
    row('heap + external after GC: peak (MB)', peak ? `${mb(js(peak))} at ${peak.atS.toFixed(0)} s` : '-', `≤ ${options.heapBudgetMb}`),
    row('heap + external after GC: final, after the drain (MB)', outcome.final ? mb(js(outcome.final)) : '-', outcome.idle ? `≤ ${mb(js(outcome.idle)) + options.leakAllowanceMb}` : ''),
    row('RSS: peak (VmHWM) / last reading (MB)', `${mb(outcome.peakRss)} / ${mb(outcome.final?.rss ?? lastRss)}`, `≤ ${options.rssBudgetMb}`),
    row(
      outcome.faults.exact ? 'faults the PBX contained (its own counts)' : 'faults the PBX contained (its sip-faults log lines: a floor)',
      describeCounts(outcome.faults.counts, 8) || 'none logged',
    ),
    row('PBX stop after the soak (SIGTERM)', outcome.stopExit ? `code ${outcome.stopExit.code}, signal ${outcome.stopExit.signal}` : '-', 'code 0'),
  ];
  return rows;
}

export function trafficRows(counters: SoakCounters): Array<Record<string, string | number>> {
  const c = counters;
  const registrations = (['UDP', 'TCP', 'WS'] as const).reduce((n, t) => n + c.registrations[t].ok + c.registrations[t].failed, 0);
  const legit = [
    { kind: 'legitimate: calls (INVITE, 407, 200, ACK, BYE)', sent: c.calls.attempted, MB: '', 'what came back': `${c.calls.completed} completed` },
    { kind: 'legitimate: G.711 RTP packets in calls', sent: c.calls.mediaSent, MB: mb(c.calls.mediaSent * 172), 'what came back': `${c.calls.mediaHeard} heard` },
    { kind: 'legitimate: REGISTER with digest (UDP, TCP, WS)', sent: registrations, MB: '', 'what came back': `${registrations - c.registrations.UDP.failed - c.registrations.TCP.failed - c.registrations.WS.failed} ok` },
    { kind: 'legitimate: MESSAGE between users', sent: c.messages.sent, MB: '', 'what came back': `${c.messages.delivered} delivered` },
  ].filter((row) => row.sent > 0);
  const hostile = Object.entries(c.traffic)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([kind, t]) => ({ kind, sent: t.sent, MB: mb(t.bytes), 'what came back': describeCounts(t.outcomes, 5) || '-' }));
  return [...legit, ...hostile];
}

export function logRows(logCounts: Record<string, number>, limit = 12): Array<Record<string, string | number>> {
  return Object.entries(logCounts)
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([line, times]) => ({ 'PBX log line (warn and error)': line.length > 110 ? `${line.slice(0, 107)}…` : line, times }));
}
