/**
 * What conference mixing costs (`BENCH_ONLY=mixer`): participants per core in conferences of 3 and of 10,
 * all G.711 (PCMU) and all Opus, beside references measured in the same run.
 *
 * Each participant is a plain RTP leg (rtp-leg.ts, on the native relay where it is built, as in the PBX)
 * answered for a UDP endpoint on loopback that sends a 20 ms packet every 20 ms, as a desk phone does. In
 * each conference one participant speaks (a tone) and the others send silence, the usual case of a
 * conference and the one the mixer is built for: one encode per codec for the listeners, one for the
 * speaker. Opus participants also go over plain RTP: the cost of SRTP per leg is the media bench's
 * (bench/media-relay.ts), not the mixer's. Everything runs in this process, so the CPU a run adds over
 * the reference run `direct` (the same endpoints sending the same packets to each other, nothing in
 * between) is what the legs and the mixer cost; participants per core are 1000 ms over the added CPU ms per
 * participant-second. A run counts where nothing was lost on the way out of the mixer or in its jitter
 * buffers, and the RFC 3550 interarrival jitter the endpoints measure stays under 5 ms above the reference's.
 * A second reference, `bridge`, is the same endpoints in two-party calls through MediaBridge, and the raw
 * cost of each codec is timed in the same run.
 */
import dgram from 'node:dgram';
import type { Socket } from 'node:dgram';
import { MediaBridge } from '../server/media/joins/bridge';
import { createDecoder, createEncoder } from '../server/media/joins/frame-codec';
import type { CodecKind } from '../server/media/joins/frame-codec';
import { Mixer } from '../server/media/joins/mixer';
import type { NegotiatedCodec } from '../server/media/legs/media-leg';
import { RtpLeg } from '../server/media/legs/rtp-leg';

const CONFIG = { address: '127.0.0.1' };
const PACKET_MS = 20;
const CODECS: Record<'pcmu' | 'opus', NegotiatedCodec> = {
  pcmu: { mimeType: 'audio/PCMU', clockRate: 8000, channels: 1, payloadType: 0 },
  opus: { mimeType: 'audio/opus', clockRate: 48000, channels: 2, payloadType: 111 },
};

export type MixerMode = 'direct' | 'bridge' | 'mixer';

export interface MixerRun {
  mode: MixerMode;
  codec: 'pcmu' | 'opus';
  conferenceSize: number;
  participants: number;
  seconds: number;
  /** CPU of the whole process per participant-second. */
  cpuMsPerParticipantSecond: number;
  /** Packets the mixer (or the peers) sent in the window that no endpoint received, and packets a jitter buffer lost or dropped. */
  lossPercent: number;
  /** Mean over endpoints of RFC 3550 interarrival jitter at the end of the run. */
  jitterMs: number;
  /** Frames the mixers' clocks gave up because they fell more than 100 ms behind. */
  skippedTicks: number;
}

/** RFC 3550 §A.8 interarrival jitter, in ms. */
class Jitter {
  private last: { arrival: number; timestamp: number } | undefined;
  value = 0;
  received = 0;

  constructor(private readonly clockRate: number) {}

  push(timestamp: number): void {
    const arrival = performance.now();
    this.received++;
    if (this.last) {
      const change = arrival - this.last.arrival - ((timestamp - this.last.timestamp) / this.clockRate) * 1000;
      this.value += (Math.abs(change) - this.value) / 16;
    }
    this.last = { arrival, timestamp };
  }
}

/** 50 frames of a tone and one of silence, coded once, which the endpoints send over and over. */
function payloads(kind: 'pcmu' | 'opus', hz: number): { tone: Buffer[]; silence: Buffer } {
  const rate = kind === 'opus' ? 48000 : 8000;
  const encoder = createEncoder(kind, rate);
  const samples = rate / 50;
  const tone = Array.from({ length: 50 }, (_, f) => {
    const pcm = new Int16Array(samples);
    for (let i = 0; i < samples; i++) pcm[i] = Math.round(6000 * Math.sin((2 * Math.PI * hz * (f * samples + i)) / rate));
    return encoder.encode(pcm);
  });
  return { tone, silence: createEncoder(kind, rate).encode(new Int16Array(samples)) };
}

interface Endpoint {
  socket: Socket;
  port: number;
  jitter: Jitter;
  target: number;
  speaks: boolean;
}

async function endpoint(clockRate: number, payloadType: number): Promise<Endpoint> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const jitter = new Jitter(clockRate);
  // Only audio counts: the legs' RTCP comes here too (rtcp-mux).
  socket.on('message', (data) => {
    if (data.length >= 12 && (data[1]! & 0x7f) === payloadType) jitter.push(data.readUInt32BE(4));
  });
  return { socket, port: socket.address().port, jitter, target: 0, speaks: false };
}

function offer(kind: 'pcmu' | 'opus', port: number): string {
  const codec = CODECS[kind];
  const name = kind === 'opus' ? 'opus/48000/2' : 'PCMU/8000';
  return ['v=0', 'o=bench 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', `m=audio ${port} RTP/AVP ${codec.payloadType}`, `a=rtpmap:${codec.payloadType} ${name}`, 'a=ptime:20', 'a=rtcp-mux', 'a=sendrecv', ''].join('\r\n');
}

export async function runMixer(mode: MixerMode, codec: 'pcmu' | 'opus', conferenceSize: number, participants: number, seconds: number): Promise<MixerRun> {
  const negotiated = CODECS[codec];
  const endpoints: Endpoint[] = [];
  for (let i = 0; i < participants; i++) endpoints.push(await endpoint(negotiated.clockRate, negotiated.payloadType));
  const legs: RtpLeg[] = [];
  const mixers: Mixer[] = [];
  const bridges: MediaBridge[] = [];
  if (mode === 'direct') {
    for (let i = 0; i + 1 < participants; i += 2) {
      endpoints[i]!.target = endpoints[i + 1]!.port;
      endpoints[i + 1]!.target = endpoints[i]!.port;
    }
  } else {
    for (const [i, e] of endpoints.entries()) {
      const { leg, answerSdp } = await RtpLeg.answer(`bench-${i}`, offer(codec, e.port), CONFIG, [negotiated]);
      legs.push(leg);
      e.target = Number(/^m=audio (\d+)/m.exec(answerSdp)?.[1] ?? 0);
    }
    if (mode === 'bridge') for (let i = 0; i + 1 < legs.length; i += 2) bridges.push(new MediaBridge(legs[i]!, legs[i + 1]!));
    else {
      for (let first = 0; first < legs.length; first += conferenceSize) {
        const mixer = new Mixer({ id: `bench-${first}` });
        for (const leg of legs.slice(first, first + conferenceSize)) mixer.add(leg);
        mixers.push(mixer);
      }
    }
  }
  // One speaker in each conference (and in each pair: both speak in a two-party call, as a bridge relays anyway).
  endpoints.forEach((e, i) => (e.speaks = mode !== 'mixer' || i % conferenceSize === 0));
  const tone = payloads(codec, 700);
  const ticksPerFrame = codec === 'opus' ? 960 : 160;
  const header = Buffer.alloc(12);
  const send = (e: Endpoint, index: number, tick: number) => {
    const payload = e.speaks ? tone.tone[tick % 50]! : tone.silence;
    header[0] = 0x80;
    header[1] = negotiated.payloadType;
    header.writeUInt16BE(tick & 0xffff, 2);
    header.writeUInt32BE((tick * ticksPerFrame) >>> 0, 4);
    header.writeUInt32BE(0x1000 + index, 8);
    e.socket.send(Buffer.concat([header, payload]), e.target, '127.0.0.1');
  };

  // Warm up: jitter buffers filled, clocks running, the relay set up.
  let tick = 0;
  const started = performance.now();
  const pace = async (until: number) => {
    for (; tick < until; tick++) {
      endpoints.forEach((e, i) => send(e, i, tick));
      const due = started + (tick + 1) * PACKET_MS;
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - performance.now())));
    }
  };
  await pace(25);
  const receivedBefore = endpoints.reduce((n, e) => n + e.jitter.received, 0);
  const sentBefore = sentByMixers(mixers);
  const lostBefore = lostInMixers(mixers);
  const cpuBefore = process.cpuUsage();
  const ticks = Math.round((seconds * 1000) / PACKET_MS);
  await pace(25 + ticks);
  const cpu = process.cpuUsage(cpuBefore);
  const received = endpoints.reduce((n, e) => n + e.jitter.received, 0) - receivedBefore;
  const sent = mode === 'mixer' ? sentByMixers(mixers) - sentBefore : ticks * participants;
  const lostInside = lostInMixers(mixers) - lostBefore;
  const skippedTicks = mixers.reduce((n, m) => n + m.stats().clock.skipped, 0);
  const jitterMs = endpoints.reduce((sum, e) => sum + e.jitter.value, 0) / endpoints.length;

  for (const mixer of mixers) mixer.close();
  for (const bridge of bridges) bridge.close();
  for (const leg of legs) leg.close();
  for (const e of endpoints) e.socket.close();
  await new Promise((resolve) => setTimeout(resolve, 100));
  return {
    mode,
    codec,
    conferenceSize,
    participants,
    seconds,
    cpuMsPerParticipantSecond: Number(((cpu.user + cpu.system) / 1000 / (participants * seconds)).toFixed(3)),
    // In-flight packets at both ends of the window cancel out, within a packet or so per participant.
    lossPercent: Number(Math.max(0, ((sent - received - participants) / sent) * 100 + (lostInside / (ticks * participants)) * 100).toFixed(2)),
    jitterMs: Number(jitterMs.toFixed(2)),
    skippedTicks,
  };
}

function sentByMixers(mixers: Mixer[]): number {
  let sent = 0;
  for (const mixer of mixers) for (const p of Object.values(mixer.stats().participants)) sent += p.sent;
  return sent;
}

function lostInMixers(mixers: Mixer[]): number {
  let lost = 0;
  for (const mixer of mixers) for (const p of Object.values(mixer.stats().participants)) lost += p.lost + p.late + p.discarded;
  return lost;
}

/** µs per 20 ms frame of each codec operation the mixer does, timed in a loop. */
export function codecCosts(): Record<string, number> {
  const time = (fn: () => void, n = 2000) => {
    for (let i = 0; i < 100; i++) fn();
    const start = performance.now();
    for (let i = 0; i < n; i++) fn();
    return Number((((performance.now() - start) * 1000) / n).toFixed(2));
  };
  const figures: Record<string, number> = {};
  const pcm48 = new Int16Array(960).map((_, i) => Math.round(6000 * Math.sin((2 * Math.PI * 700 * i) / 48000)));
  const pcm8 = new Int16Array(160).map((_, i) => Math.round(6000 * Math.sin((2 * Math.PI * 700 * i) / 8000)));
  for (const kind of ['opus', 'pcmu'] as CodecKind[]) {
    const rate = kind === 'opus' ? 48000 : 8000;
    const pcm = kind === 'opus' ? pcm48 : pcm8;
    const encoder = createEncoder(kind, rate);
    const decoder = createDecoder(kind, rate);
    const packet = encoder.encode(pcm);
    const out = new Int16Array(pcm.length);
    figures[`${kind} encode µs`] = time(() => encoder.encode(pcm));
    figures[`${kind} decode µs`] = time(() => decoder.decode(packet, out));
  }
  // G.711 in a conference with a browser: decoded and resampled to 48 kHz, and back.
  const up = createDecoder('pcmu', 48000);
  const down = createEncoder('pcmu', 48000);
  const ulaw = createEncoder('pcmu', 8000).encode(pcm8);
  const wide = new Int16Array(960);
  figures['pcmu↔48 kHz decode+encode µs'] = time(() => {
    up.decode(ulaw, wide);
    down.encode(wide);
  });
  return figures;
}

/** Participants per core the issue asks of the mixer. */
const TARGETS: Record<'pcmu' | 'opus', number> = { pcmu: 1000, opus: 150 };
const MAX_ADDED_JITTER_MS = 5;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/**
 * The runs, interleaved so that a noisy neighbour weighs on references and mixers alike, and the table:
 * BENCH_MIXER_PARTICIPANTS (60: a multiple of 3 and 10), BENCH_SECONDS (5), BENCH_REPEATS (3).
 */
export async function mixerBench(): Promise<{ rows: Array<Record<string, string | number>>; codecs: Record<string, number>; raw: MixerRun[] }> {
  const participants = Number(process.env.BENCH_MIXER_PARTICIPANTS ?? 60);
  const seconds = Number(process.env.BENCH_SECONDS ?? 5);
  const repeats = Number(process.env.BENCH_REPEATS ?? 3);
  const raw: MixerRun[] = [];
  const codecRuns: Array<Record<string, number>> = [];
  // A first run is slower while the JIT warms up: it is not counted.
  await runMixer('mixer', 'opus', 3, participants, 1);
  for (let r = 0; r < repeats; r++) {
    codecRuns.push(codecCosts());
    for (const codec of ['pcmu', 'opus'] as const) {
      raw.push(await runMixer('direct', codec, 2, participants, seconds));
      raw.push(await runMixer('bridge', codec, 2, participants, seconds));
      for (const size of [3, 10]) raw.push(await runMixer('mixer', codec, size, participants, seconds));
    }
  }
  const codecs = Object.fromEntries(Object.keys(codecRuns[0] ?? {}).map((key) => [key, median(codecRuns.map((run) => run[key] ?? 0))]));
  const pick = (mode: MixerMode, codec: string, size: number) => raw.filter((run) => run.mode === mode && run.codec === codec && (mode !== 'mixer' || run.conferenceSize === size));
  const rows: Array<Record<string, string | number>> = [];
  for (const codec of ['pcmu', 'opus'] as const) {
    const direct = pick('direct', codec, 2);
    const refCpu = median(direct.map((r) => r.cpuMsPerParticipantSecond));
    const refJitter = median(direct.map((r) => r.jitterMs));
    const bridge = pick('bridge', codec, 2);
    const bridgeAdded = median(bridge.map((r) => r.cpuMsPerParticipantSecond)) - refCpu;
    for (const size of [3, 10]) {
      const runs = pick('mixer', codec, size);
      const added = median(runs.map((r) => r.cpuMsPerParticipantSecond)) - refCpu;
      const loss = median(runs.map((r) => r.lossPercent));
      const addedJitter = median(runs.map((r) => r.jitterMs)) - refJitter;
      const perCore = added > 0 ? Math.floor(1000 / added) : Infinity;
      const clean = loss === 0 && addedJitter < MAX_ADDED_JITTER_MS;
      rows.push({
        codec: codec === 'pcmu' ? 'G.711 (PCMU)' : 'Opus',
        conference: size,
        'reference CPU ms/participant·s': Number(refCpu.toFixed(3)),
        'two-party bridge adds': Number(bridgeAdded.toFixed(3)),
        'mixer adds': Number(added.toFixed(3)),
        'loss %': loss,
        'added jitter ms': Number(addedJitter.toFixed(2)),
        'participants per core': Number.isFinite(perCore) ? perCore : 'n/a',
        target: `≥ ${TARGETS[codec]}: ${clean && perCore >= TARGETS[codec] ? 'met' : 'not met'}${clean ? '' : ' (loss or jitter)'}`,
      });
    }
  }
  return { rows, codecs, raw };
}
