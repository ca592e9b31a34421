/**
 * What taking voicemail costs (`BENCH_ONLY=voicemail`): concurrent deposits per core, each the whole of a real
 * deposit: the default greeting (recorded prompts) played to the caller, the record tone, the caller's audio
 * recorded (decoded, placed in order, coded to Ogg Opus as it comes), then the file synced and its row written
 * when the caller hangs up.
 *
 * Each caller is a UDP endpoint on loopback sending a G.711 (PCMU) tone every 20 ms, as a desk phone does, to a
 * plain RTP leg (on the native relay where it is built) answered as the call engine answers a call for voicemail.
 * The reference run, `direct`, has the same endpoints send the same packets to a socket that only reads them;
 * the CPU a deposit run adds over it, per deposit-second, is what a deposit costs, and deposits per core are
 * 1000 ms over that. A run counts when every message was stored and each holds what was sent after the tone.
 */
import dgram from 'node:dgram';
import type { Socket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServiceCall, ServiceUser } from '../server/calls/ports';
import { EventHub } from '../server/events/event-hub';
import { VoicemailDeposits } from '../server/features/voicemail';
import type { DepositOutcome } from '../server/features/voicemail';
import { Mailboxes } from '../server/features/voicemail';
import { createEncoder } from '../server/media/joins/frame-codec';
import type { MediaLeg } from '../server/media/legs/media-leg';
import { RtpLeg } from '../server/media/legs/rtp-leg';
import { MediaPlayer } from '../server/media/player';
import { seedPeople } from '../server/store/test-people';
import { openTestDatabase } from '../server/store/test-support';

const PCMU = { mimeType: 'audio/PCMU', clockRate: 8000, channels: 1, payloadType: 0 };

/** A caller as the engine hands it to the deposit; `hangUp` from the caller's side is `callerHangsUp`. */
class BenchCall implements ServiceCall {
  ended = false;
  private readonly listeners: Array<(why: string) => void> = [];
  readonly caller = { organizationId: 0, extension: undefined, userId: undefined, displayName: '+15550100', number: '+15550100' };

  constructor(
    readonly id: string,
    readonly leg: MediaLeg,
  ) {}

  hangUp(why: string): void {
    this.end(why);
  }

  callerHangsUp(): void {
    this.end('caller hung up');
  }

  onEnded(listener: (why: string) => void): () => void {
    this.listeners.push(listener);
    return () => this.listeners.splice(this.listeners.indexOf(listener) >>> 0, 1);
  }

  private end(why: string): void {
    if (this.ended) return;
    this.ended = true;
    for (const listener of [...this.listeners]) listener(why);
    this.leg.close();
  }
}

function offer(port: number): string {
  return ['v=0', 'o=bench 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', `m=audio ${port} RTP/AVP 0`, 'a=rtpmap:0 PCMU/8000', 'a=ptime:20', 'a=sendrecv', ''].join('\r\n');
}

async function socket(): Promise<Socket> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
  return s;
}

/** 50 frames of a 700 Hz tone, coded once; the callers send them over and over. */
function tone(): Buffer[] {
  const encoder = createEncoder('pcmu', 8000);
  return Array.from({ length: 50 }, (_, f) => {
    const pcm = new Int16Array(160);
    for (let i = 0; i < 160; i++) pcm[i] = Math.round(6000 * Math.sin((2 * Math.PI * 700 * (f * 160 + i)) / 8000));
    return encoder.encode(pcm);
  });
}

export interface DepositRun {
  mode: 'direct' | 'deposit';
  deposits: number;
  seconds: number;
  cpuMsPerDepositSecond: number;
  stored: number;
  /** Median length of the stored messages. */
  messageMs: number;
}

export async function runDeposits(mode: 'direct' | 'deposit', deposits: number, seconds: number): Promise<DepositRun> {
  const store = await openTestDatabase('file');
  const dataDir = mkdtempSync(join(tmpdir(), 'offhook-bench-vm-'));
  const { organizationId, userIds } = await seedPeople(store.db, 'bench.test', ['101']);
  const mailbox: ServiceUser = { organizationId, userId: userIds[0]!, extension: '101', displayName: 'Bench Owner' };
  const player = new MediaPlayer();
  const events = new EventHub(store.db);
  const mailboxes = new Mailboxes({ db: store.db, dataDir, events, watchers: { mailboxChanged: () => undefined } });
  const service = new VoicemailDeposits({ db: store.db, mailboxes, player, limits: { maxMessages: deposits + 10 } });

  const callers: Socket[] = [];
  for (let i = 0; i < deposits; i++) callers.push(await socket());
  const sink = mode === 'direct' ? await socket() : undefined;
  const targets: number[] = [];
  const calls: BenchCall[] = [];
  const outcomes: Array<Promise<DepositOutcome>> = [];
  if (sink) {
    sink.on('message', () => undefined);
    for (let i = 0; i < deposits; i++) targets.push(sink.address().port);
  } else {
    for (const [i, caller] of callers.entries()) {
      const { leg, answerSdp } = await RtpLeg.answer(`bench-vm-${i}`, offer(caller.address().port), { address: '127.0.0.1' }, [PCMU]);
      targets.push(Number(/^m=audio (\d+)/m.exec(answerSdp)?.[1] ?? 0));
      calls.push(new BenchCall(`bench-vm-${i}`, leg));
    }
  }

  const frames = tone();
  const header = Buffer.alloc(12);
  const ticks = Math.round((seconds * 1000) / 20);
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  for (const call of calls) outcomes.push(service.take(call, mailbox, 'no-answer'));
  for (let tick = 0; tick < ticks; tick++) {
    for (const [i, caller] of callers.entries()) {
      header[0] = 0x80;
      header[1] = 0;
      header.writeUInt16BE(tick & 0xffff, 2);
      header.writeUInt32BE((tick * 160) >>> 0, 4);
      header.writeUInt32BE(0x2000 + i, 8);
      caller.send(Buffer.concat([header, frames[tick % 50]!]), targets[i]!, '127.0.0.1');
    }
    const due = started + (tick + 1) * 20;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - performance.now())));
  }
  for (const call of calls) call.callerHangsUp();
  const results = await Promise.all(outcomes);
  await service.settled();
  const cpu = process.cpuUsage(cpuBefore);

  const lengths = results.flatMap((r) => (r.kind === 'stored' ? [r.durationMs] : [])).sort((x, y) => x - y);
  for (const caller of callers) caller.close();
  sink?.close();
  player.close();
  await store.close();
  rmSync(dataDir, { recursive: true, force: true });
  return {
    mode,
    deposits,
    seconds,
    cpuMsPerDepositSecond: Number(((cpu.user + cpu.system) / 1000 / (deposits * seconds)).toFixed(3)),
    stored: lengths.length,
    messageMs: lengths[Math.floor(lengths.length / 2)] ?? 0,
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/** The target: concurrent deposits per core. */
const TARGET_PER_CORE = 200;

/**
 * Runs interleaved with their reference: BENCH_VOICEMAIL_DEPOSITS (100 at once), BENCH_VOICEMAIL_SECONDS (20: the
 * default greeting, the tone, and the rest recorded), BENCH_REPEATS (3).
 */
export async function voicemailBench(): Promise<{ rows: Array<Record<string, string | number>>; raw: DepositRun[] }> {
  const deposits = Number(process.env.BENCH_VOICEMAIL_DEPOSITS ?? 100);
  const seconds = Number(process.env.BENCH_VOICEMAIL_SECONDS ?? 20);
  const repeats = Number(process.env.BENCH_REPEATS ?? 3);
  const raw: DepositRun[] = [];
  for (let r = 0; r < repeats; r++) {
    raw.push(await runDeposits('direct', deposits, seconds));
    raw.push(await runDeposits('deposit', deposits, seconds));
  }
  const reference = median(raw.filter((run) => run.mode === 'direct').map((run) => run.cpuMsPerDepositSecond));
  const runs = raw.filter((run) => run.mode === 'deposit');
  const added = median(runs.map((run) => run.cpuMsPerDepositSecond)) - reference;
  const perCore = added > 0 ? Math.floor(1000 / added) : Infinity;
  const allStored = runs.every((run) => run.stored === deposits);
  return {
    rows: [
      {
        'concurrent deposits': deposits,
        'seconds each': seconds,
        'reference CPU ms/caller·s': Number(reference.toFixed(3)),
        'deposit adds CPU ms/s': Number(added.toFixed(3)),
        'messages stored': `${median(runs.map((run) => run.stored))} of ${deposits}`,
        'message length (median)': `${(median(runs.map((run) => run.messageMs)) / 1000).toFixed(1)} s`,
        'deposits per core': Number.isFinite(perCore) ? perCore : 'n/a',
        'target': `≥ ${TARGET_PER_CORE}: ${allStored && perCore >= TARGET_PER_CORE ? 'met' : 'not met'}${allStored ? '' : ' (messages lost)'}`,
      },
    ],
    raw,
  };
}
