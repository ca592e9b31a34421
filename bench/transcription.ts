/**
 * Voicemail transcription (issue #17): real-time factor on one core and word error rate on the speech
 * fixtures shipped with the tests (tests/fixtures/speech/manifest.json), for each engine.
 *
 * - pocketsphinx, wideband set: 16 kHz messages. There is no recorded wideband English speech available
 *   offline here, so this set is synthetic (flite's 16 kHz voices); the figure flatters the engine.
 * - pocketsphinx, narrowband set: recorded human speech (Asterisk prompts, 8 kHz, stored as from a G.711 call),
 *   upsampled to 16 kHz as a narrowband voicemail would be. The PBX does not do this (such messages are marked
 *   `narrowband`); the row shows why.
 * - hosted: the adapter against a fake service on 127.0.0.1 that answers at once, so its figure is only the
 *   adapter's own overhead (WAV encoding and a loopback HTTP round trip), not any real service's speed or
 *   accuracy.
 *
 * Messages run one after another, so pocketsphinx (a single-threaded process) uses one core. Two real-time
 * factors: wall clock (what a message waits, on this shared machine, with the engine's lowered priority), and
 * the CPU time of the pocketsphinx process (user + system, read by a wrapper script with bash's `times`), which
 * is the figure for one core whatever else runs. Medians of BENCH_REPEATS runs per file. Also timed: decoding
 * the stored Ogg Opus in the PBX's own thread, which the transcriber does before handing audio to an engine.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { HostedEngine } from '../server/features/transcription/hosted';
import { DEBIAN_POCKETSPHINX, pocketsphinxMissing, PocketsphinxEngine, POCKETSPHINX_RATE } from '../server/features/transcription/pocketsphinx';
import type { SpeechAudio, TranscriptionEngine } from '../server/features/transcription/engine';
import { wordErrors } from '../server/features/transcription/word-error-rate';
import { decodeAudio, decodeAudioAsync, encodeOggOpus, resample } from '../server/media/audio-file';
import { SPEECH_FIXTURES_DIR, speechFixtures } from '../tests/fixtures/speech/manifest';
import type { SpeechFixture } from '../tests/fixtures/speech/manifest';

interface FileResult {
  engine: string;
  set: string;
  file: string;
  audioSeconds: number;
  seconds: number;
  /** CPU seconds of the engine's process, when measured. */
  cpuSeconds: number | undefined;
  reference: string;
  hypothesis: string;
  errors: number;
  words: number;
}

export interface TranscriptionRow {
  engine: string;
  set: string;
  files: number;
  'audio s': number;
  'real-time factor (wall)': number;
  'real-time factor (CPU)': number | string;
  'WER %': number | string;
}

export interface TranscriptionFigures {
  rows: TranscriptionRow[];
  files: FileResult[];
  /** Decoding stored Ogg Opus, ms per minute of audio, in the PBX's thread. */
  decodeMsPerMinute: number;
  /** The longest the event loop waited while a 3-minute 16 kHz message was decoded in turns, in ms... */
  decodeLongestStallMs: number;
  /** ...and, for reference, for as long with nothing to do (the machine's own scheduling noise). */
  idleLongestStallMs: number;
  skipped: string[];
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

interface Decoded {
  fixture: SpeechFixture;
  audio: SpeechAudio;
}

function decodeAll(): { decoded: Decoded[]; decodeMsPerMinute: number } {
  let ms = 0;
  let audioMs = 0;
  const decoded = speechFixtures().map((fixture) => {
    const bytes = readFileSync(join(SPEECH_FIXTURES_DIR, fixture.file));
    const started = performance.now();
    const { samples, rate, durationMs } = decodeAudio(bytes, fixture.file, { opusAtInputRate: true });
    ms += performance.now() - started;
    audioMs += durationMs;
    return { fixture, audio: { samples, rate } };
  });
  return { decoded, decodeMsPerMinute: (ms / audioMs) * 60_000 };
}

async function run(
  engine: TranscriptionEngine,
  set: string,
  items: { fixture: SpeechFixture; audio: SpeechAudio }[],
  repeats: number,
  scored: boolean,
  cpuOfLastRun?: () => number,
): Promise<{ row: TranscriptionRow; files: FileResult[] }> {
  const files: FileResult[] = [];
  for (const { fixture, audio } of items) {
    const times: number[] = [];
    const cpu: number[] = [];
    let hypothesis = '';
    for (let i = 0; i < repeats; i++) {
      const started = performance.now();
      hypothesis = await engine.transcribe(audio, new AbortController().signal);
      times.push((performance.now() - started) / 1000);
      if (cpuOfLastRun) cpu.push(cpuOfLastRun());
    }
    const { errors, words } = wordErrors(fixture.text, hypothesis);
    const audioSeconds = audio.samples.length / audio.rate;
    files.push({ engine: engine.name, set, file: fixture.file, audioSeconds, seconds: median(times), cpuSeconds: cpuOfLastRun ? median(cpu) : undefined, reference: fixture.text, hypothesis, errors, words });
  }
  const audioSeconds = files.reduce((sum, f) => sum + f.audioSeconds, 0);
  const seconds = files.reduce((sum, f) => sum + f.seconds, 0);
  const cpuSeconds = files.reduce((sum, f) => sum + (f.cpuSeconds ?? 0), 0);
  const errors = files.reduce((sum, f) => sum + f.errors, 0);
  const words = files.reduce((sum, f) => sum + f.words, 0);
  return {
    row: {
      engine: engine.name,
      set,
      files: files.length,
      'audio s': Number(audioSeconds.toFixed(1)),
      'real-time factor (wall)': Number((seconds / audioSeconds).toFixed(scored ? 3 : 5)),
      'real-time factor (CPU)': cpuOfLastRun ? Number((cpuSeconds / audioSeconds).toFixed(3)) : 'n/a',
      'WER %': scored ? Number(((errors / words) * 100).toFixed(1)) : 'n/a (fake service)',
    },
    files,
  };
}

export async function transcriptionBench(): Promise<TranscriptionFigures> {
  const repeats = Number(process.env.BENCH_REPEATS ?? 3);
  const { decoded, decodeMsPerMinute } = decodeAll();
  const wideband = decoded.filter((d) => d.fixture.band === 'wideband');
  const narrowband = decoded.filter((d) => d.fixture.band === 'narrowband');
  const rows: TranscriptionRow[] = [];
  const files: FileResult[] = [];
  const skipped: string[] = [];

  const missing = pocketsphinxMissing();
  if (missing === undefined) {
    const measured = measuredPocketsphinx();
    try {
      await runLocal(measured);
    } finally {
      measured.dispose();
    }
  } else {
    skipped.push(`pocketsphinx: ${missing}`);
  }

  async function runLocal({ engine: local, cpuOfLastRun }: ReturnType<typeof measuredPocketsphinx>): Promise<void> {
    const at16k = (d: Decoded) => ({ fixture: d.fixture, audio: { samples: d.audio.rate === POCKETSPHINX_RATE ? d.audio.samples : resample(d.audio.samples, d.audio.rate, POCKETSPHINX_RATE), rate: POCKETSPHINX_RATE } });
    for (const [set, items] of [
      ['wideband 16 kHz (synthetic, flite)', wideband.map(at16k)],
      ['narrowband 8 kHz upsampled (recorded, Asterisk prompts)', narrowband.map(at16k)],
    ] as const) {
      const result = await run(local, set, items, repeats, true, cpuOfLastRun);
      rows.push(result.row);
      files.push(...result.files);
    }
  }

  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => response.writeHead(200, { 'Content-Type': 'application/json' }).end('{"text":""}'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const hosted = new HostedEngine({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, key: 'bench' });
    const asSent = (d: Decoded) => {
      const rate = d.fixture.band === 'wideband' ? hosted.rates.wideband : hosted.rates.narrowband;
      return { fixture: d.fixture, audio: { samples: d.audio.rate === rate ? d.audio.samples : resample(d.audio.samples, d.audio.rate, rate), rate } };
    };
    const result = await run(hosted, 'all, against a local fake (adapter overhead only)', decoded.map(asSent), repeats, false);
    rows.push(result.row);
    files.push(...result.files);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
  return { rows, files, decodeMsPerMinute, ...(await longestStallDecodingAsync()), skipped };
}

/**
 * The pocketsphinx engine run through a wrapper script that writes the CPU time of the real program (bash's
 * `times`: user and system of its children) to a file after each message.
 */
function measuredPocketsphinx(): { engine: PocketsphinxEngine; cpuOfLastRun: () => number; dispose: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'offhook-bench-ps-'));
  const timesFile = join(dir, 'times');
  const wrapper = join(dir, 'pocketsphinx');
  writeFileSync(wrapper, `#!/bin/bash\n${DEBIAN_POCKETSPHINX.binary} "$@"\nstatus=$?\ntimes > ${timesFile}\nexit $status\n`);
  chmodSync(wrapper, 0o755);
  const seconds = (text: string) => {
    const match = /^(\d+)m([\d.]+)s$/.exec(text);
    return match ? Number(match[1]) * 60 + Number(match[2]) : Number.NaN;
  };
  return {
    engine: new PocketsphinxEngine({ ...DEBIAN_POCKETSPHINX, binary: wrapper }),
    cpuOfLastRun: () => {
      // Second line: the children's user and system time.
      const [user = '', system = ''] = (readFileSync(timesFile, 'utf8').split('\n')[1] ?? '').trim().split(/\s+/);
      return seconds(user) + seconds(system);
    },
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** A 3-minute wideband message (the voicemail maximum) decoded as the transcriber does: the event loop's longest wait. */
async function longestStallDecodingAsync(): Promise<{ decodeLongestStallMs: number; idleLongestStallMs: number }> {
  const rate = 16_000;
  const speechLike = Int16Array.from({ length: rate * 180 }, (_, i) => Math.round(6000 * Math.sin(i / 7) + 2000 * Math.sin(i / 3.1)));
  const ogg = encodeOggOpus(speechLike, rate);
  const longestWait = async (work: () => Promise<unknown>) => {
    const delay = monitorEventLoopDelay({ resolution: 1 });
    delay.enable();
    const started = performance.now();
    await work();
    delay.disable();
    return { ms: delay.max / 1e6, took: performance.now() - started };
  };
  const decoding = await longestWait(() => decodeAudioAsync(ogg, 'three-minutes.ogg', { opusAtInputRate: true }));
  const idle = await longestWait(() => new Promise((resolve) => setTimeout(resolve, decoding.took)));
  return { decodeLongestStallMs: decoding.ms, idleLongestStallMs: idle.ms };
}
