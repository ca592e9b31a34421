/**
 * The Ogg container (RFC 3533) as far as one logical stream of Opus needs it: pages written from packets, and
 * packets read back from pages with every check a damaged file can fail.
 *
 * A page is a 27-byte header, a lacing table of up to 255 segment sizes and the segments. A packet is cut into
 * 255-byte segments and ends with a segment shorter than 255 (a zero-length one when it is a multiple of 255);
 * a packet can run on into the next page, which then says so in its header (flag 0x01).
 */
import { AudioFileError } from './errors';

const CAPTURE = Buffer.from('OggS', 'latin1');
const HEADER_BYTES = 27;
export const MAX_SEGMENTS = 255;

export const FLAG_CONTINUED = 0x01;
export const FLAG_FIRST = 0x02;
export const FLAG_LAST = 0x04;

/** RFC 3533 §6: CRC-32 with polynomial 0x04C11DB7, not reflected, starting from 0, no final inversion. */
const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let crc = i << 24;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x80000000 ? (crc << 1) ^ 0x04c11db7 : crc << 1;
    table[i] = crc >>> 0;
  }
  return table;
})();

export function oggCrc(bytes: Uint8Array): number {
  let crc = 0;
  for (let i = 0; i < bytes.length; i++) crc = ((crc << 8) ^ CRC_TABLE[((crc >>> 24) ^ bytes[i]!) & 0xff]!) >>> 0;
  return crc;
}

/** Segments a packet of `length` bytes takes in a lacing table. */
export function segmentsFor(length: number): number {
  return Math.floor(length / 255) + 1;
}

export interface PageFields {
  flags: number;
  /** The stream's position after the last packet that ends on this page; -1 when none ends here. */
  granule: bigint;
  serial: number;
  sequence: number;
}

/** One page holding whole packets (their segments must fit in 255). */
export function writePage(fields: PageFields, packets: readonly Uint8Array[]): Buffer {
  const lacing: number[] = [];
  for (const packet of packets) {
    for (let left = packet.length; ; left -= 255) {
      lacing.push(Math.min(left, 255));
      if (left < 255) break;
    }
  }
  if (lacing.length > MAX_SEGMENTS) throw new RangeError(`an Ogg page holds at most ${MAX_SEGMENTS} segments, not ${lacing.length}`);
  const bodyBytes = packets.reduce((sum, packet) => sum + packet.length, 0);
  const page = Buffer.alloc(HEADER_BYTES + lacing.length + bodyBytes);
  CAPTURE.copy(page, 0);
  page[4] = 0; // stream structure version
  page[5] = fields.flags;
  page.writeBigInt64LE(fields.granule, 6);
  page.writeUInt32LE(fields.serial >>> 0, 14);
  page.writeUInt32LE(fields.sequence >>> 0, 18);
  page.writeUInt32LE(0, 22); // the CRC is computed with its own field zero
  page[26] = lacing.length;
  page.set(lacing, HEADER_BYTES);
  let at = HEADER_BYTES + lacing.length;
  for (const packet of packets) {
    page.set(packet, at);
    at += packet.length;
  }
  page.writeUInt32LE(oggCrc(page), 22);
  return page;
}

export interface OggPacket {
  bytes: Buffer;
  /** The granule position of the page the packet ends on, when it is the last packet to end there; else -1. */
  granule: bigint;
  /** The packet ends on the stream's last page. */
  last: boolean;
}

/** What a zero-length packet reads as: no bytes, so nothing is allocated for one. */
const NO_BYTES = Buffer.alloc(0);

/**
 * The packets of the first logical stream in `bytes` (pages of other streams, as in a multiplexed file, are
 * skipped), read as they are asked for: a caller that stops early reads no further. Throws AudioFileError when
 * the file is not Ogg, is cut short, or a page fails its checksum, once reading reaches the fault.
 *
 * With `limit`, throws AudioFileError with its message once more than `maxPackets` packets have been read, a
 * page that ends none counting as one: empty packets and empty pages cost nothing to write but time to read.
 */
export function* readOggPackets(bytes: Buffer, name: string, limit?: { maxPackets: number; message: string }): Generator<OggPacket, void> {
  if (bytes.length < 4 || !bytes.subarray(0, 4).equals(CAPTURE)) throw new AudioFileError(`${name} is not an Ogg file`);
  let serial: number | undefined;
  let expectedSequence = 0;
  let pending: Buffer[] = [];
  let read = 0;
  let pagesEndingNone = 0;
  let at = 0;
  let sawLast = false;
  while (at < bytes.length) {
    if (at + HEADER_BYTES > bytes.length) throw new AudioFileError(`${name} is cut short: it ends inside an Ogg page header`);
    if (!bytes.subarray(at, at + 4).equals(CAPTURE)) throw new AudioFileError(`${name} is damaged: no Ogg page where one should start (byte ${at})`);
    if (bytes[at + 4] !== 0) throw new AudioFileError(`${name} uses an Ogg version this PBX does not read`);
    const flags = bytes[at + 5]!;
    const granule = bytes.readBigInt64LE(at + 6);
    const pageSerial = bytes.readUInt32LE(at + 14);
    const sequence = bytes.readUInt32LE(at + 18);
    const crc = bytes.readUInt32LE(at + 22);
    const segmentCount = bytes[at + 26]!;
    const bodyStart = at + HEADER_BYTES + segmentCount;
    if (bodyStart > bytes.length) throw new AudioFileError(`${name} is cut short: it ends inside an Ogg page`);
    const lacing = bytes.subarray(at + HEADER_BYTES, bodyStart);
    const bodyBytes = lacing.reduce((sum, size) => sum + size, 0);
    const end = bodyStart + bodyBytes;
    if (end > bytes.length) throw new AudioFileError(`${name} is cut short: it ends inside an Ogg page`);
    const page = Buffer.from(bytes.subarray(at, end));
    page.writeUInt32LE(0, 22);
    if (oggCrc(page) !== crc) throw new AudioFileError(`${name} is damaged: an Ogg page fails its checksum (byte ${at})`);
    at = end;
    serial ??= pageSerial;
    if (pageSerial !== serial) continue;
    if (sawLast) break;
    if (sequence !== expectedSequence) throw new AudioFileError(`${name} is damaged: Ogg page ${expectedSequence} is missing`);
    expectedSequence++;
    if (!(flags & FLAG_CONTINUED) && pending.length > 0) throw new AudioFileError(`${name} is damaged: a packet breaks off between two Ogg pages`);
    if (flags & FLAG_CONTINUED && pending.length === 0 && read === 0) {
      throw new AudioFileError(`${name} is damaged: its first Ogg page continues a packet`);
    }
    sawLast = (flags & FLAG_LAST) !== 0;
    // The page's granule belongs to the last packet that ends on it.
    let lastEnding = -1;
    for (let i = 0; i < lacing.length; i++) if (lacing[i]! < 255) lastEnding = i;
    if (lastEnding === -1) pagesEndingNone++;
    if (limit && read + pagesEndingNone > limit.maxPackets) throw new AudioFileError(limit.message);
    let offset = bodyStart;
    for (let i = 0; i < lacing.length; i++) {
      const size = lacing[i]!;
      const from = offset;
      offset += size;
      if (size === 255) {
        pending.push(bytes.subarray(from, offset));
        continue;
      }
      // A packet within one segment is a view of the file; only one spread over several is copied together.
      let packet: Buffer = NO_BYTES;
      if (pending.length > 0) packet = Buffer.concat([...pending, bytes.subarray(from, offset)]);
      else if (size > 0) packet = bytes.subarray(from, offset);
      pending = [];
      read++;
      if (limit && read + pagesEndingNone > limit.maxPackets) throw new AudioFileError(limit.message);
      yield { bytes: packet, granule: i === lastEnding ? granule : -1n, last: sawLast };
    }
  }
  if (pending.length > 0) throw new AudioFileError(`${name} is cut short: its last packet breaks off`);
}

/**
 * The granule position of the first logical stream's last page (RFC 3533 §6, flag 0x04) when it ends a packet,
 * found from the page headers alone: how long a file says it is without reading its packets. Undefined when the
 * file has no such page or its pages cannot be followed to it.
 */
export function declaredEndGranule(bytes: Buffer): bigint | undefined {
  let serial: number | undefined;
  for (let at = 0; at + HEADER_BYTES <= bytes.length; ) {
    if (!bytes.subarray(at, at + 4).equals(CAPTURE)) return undefined;
    const segmentCount = bytes[at + 26]!;
    const bodyStart = at + HEADER_BYTES + segmentCount;
    if (bodyStart > bytes.length) return undefined;
    const lacing = bytes.subarray(at + HEADER_BYTES, bodyStart);
    const pageSerial = bytes.readUInt32LE(at + 14);
    serial ??= pageSerial;
    if (pageSerial === serial && bytes[at + 5]! & FLAG_LAST) {
      const granule = bytes.readBigInt64LE(at + 6);
      return granule >= 0n && lacing.some((size) => size < 255) ? granule : undefined;
    }
    at = bodyStart + lacing.reduce((sum, size) => sum + size, 0);
  }
  return undefined;
}
