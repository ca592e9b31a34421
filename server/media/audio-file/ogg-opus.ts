/**
 * Ogg Opus files (RFC 7845): mono voice coded by the mixer's own Opus coder (joins/opus-codec.ts), 20 ms a
 * packet, and read back at 48 kHz.
 *
 * Writing: an identification header (OpusHead) alone on the first page, the comment header (OpusTags) alone on
 * the second, then audio pages of up to a second each. Granule positions count 48 kHz samples whatever rate the
 * audio was coded at (§4), starting with the pre-skip: the samples the decoder drops at the start, which is the
 * encoder's look-ahead. The last page says where the audio ends (§4.5), so the silence that pads the last frame
 * and flushes the encoder's look-ahead is cut off again when the file is read.
 */
import { randomUint32 } from '../../util/random-pool';
import { OpusFrameDecoder, OpusFrameEncoder } from '../joins/opus-codec';
import type { OpusEncoderOptions } from '../joins/opus-codec';
import { AudioFileError } from './errors';
import { declaredEndGranule, FLAG_FIRST, FLAG_LAST, MAX_SEGMENTS, readOggPackets, segmentsFor, writePage } from './ogg';

export type OggOpusRate = 8000 | 16000 | 48000;

const GRANULE_RATE = 48000;
const FRAME_MS = 20;
/**
 * libopus's look-ahead in VoIP mode is 6.5 ms whatever the coding rate (2.5 ms of analysis plus 4 ms of delay
 * compensation): 312 samples at 48 kHz. RFC 7845 §4.2 asks that at least that much be skipped.
 */
export const OPUS_PRE_SKIP = 312;
/** A page carries up to a second of audio, so a reader seeking or a recorder cut off loses little. */
const PACKETS_PER_PAGE = 50;
/** The largest a packet can decode to: 120 ms, at 48 kHz (RFC 6716 §3.2.5). */
const MAX_PACKET_SAMPLES = 5760;
const VENDOR = 'Offhook PBX';

function opusHead(inputRate: number, preSkip: number, channels = 1): Buffer {
  const head = Buffer.alloc(19);
  head.write('OpusHead', 0, 'latin1');
  head[8] = 1; // version
  head[9] = channels;
  head.writeUInt16LE(preSkip, 10);
  head.writeUInt32LE(inputRate, 12);
  head.writeInt16LE(0, 16); // output gain
  head[18] = 0; // channel mapping family 0: mono or stereo, no table
  return head;
}

function opusTags(): Buffer {
  const vendor = Buffer.from(VENDOR, 'utf8');
  const tags = Buffer.alloc(8 + 4 + vendor.length + 4);
  tags.write('OpusTags', 0, 'latin1');
  tags.writeUInt32LE(vendor.length, 8);
  vendor.copy(tags, 12);
  tags.writeUInt32LE(0, 12 + vendor.length); // no user comments
  return tags;
}

/**
 * Writes one mono Ogg Opus stream as samples arrive: `write` takes any number of samples and returns the
 * bytes of the pages it completed (possibly none), `finish` returns the rest, ending the stream. The bytes
 * returned, in order, are the file.
 */
export class OggOpusWriter {
  private readonly encoder: OpusFrameEncoder;
  private readonly frameSize: number;
  private readonly frame: Int16Array;
  /** 48 kHz samples (granule units) in one packet. */
  private readonly samplesPerPacket: number;
  private filled = 0;
  private readonly serial = randomUint32();
  private sequence = 0;
  private packets: Buffer[] = [];
  private segments = 0;
  /** 48 kHz samples of input taken so far. */
  private inputSamples = 0;
  /** Packets coded so far. */
  private coded = 0;
  private headersWritten = false;
  private finished = false;

  constructor(
    readonly rate: OggOpusRate,
    options: OpusEncoderOptions = {},
  ) {
    this.encoder = new OpusFrameEncoder(rate, options);
    this.frameSize = (rate * FRAME_MS) / 1000;
    this.frame = new Int16Array(this.frameSize);
    this.samplesPerPacket = (this.frameSize * GRANULE_RATE) / rate;
  }

  write(samples: Int16Array): Buffer {
    if (this.finished) throw new Error('the Ogg Opus stream is finished');
    const out: Buffer[] = [];
    this.headers(out);
    let from = 0;
    while (from < samples.length) {
      const take = Math.min(samples.length - from, this.frameSize - this.filled);
      this.frame.set(samples.subarray(from, from + take), this.filled);
      this.filled += take;
      from += take;
      if (this.filled === this.frameSize) this.codeFrame(out);
    }
    this.inputSamples += (samples.length * GRANULE_RATE) / this.rate;
    return Buffer.concat(out);
  }

  /** Pads the last frame, codes enough silence to flush the encoder's look-ahead, and writes the last page. */
  finish(): Buffer {
    if (this.finished) throw new Error('the Ogg Opus stream is finished');
    const out: Buffer[] = [];
    this.headers(out);
    // The last page always holds a packet (codeFrame leaves the one it coded pending), so it carries the end.
    const needed = Math.max(1, Math.ceil((this.inputSamples + OPUS_PRE_SKIP) / this.samplesPerPacket));
    while (this.coded < needed) {
      this.frame.fill(0, this.filled);
      this.filled = this.frameSize;
      this.codeFrame(out);
    }
    this.finished = true;
    out.push(this.page(FLAG_LAST, BigInt(OPUS_PRE_SKIP + this.inputSamples)));
    return Buffer.concat(out);
  }

  /** 48 kHz samples of audio written so far (what a reader gets back). */
  get durationMs(): number {
    return (this.inputSamples * 1000) / GRANULE_RATE;
  }

  private headers(out: Buffer[]): void {
    if (this.headersWritten) return;
    this.headersWritten = true;
    this.packets = [opusHead(this.rate, OPUS_PRE_SKIP)];
    out.push(this.page(FLAG_FIRST, 0n));
    this.packets = [opusTags()];
    out.push(this.page(0, 0n));
  }

  /** Codes the frame; the page so far goes out first when the packet would not fit on it. */
  private codeFrame(out: Buffer[]): void {
    // A copy: the encoder's output may be a view of memory it reuses.
    const packet = Buffer.from(this.encoder.encode(this.frame));
    this.filled = 0;
    if (this.packets.length >= PACKETS_PER_PAGE || this.segments + segmentsFor(packet.length) > MAX_SEGMENTS) {
      out.push(this.page(0, BigInt(this.coded * this.samplesPerPacket)));
    }
    this.packets.push(packet);
    this.segments += segmentsFor(packet.length);
    this.coded++;
  }

  private page(flags: number, granule: bigint): Buffer {
    const page = writePage({ flags, granule, serial: this.serial, sequence: this.sequence++ }, this.packets);
    this.packets = [];
    this.segments = 0;
    return page;
  }
}

/** Samples (mono, at `rate`) as a whole Ogg Opus file. */
export function encodeOggOpus(samples: Int16Array, rate: OggOpusRate, options: OpusEncoderOptions = {}): Buffer {
  const writer = new OggOpusWriter(rate, options);
  return Buffer.concat([writer.write(samples), writer.finish()]);
}

/** The first page of an Ogg Opus stream holds the 19-byte OpusHead alone, after 27 header bytes and 1 lacing byte. */
export const OPUS_HEAD_AT = 28;

export function isOggOpus(bytes: Buffer): boolean {
  return bytes.length >= OPUS_HEAD_AT + 19 && bytes.toString('latin1', 0, 4) === 'OggS' && bytes.toString('latin1', OPUS_HEAD_AT, OPUS_HEAD_AT + 8) === 'OpusHead';
}

/**
 * An Ogg Opus file as mono samples, the pre-skip and the padding at the end cut off: at 48 kHz, or with `rate`
 * at a rate libopus decodes to natively (a file coded at 16 kHz holds nothing above 8 kHz, so decoding it at
 * 16 kHz keeps a third of the samples and loses nothing).
 */
export function decodeOggOpus(bytes: Buffer, name: string, rate: OggOpusRate = 48000): Int16Array {
  return decodeOggOpusUpTo(bytes, name, rate).samples;
}

export interface LimitedDecode {
  samples: Int16Array;
  /** How long the audio is: what was decoded, or when decoding stopped at the limit, what the file says it holds if more. */
  durationMs: number;
  /** False when decoding stopped at `maxMs`. */
  complete: boolean;
}

/**
 * As decodeOggOpus, stopping once more than `maxMs` is decoded. A few bytes of Opus can stand for 120 ms of sound
 * (a packet of empty frames), so a 10 MB upload could otherwise decode to hours and gigabytes of samples.
 */
export function decodeOggOpusUpTo(bytes: Buffer, name: string, rate: OggOpusRate = 48000, maxMs = Number.POSITIVE_INFINITY): LimitedDecode {
  const steps = decodeSteps(bytes, name, rate, maxMs);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/** Packets decoded between two steps of `decodeSteps`: a second of 20 ms packets. */
const PACKETS_PER_STEP = 50;
/** The shortest an Opus packet lasts (RFC 6716 §3.1: a 2.5 ms frame). */
const MIN_PACKET_MS = 2.5;
/**
 * Packets a file may hold beyond its limit's worth: the pre-skip (at most 65535 samples, 546 packets of 2.5 ms)
 * decoded before the limit counts, and a few empty ones a muxer let through.
 */
const PACKET_SLACK = 600;

/**
 * The decoding as steps, each a second or so of packets, so that a caller on the PBX's event loop can let the
 * calls' media run between them (decode.ts, decodeAudioAsync).
 */
export function* decodeSteps(bytes: Buffer, name: string, rate: OggOpusRate, maxMs: number): Generator<void, LimitedDecode> {
  // Every packet that decodes holds at least 2.5 ms, so decoding reaches the limit within this many.
  const maxPackets = Math.ceil(maxMs / MIN_PACKET_MS) + PACKET_SLACK;
  const packets = readOggPackets(bytes, name, {
    maxPackets,
    message: `${name} is damaged: it holds more Opus packets than ${Math.round(maxMs / 1000)} seconds of audio can`,
  });
  const head = packets.next().value?.bytes;
  if (!head || head.length < 19 || head.toString('latin1', 0, 8) !== 'OpusHead') {
    throw new AudioFileError(`${name} is an Ogg file without Opus audio; the PBX reads Ogg Opus`);
  }
  if (head[8]! >> 4 !== 0) throw new AudioFileError(`${name} uses an Ogg Opus version this PBX does not read`);
  const channels = head[9]!;
  const preSkip = head.readUInt16LE(10);
  const mapping = head[18]!;
  if (mapping !== 0 || channels < 1 || channels > 2) {
    throw new AudioFileError(`${name} has ${channels} channels in Opus's surround layout; the PBX reads mono or stereo`);
  }
  if (packets.next().value?.bytes.toString('latin1', 0, 8) !== 'OpusTags') {
    throw new AudioFileError(`${name} is damaged: its Opus comment header is missing`);
  }
  // libopus decodes a stereo stream straight to mono when asked for one channel.
  const decoder = new OpusFrameDecoder(rate);
  const scratch = new Int16Array((MAX_PACKET_SAMPLES * rate) / GRANULE_RATE);
  // Pre-skip and granule positions count 48 kHz samples whatever the rate decoded at.
  const scale = rate / GRANULE_RATE;
  const chunks: Int16Array[] = [];
  let decoded = 0;
  const start = Math.round(preSkip * scale);
  const limit = start + (maxMs * rate) / 1000;
  let end: bigint | undefined;
  let complete = true;
  let sinceStep = 0;
  for (const packet of packets) {
    if (packet.last && packet.granule >= 0n) end = packet.granule;
    if (++sinceStep === PACKETS_PER_STEP) {
      sinceStep = 0;
      yield;
    }
    // RFC 6716 §3.4 (R1): an Opus packet is at least one byte, so an empty one holds no audio and no length.
    // It is skipped; a file of nothing else runs into the reader's limit.
    if (packet.bytes.length === 0) continue;
    if (decoded > limit) {
      complete = false;
      // Stopped before the last page: what it says the stream holds, read from the page headers.
      end = declaredEndGranule(bytes);
      break;
    }
    const count = decoder.decode(packet.bytes, scratch);
    if (count === 0) throw new AudioFileError(`${name} is damaged: an Opus packet does not decode`);
    const kept = Math.min(count, scratch.length);
    chunks.push(scratch.slice(0, kept));
    decoded += kept;
  }
  // §4.5: the last page's granule says how many samples (pre-skip included) the stream really holds.
  const endGranule = end === undefined ? undefined : Math.max(0, Math.round(Number(end) * scale));
  // Stopped, but past where the file says its audio ends: nothing of the audio is missing.
  if (!complete && endGranule !== undefined && decoded >= endGranule) complete = true;
  const total = endGranule === undefined ? decoded : Math.min(decoded, endGranule);
  const first = Math.min(start, total);
  const samples = new Int16Array(total - first);
  let at = 0;
  let position = 0;
  for (const chunk of chunks) {
    const from = Math.max(first - position, 0);
    const to = Math.min(chunk.length, total - position);
    if (to > from) {
      samples.set(chunk.subarray(from, to), at);
      at += to - from;
    }
    position += chunk.length;
    if (position >= total) break;
  }
  const decodedMs = (samples.length * 1000) / rate;
  const declaredMs = endGranule === undefined ? 0 : (Math.max(0, endGranule - start) * 1000) / rate;
  return { samples, durationMs: complete ? decodedMs : Math.max(decodedMs, declaredMs), complete };
}
