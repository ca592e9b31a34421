/**
 * RFC 4733 telephone-events for DTMF: the 4-byte payload, a receiver that turns a stream of event packets
 * into one `DtmfEvent` per key press, and the schedule of packets that sends one.
 *
 *    0                   1                   2                   3
 *   | event (8 bits) |E|R| volume (6) |      duration (16 bits)       |
 */
import type { DtmfEvent, NegotiatedCodec } from './media-leg';

/** RFC 4733 §3.2: events 0–15 are the DTMF keys. */
const DIGITS = '0123456789*#ABCD';

export interface TelephoneEventPayload {
  event: number;
  end: boolean;
  volume: number;
  duration: number;
}

export function parseTelephoneEvent(payload: Buffer): TelephoneEventPayload | undefined {
  if (payload.length < 4) return undefined;
  const flags = payload.readUInt8(1);
  return { event: payload.readUInt8(0), end: (flags & 0x80) !== 0, volume: flags & 0x3f, duration: payload.readUInt16BE(2) };
}

export function serializeTelephoneEvent(event: TelephoneEventPayload): Buffer {
  const payload = Buffer.alloc(4);
  payload.writeUInt8(event.event, 0);
  payload.writeUInt8((event.end ? 0x80 : 0) | (event.volume & 0x3f), 1);
  payload.writeUInt16BE(Math.min(event.duration, 0xffff), 2);
  return payload;
}

export function digitToEvent(digit: string): number | undefined {
  const index = DIGITS.indexOf(digit.toUpperCase());
  return digit.length === 1 && index !== -1 ? index : undefined;
}

export function eventToDigit(event: number): string | undefined {
  return DIGITS[event];
}

/**
 * Collects the packets of telephone-events and reports each key press once, when it ends. The packets of one
 * event share its start timestamp (RFC 4733 §2.5.1.1), and its final packet is sent three times
 * (§2.5.1.4), so an event is known by its timestamp and reported on the first end packet only. When the end
 * packets of an event are all lost, the event is reported when the next one starts.
 */
export class DtmfReceiver {
  private current: { timestamp: number; digit: string; duration: number } | undefined;
  private readonly ended: number[] = [];

  constructor(readonly clockRate: number) {}

  push(timestamp: number, payload: Buffer): DtmfEvent[] {
    const parsed = parseTelephoneEvent(payload);
    const digit = parsed && eventToDigit(parsed.event);
    if (!parsed || digit === undefined || this.ended.includes(timestamp)) return [];
    const reported: DtmfEvent[] = [];
    if (this.current && this.current.timestamp !== timestamp) {
      reported.push(this.toEvent(this.current));
      this.remember(this.current.timestamp);
      this.current = undefined;
    }
    if (!this.current) this.current = { timestamp, digit, duration: 0 };
    this.current.duration = Math.max(this.current.duration, parsed.duration);
    if (parsed.end) {
      reported.push(this.toEvent(this.current));
      this.remember(timestamp);
      this.current = undefined;
    }
    return reported;
  }

  private toEvent(state: { digit: string; duration: number }): DtmfEvent {
    return { digit: state.digit, durationMs: Math.round((state.duration * 1000) / this.clockRate) };
  }

  private remember(timestamp: number): void {
    this.ended.push(timestamp);
    if (this.ended.length > 8) this.ended.shift();
  }
}

export interface ScheduledEventPacket {
  /** Milliseconds after the event starts. */
  atMs: number;
  marker: boolean;
  payload: Buffer;
}

/** Packets of one event are sent this far apart; the end packet is repeated at the same interval. */
export const DTMF_UPDATE_INTERVAL_MS = 50;
const MIN_DURATION_MS = 40;
const MAX_DURATION_MS = 5000;
/** RFC 4733 §3.2: a volume of 10 means −10 dBm0, a typical key press. */
const VOLUME = 10;

/**
 * The packets that send one key press (RFC 4733 §2.5.1): the first with the marker bit, then an update each
 * interval carrying the duration up to the next update, then the end packet three times with the full duration. All share the
 * event's start timestamp, which the caller adds.
 */
export function scheduleDtmf(event: DtmfEvent, clockRate: number): ScheduledEventPacket[] {
  const code = digitToEvent(event.digit);
  if (code === undefined) return [];
  const durationMs = Math.min(MAX_DURATION_MS, Math.max(MIN_DURATION_MS, Math.round(event.durationMs)));
  const units = (ms: number) => Math.round((ms * clockRate) / 1000);
  const packets: ScheduledEventPacket[] = [];
  for (let at = 0; at < durationMs; at += DTMF_UPDATE_INTERVAL_MS) {
    packets.push({
      atMs: at,
      marker: at === 0,
      payload: serializeTelephoneEvent({ event: code, end: false, volume: VOLUME, duration: units(Math.min(at + DTMF_UPDATE_INTERVAL_MS, durationMs)) }),
    });
  }
  const end = serializeTelephoneEvent({ event: code, end: true, volume: VOLUME, duration: units(durationMs) });
  for (let i = 0; i < 3; i++) packets.push({ atMs: durationMs + i * DTMF_UPDATE_INTERVAL_MS, marker: false, payload: end });
  return packets;
}

/** telephone-event codecs matching the clock rates of the given audio codecs (RFC 4733 §2.1: same clock as the audio). */
export function telephoneEventsFor(audio: readonly NegotiatedCodec[], usedPayloadTypes: ReadonlySet<number>): NegotiatedCodec[] {
  const used = new Set(usedPayloadTypes);
  const events: NegotiatedCodec[] = [];
  for (const clockRate of new Set(audio.map((codec) => codec.clockRate))) {
    const preferred = clockRate === 8000 ? 101 : 110;
    let payloadType = preferred;
    while (used.has(payloadType) && payloadType < 127) payloadType++;
    if (used.has(payloadType)) continue;
    used.add(payloadType);
    events.push({ mimeType: 'audio/telephone-event', clockRate, channels: 1, payloadType, parameters: '0-16' });
  }
  return events;
}

export interface DtmfOutput {
  /** The clock of the negotiated telephone-event, or undefined when the far end did not negotiate one. */
  clockRate(): number | undefined;
  /** The timestamp of an event starting now, on the leg's media clock. */
  startTimestamp(): number;
  transmit(timestamp: number, marker: boolean, payload: Buffer): void;
}

/**
 * Plays key presses one after another on a leg, each as the schedule of `scheduleDtmf`, with a pause of one
 * update interval between events so that the far end tells two presses of the same key apart.
 */
export class DtmfSender {
  private queue: Promise<void> = Promise.resolve();
  private readonly pending = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();
  private closed = false;

  constructor(private readonly output: DtmfOutput) {}

  /** Resolves when the event has been sent (or dropped because the leg closed). */
  send(event: DtmfEvent): Promise<void> {
    this.queue = this.queue.then(() => this.play(event));
    return this.queue;
  }

  close(): void {
    this.closed = true;
    for (const entry of this.pending) {
      clearTimeout(entry.timer);
      entry.resolve();
    }
    this.pending.clear();
  }

  private async play(event: DtmfEvent): Promise<void> {
    const clockRate = this.output.clockRate();
    if (this.closed || clockRate === undefined) return;
    const timestamp = this.output.startTimestamp();
    const packets = scheduleDtmf(event, clockRate);
    const started = performance.now();
    for (const packet of packets) {
      await this.sleep(packet.atMs - (performance.now() - started));
      if (this.closed) return;
      this.output.transmit(timestamp, packet.marker, packet.payload);
    }
    await this.sleep(DTMF_UPDATE_INTERVAL_MS);
  }

  private sleep(ms: number): Promise<void> {
    if (ms <= 0 || this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const entry = {
        timer: setTimeout(() => {
          this.pending.delete(entry);
          resolve();
        }, ms),
        resolve,
      };
      this.pending.add(entry);
    });
  }
}
