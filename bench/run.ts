/**
 * `npm run bench`: prints each benchmark as a table and writes its figures to bench/results/<name>-<time>.json.
 * Figures are medians of repeated runs, shown beside a reference measured in the same run, because the
 * machine is shared and noisy; nothing here is a pass/fail test.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runRelay } from './media-relay';
import { pbxMemory, sipRates } from './sip-rates';
import type { RelayRun } from './media-relay';
import { webPhoneBench, webPhoneTable } from './web-phone';

const RESULTS = join(import.meta.dirname, 'results');

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

async function mediaRelay(): Promise<void> {
  const seconds = Number(process.env.BENCH_SECONDS ?? 5);
  const repeats = Number(process.env.BENCH_REPEATS ?? 3);
  const sizes = (process.env.BENCH_CALLS ?? '5,20').split(',').map(Number);
  const rows: Array<Record<string, string | number>> = [];
  const raw: RelayRun[] = [];
  for (const calls of sizes) {
    const direct: RelayRun[] = [];
    const bridged: RelayRun[] = [];
    for (let i = 0; i < repeats; i++) {
      // Interleaved so that a noisy neighbour affects both sides alike.
      direct.push(await runRelay('direct', calls, seconds));
      bridged.push(await runRelay('bridged', calls, seconds));
    }
    raw.push(...direct, ...bridged);
    const d = median(direct.map((r) => r.cpuMsPerCallSecond));
    const b = median(bridged.map((r) => r.cpuMsPerCallSecond));
    rows.push({
      calls,
      'direct CPU ms/call·s': d,
      'bridged CPU ms/call·s': b,
      'added by anchoring ms/call·s': Number((b - d).toFixed(2)),
      'ratio bridged/direct': Number((b / d).toFixed(2)),
      'bridged loss %': median(bridged.map((r) => r.lossPercent)),
      'est. calls per core (relay only)': b - d > 0 ? Math.floor(1000 / (b - d)) : 'n/a',
    });
  }
  process.stdout.write(`\nAnchored media with werift (median of ${repeats}, ${seconds} s runs, 50 packets/s each way per call)\n`);
  console.table(rows);
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

// BENCH_ONLY=media|sip|memory|webphone runs one of them.
const only = process.env.BENCH_ONLY;
if (!only || only === 'media') await mediaRelay();
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
  process.stdout.write(`\nWeb phone in Chromium over loopback (median; ${figures.loads} page loads, ${figures.calls} calls in a row)\n`);
  console.table(webPhoneTable(figures));
  writeResults('web-phone', { ...figures });
}
process.exit(0);
