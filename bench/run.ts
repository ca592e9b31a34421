/**
 * `npm run bench`: prints each benchmark as a table and writes its figures to bench/results/<name>-<time>.json.
 * Figures are medians of repeated runs, shown beside a reference measured in the same run, because the
 * machine is shared and noisy; nothing here is a pass/fail test, except the soak (bench/soak.ts), whose
 * verdict is the run's exit code.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ruleEvaluationBench } from './answering-rules';
import { eventLatency, eventLatencyTable } from './events';
import { runRelay } from './media-relay';
import { transferLatency, transferTable } from './transfer';
import { mixerBench } from './mixer';
import { nativeRelayInUse } from '../server/media/native/rtp-socket';
import { pbxMemory, sipRates } from './sip-rates';
import type { BridgeKind, RelayRun } from './media-relay';
import { soak } from './soak';
import { transcriptionBench } from './transcription';
import { voicemailBench } from './voicemail';
import { webPhoneBench, webPhoneTable } from './web-phone';

const RESULTS = join(import.meta.dirname, 'results');

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/** Calls per core the issue asks of each bridge (browser to browser has none of its own). */
const MEDIA_TARGETS: Partial<Record<BridgeKind, number>> = { 'webrtc-rtp': 300, 'webrtc-rtp-werift': 300, 'rtp-rtp': 1000, 'rtp-rtp-node': 1000 };
const MAX_ADDED_JITTER_MS = 5;

async function mediaRelay(): Promise<void> {
  const seconds = Number(process.env.BENCH_SECONDS ?? 5);
  const repeats = Number(process.env.BENCH_REPEATS ?? 3);
  const sizes = (process.env.BENCH_CALLS ?? '20,50').split(',').map(Number);
  const kinds = (process.env.BENCH_BRIDGES ?? 'rtp-rtp,rtp-rtp-node,webrtc-rtp,webrtc-rtp-werift,webrtc-webrtc').split(',') as BridgeKind[];
  if (kinds.includes('rtp-rtp') && !nativeRelayInUse()) process.stdout.write('\nThe native media relay is not built here (npm install builds it on Linux), so rtp-rtp goes through Node sockets too.\n');
  const rows: Array<Record<string, string | number>> = [];
  const raw: RelayRun[] = [];
  for (const calls of sizes) {
    const runs = new Map<string, RelayRun[]>();
    const record = (run: RelayRun) => {
      runs.set(run.mode, [...(runs.get(run.mode) ?? []), run]);
      raw.push(run);
    };
    for (let i = 0; i < repeats; i++) {
      // Interleaved so that a noisy neighbour affects references and bridges alike.
      record(await runRelay('udp-pair', calls, seconds));
      record(await runRelay('webrtc-pair', calls, seconds));
      for (const kind of kinds) record(await runRelay(kind, calls, seconds));
    }
    const med = (mode: string, pick: (r: RelayRun) => number) => median((runs.get(mode) ?? []).map(pick));
    const cpu = (r: RelayRun) => r.cpuMsPerCallSecond;
    const jitter = (r: RelayRun) => r.jitterMs;
    const reference = (kind: BridgeKind) =>
      kind.startsWith('rtp-rtp') ? { cpu: med('udp-pair', cpu), jitter: med('udp-pair', jitter) }
        : kind === 'webrtc-webrtc' ? { cpu: med('webrtc-pair', cpu), jitter: med('webrtc-pair', jitter) }
          : { cpu: (med('udp-pair', cpu) + med('webrtc-pair', cpu)) / 2, jitter: (med('udp-pair', jitter) + med('webrtc-pair', jitter)) / 2 };
    for (const kind of kinds) {
      const ref = reference(kind);
      const bridged = med(kind, cpu);
      const added = bridged - ref.cpu;
      const addedJitter = med(kind, jitter) - ref.jitter;
      const loss = med(kind, (r) => r.lossPercent);
      const perCore = added > 0 ? Math.floor(1000 / added) : Infinity;
      const target = MEDIA_TARGETS[kind];
      const clean = loss === 0 && addedJitter < MAX_ADDED_JITTER_MS;
      rows.push({
        bridge: kind,
        calls,
        'reference CPU ms/call·s': Number(ref.cpu.toFixed(3)),
        'bridged CPU ms/call·s': bridged,
        'added ms/call·s': Number(added.toFixed(3)),
        'bridged loss %': loss,
        'added jitter ms': Number(addedJitter.toFixed(2)),
        'calls per core (relay only)': Number.isFinite(perCore) ? perCore : 'n/a',
        target: target === undefined ? '' : `≥ ${target}: ${clean && perCore >= target ? 'met' : 'not met'}${clean ? '' : ' (loss or jitter)'}`,
      });
    }
  }
  process.stdout.write(`\nAnchored media, G.711 (median of ${repeats}, ${seconds} s runs, 50 packets/s each way per call; BENCH_CALLS, BENCH_BRIDGES, BENCH_REPEATS, BENCH_SECONDS)\n`);
  console.table(rows);
  process.stdout.write(`Calls per core: 1000 ms over the CPU one call-second of relaying adds; a run counts when nothing was lost and the added jitter stays under ${MAX_ADDED_JITTER_MS} ms.\n`);
  mkdirSync(RESULTS, { recursive: true });
  const file = join(RESULTS, `media-relay-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({ benchmark: 'media-relay', node: process.version, rows, raw }, null, 2));
  process.stdout.write(`figures written to ${file}\n`);
}

function writeResults(name: string, figures: Record<string, unknown>): void {
  mkdirSync(RESULTS, { recursive: true });
  const file = join(RESULTS, `${name}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({ benchmark: name, node: process.version, ...figures }, null, 2));
  process.stdout.write(`figures written to ${file}\n`);
}

// BENCH_ONLY=media|mixer|sip|memory|webphone|events|transfer|rules|voicemail|transcription|soak runs one of them.
const only = process.env.BENCH_ONLY;
/** The soak is judged (a crash, a failed call, memory over budget), unlike the measures: the run's exit code says how it went. */
let soakFailed = false;
if (!only || only === 'media') await mediaRelay();
if (!only || only === 'mixer') {
  const figures = await mixerBench();
  process.stdout.write(`\nConference mixing (median of BENCH_REPEATS runs of BENCH_SECONDS s, BENCH_MIXER_PARTICIPANTS participants, one speaker a conference; CPU ms per participant-second)\n`);
  console.table(figures.rows);
  process.stdout.write('Raw codec cost per 20 ms frame (µs, median), measured in the same run:\n');
  console.table([figures.codecs]);
  process.stdout.write('Participants per core: 1000 ms over the CPU a participant-second of mixing adds to the reference (endpoints sending to each other); a run counts when nothing was lost and the added jitter stays under 5 ms.\n');
  writeResults('mixer', figures);
}
if (!only || only === 'sip') {
  const figures = await sipRates();
  if (figures) writeResults('sip-rates', figures);
}
if (!only || only === 'memory') {
  const figures = await pbxMemory();
  if (figures) writeResults('pbx-memory', figures);
}
if (!only || only === 'webphone') {
  const figures = await webPhoneBench();
  process.stdout.write(
    `\nWeb phone in Chromium over loopback (medians; ${figures.loads} sign-ins and reloads, first calls of ${figures.sessions} sessions, ${figures.calls} calls in all; BENCH_LOADS, BENCH_SESSIONS, BENCH_WEBPHONE_CALLS)\n`,
  );
  console.table(webPhoneTable(figures));
  process.stdout.write(`First screen: ${figures.bundle.firstScreenFiles.join(', ')}; the other panes load when first opened.\n`);
  writeResults('web-phone', { ...figures });
}
if (!only || only === 'events') {
  const figures = await eventLatency();
  process.stdout.write(`\nEvent latency: publish at the PBX to handled in an app, over loopback (${figures.samples} events; BENCH_EVENT_SAMPLES, BENCH_EVENT_FANOUT)\n`);
  console.table(eventLatencyTable(figures));
  writeResults('event-latency', { ...figures });
}
if (!only || only === 'transfer') {
  const figures = await transferLatency();
  process.stdout.write(`\nTransfer and merge, the app's commands at the PBX over loopback (median of ${figures.runs} runs; BENCH_TRANSFER_RUNS)\n`);
  console.table(transferTable(figures));
  writeResults('transfer', { ...figures });
}
if (!only || only === 'rules') {
  const figures = ruleEvaluationBench();
  process.stdout.write(`\nAnswering-rule evaluation per call (${figures.rules} rules, ${figures.timeFrames} weekly frames, America/New_York; median of batches, ${figures.evaluations} evaluations)\n`);
  console.table([
    {
      'ms per evaluation': Number(figures.medianMsPerEvaluation.toFixed(4)),
      'target ms': figures.targetMs,
      'compile ms (first in the zone)': Number(figures.firstCompileMs.toFixed(3)),
      'compile ms': Number(figures.compileMs.toFixed(3)),
    },
  ]);
  writeResults('answering-rules', { ...figures });
}
if (!only || only === 'voicemail') {
  const figures = await voicemailBench();
  process.stdout.write(
    '\nVoicemail deposits at once (default greeting, record tone, a G.711 caller recorded to Ogg Opus, stored at hang-up; median of BENCH_REPEATS runs; CPU ms per deposit-second over callers sending to a sink)\n',
  );
  console.table(figures.rows);
  process.stdout.write('Deposits per core: 1000 ms over the CPU a deposit-second adds to the reference; a run counts when every message was stored.\n');
  writeResults('voicemail', figures);
}
if (!only || only === 'transcription') {
  const figures = await transcriptionBench();
  process.stdout.write('\nVoicemail transcription on the speech fixtures (tests/fixtures/speech), one message at a time (one core); real-time factor = wall-clock or CPU time over audio time, median of BENCH_REPEATS runs a file\n');
  console.table(figures.rows);
  console.table(figures.files.filter((f) => f.engine !== 'hosted').map((f) => ({ file: f.file, 'WER %': Number(((f.errors / f.words) * 100).toFixed(0)), heard: f.hypothesis })));
  process.stdout.write(
    `The wideband set is synthetic speech (flite): no recorded wideband English speech is available offline. The hosted row is measured against a fake service on 127.0.0.1 that answers at once: only the adapter's overhead. Decoding the stored Ogg Opus in the PBX's thread: ${figures.decodeMsPerMinute.toFixed(1)} ms per minute of audio, in turns of 1 s of audio: the longest wait of the event loop while a 3-minute message was decoded was ${figures.decodeLongestStallMs.toFixed(1)} ms (${figures.idleLongestStallMs.toFixed(1)} ms for as long with nothing to do).\n`,
  );
  for (const reason of figures.skipped) process.stdout.write(`skipped ${reason}\n`);
  writeResults('transcription', { ...figures });
}
if (!only || only === 'soak') {
  const result = await soak();
  writeResults('soak', result.figures);
  soakFailed = !result.ok;
}
process.exit(soakFailed ? 1 : 0);
