/**
 * Why past 500 lines: negotiation, symmetric-RTP latching, RTCP reports and the native relay hand-off all act
 * on the same socket state; what both kinds of leg share is in leg-base.ts already.
 *
 * One plain RTP/AVP media leg (RFC 3550, RFC 3551) for desk phones and other SIP devices: a UDP socket pair
 * on the PBX's media address, G.711 (or whatever single codec the bridge carries) and RFC 4733
 * telephone-events.
 *
 * - Ports: RTP on an even port and RTCP on the next one (RFC 3550 §11), or one port when the offer asks
 *   for rtcp-mux (RFC 5761). Received RTCP is counted as a sign of life (see media-timeout.ts), and its
 *   sender reports are noted for ours.
 * - RTCP (RFC 3550 §6, rtcp.ts): every 5 s or so (randomized ±50 %) while connected, even on hold, the leg
 *   sends SR (or RR when it sent nothing since the last one) with a report block on the stream it receives,
 *   and SDES CNAME, and a last one with BYE when it closes. Reports go to where the phone's RTCP comes
 *   from, else to the a=rtcp port or the RTP port + 1 (the RTP port itself with rtcp-mux).
 * - Symmetric RTP (RFC 4961): the leg sends to the c=/m= address until media arrives, then to the address
 *   the media comes from, which is what gets through a NAT in front of the phone. Once latched, RTP from
 *   any other source than that one or the c=/m= address is dropped, neither relayed nor followed.
 * - State: there is no handshake on plain RTP, so the leg is `connected` as soon as it knows where to send
 *   (after answering an offer, or after its own offer is answered).
 * - Hold (RFC 3264 §8.4): an offer with sendonly or inactive is answered recvonly or inactive, and the leg
 *   stops sending while the remote side asks not to receive. A c= of 0.0.0.0 (RFC 2543 hold, still sent
 *   by some phones) means the same as sendonly.
 */
import { randomInt } from 'node:crypto';
import { isIP } from 'node:net';
import { createLogger } from '../../log';
import { randomBase64url } from '../../util/random-pool';
import { DtmfReceiver, DtmfSender, telephoneEventsFor } from './dtmf';
import { LegBase } from './leg-base';
import { onlyPeer } from './media-leg';
import type { LegState, MediaConfig, MediaDirection, MediaLeg, NegotiatedCodec, RtpFrame } from './media-leg';
import { OutboundStream, RTP_HEADER, STREAM_SLOTS, writeRtpHeader } from './outbound-stream';
import { DEFAULT_RTCP_INTERVAL_MS, readSenderReport, ReceptionStats, scheduleReports, writeReport } from './rtcp';
import { countSent, openRtpSocket, senderInfo, Slot, takeRelayed } from '../native/rtp-socket';
import type { RtpAddress, RtpSocket } from '../native/rtp-socket';
import { answerDirection, describeAudio, holds, isTelephoneEvent, parseSdp, sameCodec, SdpError, writeSdp } from '../sdp/sdp';
import type { AudioDescription, SdpAttribute, SdpMedia } from '../sdp/sdp';

const log = createLogger('media');

/** What a plain RTP leg carries when the caller gives no list: G.711, µ-law first (RFC 3551 §4.5.14). */
export const RTP_DEFAULT_CODECS: readonly NegotiatedCodec[] = [
  { mimeType: 'audio/PCMU', clockRate: 8000, channels: 1, payloadType: 0 },
  { mimeType: 'audio/PCMA', clockRate: 8000, channels: 1, payloadType: 8 },
];

const DEFAULT_PTIME = 20;
const HEADER = RTP_HEADER;

export class RtpLeg extends LegBase implements MediaLeg {
  readonly kind = 'rtp';
  private audio: NegotiatedCodec | undefined;
  private eventCodec: NegotiatedCodec | undefined;
  /** Payload types the remote may send us for the audio codec and for telephone-event. */
  private readonly receiveAudio = new Set<number>();
  private readonly receiveEvents = new Set<number>();
  private signalled: RtpAddress | undefined;
  private latched: RtpAddress | undefined;
  private rtcpMux = false;
  private ptime = DEFAULT_PTIME;
  private sdpVersion = 0;
  private readonly sessionId = String(randomInt(1, 2 ** 47));
  private stream: OutboundStream | undefined;
  private dtmfReceiver: DtmfReceiver | undefined;
  protected readonly dtmfSender: DtmfSender;
  /** RTP dropped because it came from somewhere other than the phone (see admits). */
  private strays = 0;
  /** For RTCP: what the phone sends us. What we sent it is counted in the socket's state (Slot). */
  private readonly reception = new ReceptionStats(8000);
  private reported = false;
  /** The legs bridges join this one to (see `bridged`). */
  private signalledRtcpPort: number | undefined;
  private rtcpSource: RtpAddress | undefined;
  private reports: { stop(): void } | undefined;
  private readonly cname = randomBase64url(12);

  private constructor(
    id: string,
    private readonly config: MediaConfig,
    private readonly rtp: RtpSocket,
    private readonly rtcp: RtpSocket | undefined,
    private offered: readonly NegotiatedCodec[],
  ) {
    super(id);
    rtp.listen(
      (message, address, port) => this.receive(message, address, port),
      (error) => this.fail(error),
    );
    rtcp?.listen(
      (message, address, port) => this.receiveRtcp(message, address, port),
      (error) => log.debug('rtcp socket error', { leg: this.id, error }),
    );
    this.dtmfSender = new DtmfSender({
      clockRate: () => this.telephoneEvent?.clockRate,
      startTimestamp: () => this.outbound()?.currentTimestamp() ?? 0,
      transmit: (timestamp, marker, payload) => {
        const event = this.telephoneEvent;
        const stream = this.outbound();
        if (!event || !stream) return;
        this.send(rtpBytes(stream.inject(timestamp, marker), event.payloadType, payload));
      },
    });
  }

  get codec(): NegotiatedCodec | undefined {
    return this.audio;
  }

  protected get telephoneEvent(): NegotiatedCodec | undefined {
    return this.eventCodec;
  }

  get packetsReceived(): number {
    return this.rtp.state[Slot.received]!;
  }

  /** The local RTP port (RTCP is on the next one unless multiplexed). */
  get port(): number {
    return this.rtp.port;
  }

  /**
   * Answers a plain RTP offer (an INVITE from a desk phone), choosing the first offered codec that is in
   * `allowedCodecs` and, when offered at the same clock rate, telephone-event.
   */
  static async answer(
    id: string,
    offerSdp: string,
    config: MediaConfig,
    allowedCodecs: readonly NegotiatedCodec[] = RTP_DEFAULT_CODECS,
  ): Promise<{ leg: RtpLeg; answerSdp: string }> {
    log.debug('answering rtp offer', { leg: id });
    const offer = describeAudio(parseSdp(offerSdp));
    if (offer.port === 0) throw new SdpError('the audio stream is disabled (port 0)');
    const sockets = await bindSockets(config, !offer.rtcpMux);
    const leg = new RtpLeg(id, config, sockets.rtp, sockets.rtcp, allowedCodecs);
    try {
      leg.rtcpMux = offer.rtcpMux;
      const answerSdp = leg.applyOffer(offer, allowedCodecs);
      leg.setState('connected');
      return { leg, answerSdp };
    } catch (error) {
      leg.close();
      throw error;
    }
  }

  /** Makes an offer for a callee with the given codecs (the other leg's), adding telephone-event. */
  static async offer(id: string, config: MediaConfig, codecs: readonly NegotiatedCodec[]): Promise<{ leg: RtpLeg; offerSdp: string }> {
    log.debug('making rtp offer', { leg: id });
    const audio = codecs.filter((codec) => !isTelephoneEvent(codec));
    if (audio.length === 0) throw new Error('no codec to offer');
    const sockets = await bindSockets(config, true);
    const offered = [...audio, ...telephoneEventsFor(audio, new Set(audio.map((codec) => codec.payloadType)))];
    const leg = new RtpLeg(id, config, sockets.rtp, sockets.rtcp, offered);
    return { leg, offerSdp: leg.describe(offered, 'sendrecv') };
  }

  async acceptAnswer(answerSdp: string): Promise<void> {
    log.debug('accepting rtp answer', { leg: this.id });
    const answer = describeAudio(parseSdp(answerSdp));
    if (answer.port === 0) throw new SdpError('the callee rejected the audio stream');
    const audio = answer.codecs.find((codec) => !isTelephoneEvent(codec) && this.offered.some((o) => sameCodec(o, codec)));
    if (!audio) throw new SdpError('the answer has no codec that was offered');
    const offeredAudio = this.offered.find((o) => sameCodec(o, audio));
    this.setCodecs(
      audio,
      answer.codecs.find((codec) => isTelephoneEvent(codec) && codec.clockRate === audio.clockRate),
      offeredAudio ? [offeredAudio.payloadType] : [],
      this.offered.filter((o) => isTelephoneEvent(o) && o.clockRate === audio.clockRate).map((o) => o.payloadType),
    );
    this.rtcpMux = answer.rtcpMux;
    this.applyRemote(answer);
    // Becoming connected tells the relay; an answer to a later offer (in an ACK) must tell it here.
    if (this.stateValue === 'connected') this.syncRelay();
    else this.setState('connected');
  }

  /**
   * Before its offer has gone out: limits it to `codec` (the one the other leg of the bridge settled on) and
   * that codec's telephone-event, and returns the offer to send. Used when a caller sent no offer and gets
   * ours in the 2xx, once the callee has answered.
   */
  narrowOffer(codec: NegotiatedCodec): string {
    const audio = this.offered.find((offered) => !isTelephoneEvent(offered) && sameCodec(offered, codec));
    if (!audio) throw new SdpError(`${codec.mimeType} was not offered`);
    this.offered = [audio, ...this.offered.filter((offered) => isTelephoneEvent(offered) && offered.clockRate === audio.clockRate)];
    return this.describe(this.offered, 'sendrecv');
  }

  async renegotiate(offerSdp: string): Promise<string> {
    log.debug('renegotiating rtp leg', { leg: this.id });
    const offer = describeAudio(parseSdp(offerSdp));
    // The bridge carries one codec and does not transcode: once chosen, a re-offer must still include it
    // (RFC 3261 §14.2: else 488, and the session stays as it was).
    const current = this.audio;
    const allowed = current ? [current, ...this.offered.filter((c) => isTelephoneEvent(c))] : this.offered;
    const rtcpMux = this.rtcpMux;
    this.rtcpMux = rtcpMux && offer.rtcpMux;
    try {
      return this.applyOffer(offer, allowed);
    } catch (error) {
      this.rtcpMux = rtcpMux;
      throw error;
    } finally {
      this.syncRelay();
    }
  }

  /** Sends a frame from the other leg, in the datagram it came in where it can (OutboundStream.packetFor). */
  sendRtp(frame: RtpFrame): void {
    const audio = this.audio;
    const stream = this.outbound();
    // Checked before the stream moves on: a packet not sent must not become its reference for what follows.
    if (!audio || !stream || !this.canSend()) return;
    this.send(stream.packetFor(frame, audio.payloadType));
  }

  relaySocket(): RtpSocket | undefined {
    return this.rtp.relays && this.stateValue !== 'closed' ? this.rtp : undefined;
  }

  close(): void {
    if (this.stateValue === 'closed') return;
    // RFC 3550 §6.6: a last report, with BYE, tells the phone our stream has ended; §6.3.7: not from a
    // participant that never sent RTP or RTCP, which the phone never heard of.
    if (this.rtp.state[Slot.packetsSent]! > 0 || this.reported) this.sendReport(true);
    this.closeBase();
    this.reports?.stop();
    this.rtp.close();
    this.rtcp?.close();
    this.removeAllListeners();
  }

  /** Negotiates from an offer (initial or re-INVITE) and returns the answer. */
  private applyOffer(offer: AudioDescription, allowed: readonly NegotiatedCodec[]): string {
    let audio: NegotiatedCodec | undefined;
    for (const preferred of allowed) {
      if (isTelephoneEvent(preferred)) continue;
      audio = offer.codecs.find((codec) => !isTelephoneEvent(codec) && sameCodec(codec, preferred));
      if (audio) break;
    }
    if (!audio) throw new SdpError('no common audio codec');
    const event = offer.codecs.find((codec) => isTelephoneEvent(codec) && codec.clockRate === audio.clockRate);
    this.setCodecs(audio, event, [audio.payloadType], event ? [event.payloadType] : []);
    this.ptime = offer.ptime ?? DEFAULT_PTIME;
    this.applyRemote(offer);
    this.sdpVersion++;
    return this.describe(event ? [audio, event] : [audio], offer.port === 0 ? 'inactive' : answerDirection(offer.direction), offer.protocol, offer);
  }

  private setCodecs(audio: NegotiatedCodec, event: NegotiatedCodec | undefined, audioPts: number[], eventPts: number[]): void {
    if (this.audio && !sameCodec(this.audio, audio)) log.info('codec changed', { leg: this.id, from: this.audio.mimeType, to: audio.mimeType });
    this.audio = audio;
    this.eventCodec = event;
    this.receiveAudio.clear();
    for (const pt of [audio.payloadType, ...audioPts]) this.receiveAudio.add(pt);
    this.receiveEvents.clear();
    if (event) for (const pt of [event.payloadType, ...eventPts]) this.receiveEvents.add(pt);
    if (event && this.dtmfReceiver?.clockRate !== event.clockRate) this.dtmfReceiver = new DtmfReceiver(event.clockRate);
    this.stream?.setClockRate(audio.clockRate);
    this.reception.setClockRate(audio.clockRate);
  }

  private applyRemote(description: AudioDescription): void {
    const held = description.address === '0.0.0.0' || description.address === '::';
    let direction = description.direction;
    if (description.port === 0) direction = 'inactive';
    else if (held) direction = direction === 'sendrecv' ? 'sendonly' : direction === 'recvonly' ? 'inactive' : direction;
    const target = held || description.port === 0 ? undefined : { address: description.address, port: description.port, literal: isIP(description.address) !== 0 };
    if (target?.address !== this.signalled?.address || target?.port !== this.signalled?.port) this.latched = undefined;
    this.signalled = target;
    this.signalledRtcpPort = description.rtcpPort;
    if (direction !== this.remoteDirectionValue) log.debug('remote direction', { leg: this.id, direction });
    this.remoteDirectionValue = direction;
  }

  /**
   * Our description: an offer, or the answer to `offer`, which has an m= line for each of the offer's in the
   * same order (RFC 3264 §6). The audio stream is ours; every other (video, a second audio) is refused with
   * port 0 and the formats it was offered with.
   */
  private describe(codecs: readonly NegotiatedCodec[], direction: MediaDirection, protocol = 'RTP/AVP', offer?: AudioDescription): string {
    const addrType = this.config.address.includes(':') ? 'IP6' : 'IP4';
    const attributes: SdpAttribute[] = [];
    for (const codec of codecs) {
      const name = codec.mimeType.replace(/^audio\//i, '');
      const channels = codec.channels !== undefined && codec.channels > 1 ? `/${codec.channels}` : '';
      attributes.push({ name: 'rtpmap', value: `${codec.payloadType} ${name}/${codec.clockRate}${channels}` });
      if (codec.parameters) attributes.push({ name: 'fmtp', value: `${codec.payloadType} ${codec.parameters}` });
    }
    attributes.push({ name: 'ptime', value: String(this.ptime) });
    if (this.rtcpMux) attributes.push({ name: 'rtcp-mux' });
    attributes.push({ name: direction });
    return writeSdp({
      origin: { username: 'offhook', sessionId: this.sessionId, sessionVersion: String(this.sdpVersion), netType: 'IN', addrType, address: this.config.address },
      sessionName: 'offhook',
      connection: { netType: 'IN', addrType, address: this.config.address },
      bandwidths: [],
      timing: ['0 0'],
      attributes: [],
      media: (offer?.lines ?? [undefined]).map((line): SdpMedia =>
        line === undefined || line === offer?.media
          ? { type: 'audio', port: this.rtp.port, protocol, formats: codecs.map((codec) => String(codec.payloadType)), bandwidths: [], attributes }
          : { type: line.type, port: 0, protocol: line.protocol, formats: line.formats, bandwidths: [], attributes: [] },
      ),
    });
  }

  private receive(message: Buffer, address: string, port: number): void {
    if (this.stateValue === 'closed' || message.length < HEADER || message[0]! >> 6 !== 2) return;
    // RFC 5761 §4: with rtcp-mux, RTCP packet types 192–223 share the port; they are not RTP.
    const second = message[1]!;
    if (second >= 192 && second <= 223) {
      this.receiveRtcp(message, address, port);
      return;
    }
    const frame = readRtp(message);
    if (!frame) return;
    const payloadType = second & 0x7f;
    const isEvent = this.receiveEvents.has(payloadType);
    const known = isEvent || this.receiveAudio.has(payloadType);
    if (!this.admits(address, port, known)) return;
    this.rtp.state[Slot.received]!++;
    if (!known) return;
    this.takeRelayed();
    this.reception.update(frame.ssrc, frame.sequenceNumber, frame.timestamp, performance.now());
    if (isEvent) {
      for (const event of this.dtmfReceiver?.push(frame.timestamp, message.subarray(frame.payloadStart, frame.payloadEnd)) ?? []) {
        log.debug('dtmf received', { leg: this.id, digit: event.digit });
        this.emit('dtmf', event);
      }
    } else {
      this.emit('rtp', frame);
    }
  }

  /** RTCP from the phone: a sign of life; its sender report is noted, and where it came from is where ours go. */
  private receiveRtcp(message: Buffer, address: string, port: number): void {
    this.rtp.state[Slot.received]!++;
    this.rtcpSource ??= { address, port, literal: true };
    const report = readSenderReport(message);
    if (report && report.ssrc === this.reception.ssrc) this.reception.noteSenderReport(report.ntpMiddle, performance.now());
  }

  /** A sender or receiver report with SDES (RFC 3550 §6.4), and BYE when the leg closes (§6.6). */
  private sendReport(bye = false): void {
    const target = this.rtcpTarget();
    // The outbound stream's SSRC is ours in RTCP too, whether or not RTP has gone out yet (RFC 3550 §6.4).
    const stream = this.outbound();
    if (!target || !stream || this.stateValue !== 'connected') return;
    const sender = senderInfo(this.rtp.state, stream);
    this.takeRelayed();
    const packet = writeReport(stream.ssrc, this.cname, sender, this.reception.report(performance.now()), bye);
    const socket = this.rtcpMux || !this.rtcp ? this.rtp : this.rtcp;
    this.reported = true;
    socket.send(packet, target);
  }

  /** Before a report, and before a packet the leg takes itself (see takeRelayed in rtp-socket.ts). */
  private takeRelayed(): void {
    takeRelayed(this.rtp.state, this.reception);
  }

  /**
   * Tells the native relay what it may relay for this leg (rtp-socket.ts): audio from the latched source
   * goes straight to the one leg this one is bridged to, while neither side holds the call and both are
   * connected, exactly as MediaBridge and sendRtp would relay it. Called whenever any of that changes; what
   * the relay does not take comes up to `receive` as before.
   */
  protected syncRelay(): void {
    const socket = this.rtp;
    if (!socket.relays || this.stateValue === 'closed') return;
    const peer = onlyPeer(this.peers)?.relaySocket();
    const connected = this.stateValue === 'connected';
    const receives = peer !== undefined && this.latched !== undefined && this.audio !== undefined && connected && !holds(this.remoteDirectionValue);
    const sends = this.outbound() !== undefined && this.canSend();
    socket.relay(peer, receives, sends, this.audio?.payloadType ?? 0, this.receiveAudio, this.latched, this.latched ?? this.signalled);
  }

  /**
   * Where RTCP goes: where the phone's comes from; until it comes, where its RTP goes, on the a=rtcp port or the
   * RTP port + 1 unless multiplexed.
   */
  private rtcpTarget(): RtpAddress | undefined {
    if (this.rtcpSource) return this.rtcpSource;
    const media = this.latched ?? this.signalled;
    if (!media || this.rtcpMux) return media;
    const port = this.signalledRtcpPort ?? media.port + 1;
    // RTP on port 65535 leaves no port for RTCP (RFC 3550 §11): then no reports go out.
    return port <= 65535 ? { ...media, port } : undefined;
  }

  /**
   * Whether RTP from `from` is the phone's. RFC 4961: once media arrives, the leg answers it where it came
   * from, so the first source to send media we negotiated is latched. From then on only that source is
   * heard, or the address the phone signalled, which takes the latch over: stray or injected packets from
   * elsewhere are dropped rather than relayed into the call, and cannot draw the call's audio to
   * themselves. A new c=/m= address in a re-offer starts the latching again.
   */
  private admits(address: string, port: number, known: boolean): boolean {
    const latched = this.latched;
    if (latched && port === latched.port && address === latched.address) return true;
    const signalled = this.signalled;
    const fromSignalled = port === signalled?.port && address === signalled.address;
    if (latched && !fromSignalled) {
      this.strays++;
      if (this.strays === 1) log.info('rtp from an unexpected source dropped', { leg: this.id, address, port, latched: `${latched.address}:${latched.port}` });
      return false;
    }
    if (!known) return true;
    this.latched = { address, port, literal: true };
    if (!fromSignalled) log.debug('symmetric rtp: sending to the media source', { leg: this.id, address, port });
    this.syncRelay();
    return true;
  }

  private send(packet: Buffer): void {
    const target = this.latched ?? this.signalled;
    if (!target || !this.canSend()) return;
    // A datagram the kernel refuses counts as sent, as UDP would have lost it on the way (relay.c does the same).
    this.rtp.send(packet, target);
    countSent(this.rtp.state, packet);
  }

  /** The stream this leg sends; its numbers live in the socket's state, where the native relay moves it on too. */
  private outbound(): OutboundStream | undefined {
    if (!this.audio) return undefined;
    this.stream ??= new OutboundStream(this.audio.clockRate, undefined, this.rtp.state.subarray(Slot.stream, Slot.stream + STREAM_SLOTS));
    return this.stream;
  }

  private fail(error: Error): void {
    log.warn('rtp socket failed', { leg: this.id, error });
    this.setState('failed');
  }

  protected override onState(state: LegState): void {
    if (state === 'connected') this.reports ??= scheduleReports(this.config.rtcpIntervalMs ?? DEFAULT_RTCP_INTERVAL_MS, () => this.sendReport());
  }
}

/**
 * Reads an RTP packet (RFC 3550 §5.1) for relaying: the fixed header, and where the payload lies past any
 * CSRCs and header extension and before any padding. The frame's bytes are the message itself, not a copy;
 * undefined when the lengths do not add up.
 */
export function readRtp(message: Buffer): RtpFrame | undefined {
  const first = message[0] ?? 0;
  let payloadStart = HEADER + 4 * (first & 0x0f);
  if (first & 0x10) {
    if (message.length < payloadStart + 4) return undefined;
    payloadStart += 4 + 4 * message.readUInt16BE(payloadStart + 2);
  }
  const payloadEnd = first & 0x20 ? message.length - (message[message.length - 1] ?? 0) : message.length;
  if (payloadStart > payloadEnd) return undefined;
  const second = message[1] ?? 0;
  return {
    marker: (second & 0x80) !== 0,
    payloadType: second & 0x7f,
    sequenceNumber: message.readUInt16BE(2),
    timestamp: message.readUInt32BE(4),
    ssrc: message.readUInt32BE(8),
    bytes: message,
    payloadStart,
    payloadEnd,
  };
}

/** An RTP packet as sent on the wire (RFC 3550 §5.1): our header, then the payload. */
export function rtpBytes(header: { ssrc: number; sequenceNumber: number; timestamp: number; marker: boolean }, payloadType: number, payload: Buffer): Buffer {
  const bytes = Buffer.allocUnsafe(HEADER + payload.length);
  writeRtpHeader(bytes, 0, header.marker, payloadType, header.sequenceNumber, header.timestamp, header.ssrc);
  payload.copy(bytes, HEADER);
  return bytes;
}

/**
 * Binds the RTP socket on an even port and, unless RTCP is multiplexed, the RTCP socket on the next one
 * (RFC 3550 §11), within the configured range or anywhere when there is none.
 */
async function bindSockets(config: MediaConfig, withRtcp: boolean): Promise<{ rtp: RtpSocket; rtcp: RtpSocket | undefined }> {
  const native = config.nativeRelay !== false;
  if (!config.portRange) return bindAnywhere(config.address, withRtcp, native);
  const [low, high] = config.portRange;
  const first = low % 2 === 0 ? low : low + 1;
  const count = Math.floor((high - (withRtcp ? 1 : 0) - first) / 2) + 1;
  if (count <= 0) throw new Error(`media port range ${low}-${high} holds no RTP port`);
  const start = randomInt(0, count);
  for (let i = 0; i < count; i++) {
    const candidate = first + 2 * ((start + i) % count);
    const rtp = await openRtpSocket(config.address, candidate, native ? 'relay' : 'node');
    if (!rtp) continue;
    if (!withRtcp) return { rtp, rtcp: undefined };
    const rtcp = await openRtpSocket(config.address, candidate + 1, native ? 'plain' : 'node').catch((error: unknown) => {
      rtp.close();
      throw error;
    });
    if (rtcp) return { rtp, rtcp };
    rtp.close();
  }
  throw new Error('no free media port');
}

/**
 * With no range: a port the system picks, and its neighbour. A multiplexed leg takes whatever port comes
 * (RFC 3550 §11 asks for an even port only where RTCP has the next one). Otherwise an even port gets the next one for RTCP,
 * and an odd one becomes the RTCP port of the even port below it, so half the picks need no second try.
 */
async function bindAnywhere(address: string, withRtcp: boolean, native: boolean): Promise<{ rtp: RtpSocket; rtcp: RtpSocket | undefined }> {
  for (let attempt = 0; attempt < 50; attempt++) {
    // The first pick may turn out to be the RTCP port (odd): it then keeps a relay's state it never uses.
    const picked = await openRtpSocket(address, 0, native ? 'relay' : 'node');
    if (!picked) continue;
    if (!withRtcp) return { rtp: picked, rtcp: undefined };
    const even = picked.port % 2 === 0;
    const neighbour = await openRtpSocket(address, even ? picked.port + 1 : picked.port - 1, !native ? 'node' : even ? 'plain' : 'relay').catch((error: unknown) => {
      picked.close();
      throw error;
    });
    if (neighbour) return even ? { rtp: picked, rtcp: neighbour } : { rtp: neighbour, rtcp: picked };
    picked.close();
  }
  throw new Error('no free media port');
}
