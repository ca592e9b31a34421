/**
 * Why past 500 lines: werift's peer connection and the native relay's adoption of its SRTP act on the same
 * state and must stay in step; what both kinds of leg share is in leg-base.ts already.
 *
 * One WebRTC media leg anchored at the PBX: ICE (lite), DTLS-SRTP and RTP for a single audio stream.
 *
 * Each call is two or more legs joined by a bridge (`bridge.ts`); a leg never outlives its call, and closing
 * it releases its sockets. The PBX is ICE-lite (RFC 8445 §2.5): it has a reachable address, answers the
 * browser's connectivity checks and sends none of its own, so a leg is ready to describe itself at once
 * instead of waiting on address gathering.
 *
 * Beside the audio codec the leg negotiates RFC 4733 telephone-event, reports received key presses as `dtmf`
 * (never as audio) and sends them as event packets; it stops sending while the browser holds the call
 * (a=sendonly or a=inactive in its latest offer, RFC 3264 §8.4).
 *
 * werift does ICE and DTLS. Once DTLS has keyed SRTP, the leg hands its SRTP to the native relay where it
 * is built (`adopt`, rtp-socket.ts adoptRtpSocket): the relay reads the ICE socket, decrypts the browser's
 * audio and relays it straight to the leg's one bridged peer, or hands it up decrypted, and encrypts what
 * the leg sends. STUN, DTLS and SRTCP go back to werift as its socket would have delivered them. The leg
 * then sends its own RTCP reports (RFC 3550 §6.4) from the relay's counters and record, through werift's
 * SRTCP, in place of werift's receiver, which no longer sees the packets. Where the relay is not built (or
 * the DTLS profile is one it does not protect), werift carries the media, as it does before DTLS is up.
 */
import type { Socket } from 'node:dgram';
import { keyLength, RTCPeerConnection, RTCRtpCodecParameters, RtcpSrPacket, RtpHeader, RtpPacket, saltLength, UdpTransport } from 'werift';
import type { RTCDtlsTransport, RTCRtpTransceiver } from 'werift';
import { createLogger } from '../../log';
import { DtmfReceiver, DtmfSender, telephoneEventsFor } from './dtmf';
import { LegBase } from './leg-base';
import { onlyPeer, rtpFrame, rtpPayload } from './media-leg';
import type { MediaConfig, MediaLeg, NegotiatedCodec, RtpFrame } from './media-leg';
import { OutboundStream, STREAM_SLOTS } from './outbound-stream';
import { DEFAULT_RTCP_INTERVAL_MS, ReceptionStats, scheduleReports, writeReport } from './rtcp';
import { readRtp, rtpBytes } from './rtp-leg';
import { adoptRtpSocket, countSent, RELAY_SRTP_PROFILES, relayStateSlots, senderInfo, Slot, takeRelayed } from '../native/rtp-socket';
import type { AdoptedRtpSocket, RtpAddress, RtpSocket, SrtpPositions } from '../native/rtp-socket';
import { describeAudio, holds, isTelephoneEvent, parseSdp, writeSdp } from '../sdp/sdp';

export type { LegState, MediaConfig, NegotiatedCodec } from './media-leg';

const log = createLogger('media');

/** The audio codecs a WebRTC leg can carry, in order of preference; telephone-event is added per clock rate. */
export const SUPPORTED_AUDIO_CODECS: readonly NegotiatedCodec[] = [
  { mimeType: 'audio/opus', clockRate: 48000, channels: 2, payloadType: 111, parameters: 'minptime=10;useinbandfec=1' },
  { mimeType: 'audio/PCMU', clockRate: 8000, channels: 1, payloadType: 0 },
  { mimeType: 'audio/PCMA', clockRate: 8000, channels: 1, payloadType: 8 },
];

/**
 * The codecs handed to werift: the audio ones given, then telephone-event at each of their clock rates
 * (RFC 4733 §2.1 ties the event clock to the audio's: /48000 beside Opus, /8000 beside G.711).
 */
function withTelephoneEvents(codecs: readonly NegotiatedCodec[]): NegotiatedCodec[] {
  const audio = codecs.filter((codec) => !isTelephoneEvent(codec));
  const given = codecs.filter(isTelephoneEvent);
  const missing = audio.filter((codec) => !given.some((event) => event.clockRate === codec.clockRate));
  const used = new Set(codecs.map((codec) => codec.payloadType));
  return [...audio, ...given, ...telephoneEventsFor(missing, used)];
}

/**
 * The offer without the telephone-events at clock rates none of our audio codecs has. werift matches
 * telephone-event by name alone, so a G.711-only leg would otherwise accept telephone-event/48000 too, which
 * RFC 4733 §2.1 ties to a 48 kHz audio stream we do not carry.
 */
function withoutForeignEvents(offerSdp: string, codecs: readonly NegotiatedCodec[]): string {
  const sdp = parseSdp(offerSdp);
  const media = sdp.media.find((m) => m.type === 'audio');
  if (!media) return offerSdp;
  const clocks = new Set(codecs.filter((codec) => !isTelephoneEvent(codec)).map((codec) => codec.clockRate));
  const foreign = new Set(
    describeAudio(sdp)
      .codecs.filter((codec) => isTelephoneEvent(codec) && !clocks.has(codec.clockRate))
      .map((codec) => String(codec.payloadType)),
  );
  if (foreign.size === 0) return offerSdp;
  media.formats = media.formats.filter((format) => !foreign.has(format));
  media.attributes = media.attributes.filter((a) => !(['rtpmap', 'fmtp', 'rtcp-fb'].includes(a.name) && foreign.has(a.value?.split(' ')[0] ?? '')));
  return writeSdp(sdp);
}

/** The UDP transport under a candidate pair: werift's STUN protocol keeps it (TCP candidates have none to adopt). */
function udpTransportOf(pair: { protocol: unknown } | undefined): UdpTransport | undefined {
  const transport = (pair?.protocol as { transport?: unknown } | undefined)?.transport;
  return transport instanceof UdpTransport ? transport : undefined;
}

/** werift's per-SSRC SRTP state as the relay takes it: [SSRC, rollover counter, highest sequence number] each. */
function positionsOf(states: Record<number, { rolloverCounter: number; lastSequenceNumber: number } | undefined>): number[] {
  return Object.entries(states).flatMap(([ssrc, state]) => (state ? [Number(ssrc), state.rolloverCounter, state.lastSequenceNumber] : []));
}

/** The relay's stream positions into werift's per-SSRC SRTP state (the inverse of positionsOf). */
function seedWerift(states: Record<number, { ssrc: number; rolloverCounter: number; lastSequenceNumber: number; rolloverHasProcessed?: boolean }>, positions: number[]): void {
  for (let at = 0; at + 2 < positions.length; at += 3) {
    const ssrc = positions[at]!;
    states[ssrc] = { ssrc, rolloverCounter: positions[at + 1]!, lastSequenceNumber: positions[at + 2]!, rolloverHasProcessed: true };
  }
}

/** The negotiated codecs as the leg reads them for each packet. */
interface Negotiated {
  audio: NegotiatedCodec | undefined;
  /** telephone-event at the audio codec's clock rate, if the far end accepted one. */
  telephoneEvent: NegotiatedCodec | undefined;
  /**
   * Every negotiated telephone-event, by payload type, with its clock: none is audio, and each is a key press.
   * A browser sending Opus may send its events at 8000 Hz (Chrome does, when both were negotiated).
   */
  eventClocks: ReadonlyMap<number, number>;
}

export class WebRtcLeg extends LegBase implements MediaLeg {
  readonly kind = 'webrtc';
  private readonly pc: RTCPeerConnection;
  private transceiver: RTCRtpTransceiver | undefined;
  private received = 0;
  private stream: OutboundStream | undefined;
  private negotiatedCache: Negotiated | undefined;
  private dtmfReceiver: DtmfReceiver | undefined;
  protected readonly dtmfSender: DtmfSender;
  /** The outbound stream and counters, shared with the native relay once it reads the socket (Slot). */
  private readonly relayState = new Float64Array(relayStateSlots());
  /** The ICE socket as the native relay reads it, once it carries this leg's SRTP (`adopt`). */
  private socket: AdoptedRtpSocket | undefined;
  /** werift's own socket: what the relay does not take goes back to it. */
  private iceSocket: Socket | undefined;
  /** The far end of the selected candidate pair: where SRTP comes from and goes. */
  private remote: RtpAddress | undefined;
  /** The legs bridges join this one to (see `bridged`). */
  /** For the RTCP reports the leg sends while the relay carries its SRTP: what the browser sends us. */
  private reception: ReceptionStats | undefined;
  private reports: { stop(): void } | undefined;

  private constructor(
    id: string,
    private readonly config: MediaConfig,
    private readonly codecs: readonly NegotiatedCodec[],
  ) {
    super(id);
    this.pc = new RTCPeerConnection({
      iceServers: [],
      iceLite: true,
      iceUseIpv6: false,
      iceInterfaceAddresses: { udp4: config.address },
      iceAdditionalHostAddresses: [config.address],
      icePortRange: config.portRange,
      bundlePolicy: 'max-bundle',
      codecs: { audio: withTelephoneEvents(codecs).map((codec) => new RTCRtpCodecParameters({ ...codec, rtcpFeedback: [] })) },
      headerExtensions: { audio: [] },
    });
    this.pc.connectionStateChange.subscribe((state) => {
      if (state === 'connected') {
        // Before the state is told: the bridged peer then finds this leg's relay socket.
        this.adopt();
        this.setState('connected');
      } else if (state === 'failed') this.setState('failed');
      else if (state === 'connecting') this.setState('connecting');
    });
    this.pc.onTransceiverAdded.subscribe((transceiver) => this.attach(transceiver));
    // After an ICE restart the selected pair may be on another socket, which the relay must then read.
    this.pc.iceConnectionStateChange.subscribe((state) => {
      if (state === 'connected' || state === 'completed') this.syncRelay();
    });
    this.dtmfSender = new DtmfSender({
      clockRate: () => this.telephoneEvent?.clockRate,
      startTimestamp: () => this.outbound()?.currentTimestamp() ?? 0,
      transmit: (timestamp, marker, payload) => this.transmitEvent(timestamp, marker, payload),
    });
  }

  /** The audio codec this leg sends with, once negotiated. */
  get codec(): NegotiatedCodec | undefined {
    return this.negotiated()?.audio;
  }

  get packetsReceived(): number {
    return this.received + this.relayState[Slot.received]!;
  }

  /** The negotiated telephone-event at the audio codec's clock rate, if the far end accepted one. */
  protected get telephoneEvent(): NegotiatedCodec | undefined {
    return this.negotiated()?.telephoneEvent;
  }

  /**
   * Answers a remote offer (the caller's INVITE), choosing among `allowedCodecs` (by default every codec a
   * WebRTC leg carries) in the offer's order of preference.
   */
  static async answer(
    id: string,
    offerSdp: string,
    config: MediaConfig,
    allowedCodecs: readonly NegotiatedCodec[] = SUPPORTED_AUDIO_CODECS,
  ): Promise<{ leg: WebRtcLeg; answerSdp: string }> {
    log.debug('answering webrtc offer', { leg: id });
    const leg = new WebRtcLeg(id, config, allowedCodecs);
    try {
      const direction = describeAudio(parseSdp(offerSdp)).direction;
      await leg.pc.setRemoteDescription({ type: 'offer', sdp: withoutForeignEvents(offerSdp, allowedCodecs) });
      const transceiver = leg.pc.getTransceivers().find((t) => t.kind === 'audio');
      if (!transceiver) throw new Error('the offer has no audio stream');
      transceiver.setDirection('sendrecv');
      await leg.pc.setLocalDescription(await leg.pc.createAnswer());
      const answerSdp = await leg.localSdp();
      leg.negotiatedCache = undefined;
      if (!leg.codec) throw new Error('no common audio codec');
      leg.remoteDirectionValue = direction;
      return { leg, answerSdp };
    } catch (error) {
      leg.close();
      throw error;
    }
  }

  /** Creates an offer for a callee, restricted to the codecs given (those of the other leg) plus telephone-event. */
  static async offer(id: string, config: MediaConfig, codecs: readonly NegotiatedCodec[]): Promise<{ leg: WebRtcLeg; offerSdp: string }> {
    log.debug('making webrtc offer', { leg: id });
    const leg = new WebRtcLeg(id, config, codecs);
    try {
      leg.pc.addTransceiver('audio', { direction: 'sendrecv' });
      await leg.pc.setLocalDescription(await leg.pc.createOffer());
      return { leg, offerSdp: await leg.localSdp() };
    } catch (error) {
      leg.close();
      throw error;
    }
  }

  /** Applies the callee's answer to an offer made by `offer()`. */
  async acceptAnswer(answerSdp: string): Promise<void> {
    const direction = describeAudio(parseSdp(answerSdp)).direction;
    await this.pc.setRemoteDescription({ type: 'answer', sdp: answerSdp });
    this.negotiatedCache = undefined;
    this.remoteDirectionValue = direction;
    this.syncRelay();
  }

  /**
   * Answers a re-offer from the browser (hold, resume, codec change). werift applies a second remote offer
   * on the same peer connection (JSEP subsequent offer, RFC 8829 §5.3.2) and answers each m= section with
   * its transceiver's direction intersected with the offered one reversed, so sendonly is answered recvonly
   * and inactive inactive, while ICE and DTLS carry on unchanged.
   */
  async renegotiate(offerSdp: string): Promise<string> {
    log.debug('renegotiating webrtc leg', { leg: this.id });
    const direction = describeAudio(parseSdp(offerSdp)).direction;
    await this.pc.setRemoteDescription({ type: 'offer', sdp: withoutForeignEvents(offerSdp, this.codecs) });
    await this.pc.setLocalDescription(await this.pc.createAnswer());
    this.negotiatedCache = undefined;
    this.remoteDirectionValue = direction;
    const codec = this.codec;
    if (codec) {
      this.stream?.setClockRate(codec.clockRate);
      this.reception?.setClockRate(codec.clockRate);
    }
    this.syncRelay();
    return this.localSdp();
  }

  /**
   * Sends a packet from the other leg: sequence number and timestamp continue this leg's stream (the same
   * one its DTMF events use), in the SSRC werift's sender announced. The relay encrypts it once it carries
   * the leg's SRTP; before, werift's sender does and puts in the negotiated payload type.
   */
  sendRtp(frame: RtpFrame): void {
    const sender = this.transceiver?.sender;
    const stream = this.outbound();
    const codec = this.codec;
    if (!sender || !stream || !codec || !this.canSend()) return;
    if (this.socket) {
      this.sendSecure(stream.packetFor(frame, codec.payloadType));
      return;
    }
    const { ssrc, sequenceNumber, timestamp, marker } = stream.relay(frame);
    const header = new RtpHeader({ ssrc, sequenceNumber, timestamp, marker, payloadType: frame.payloadType });
    sender.sendRtp(new RtpPacket(header, rtpPayload(frame))).catch(this.onSendFailed);
  }

  /** One handler for every send (a closure per packet would be garbage fifty times a second per call). */
  private readonly onSendFailed = (error: unknown): void => log.debug('rtp send failed', { leg: this.id, error });

  relaySocket(): RtpSocket | undefined {
    return this.stateValue === 'closed' ? undefined : this.socket;
  }

  close(): void {
    if (this.stateValue === 'closed') return;
    this.closeBase();
    this.reports?.stop();
    this.socket?.close();
    this.socket = undefined;
    this.pc.close().catch((error: unknown) => log.debug('close failed', { leg: this.id, error }));
    this.removeAllListeners();
  }

  /**
   * werift's sender stamps every packet with the audio codec's payload type, so a telephone-event goes out
   * through the SRTP transport directly, in the sender's SSRC, with a sequence number from the same stream.
   */
  private transmitEvent(timestamp: number, marker: boolean, payload: Buffer): void {
    const sender = this.transceiver?.sender;
    const event = this.telephoneEvent;
    const stream = this.outbound();
    if (!sender || !event || !stream || !this.canSend()) return;
    if (this.socket) {
      this.sendSecure(rtpBytes(stream.inject(timestamp, marker), event.payloadType, payload));
      return;
    }
    const header = new RtpHeader({ ...stream.inject(timestamp, marker), ssrc: sender.ssrc, payloadType: event.payloadType });
    sender.dtlsTransport.sendRtp(payload, header).catch((error: unknown) => log.debug('dtmf send failed', { leg: this.id, error }));
  }

  /** What was negotiated, read per packet, so kept until the next negotiation. */
  private negotiated(): Negotiated | undefined {
    if (this.negotiatedCache) return this.negotiatedCache;
    const transceiver = this.transceiver;
    if (!transceiver?.sender.codec) return undefined;
    const all = [transceiver.sender.codec, ...transceiver.codecs];
    const codecs = all.map((c) => ({ mimeType: c.mimeType, clockRate: c.clockRate, channels: c.channels, payloadType: c.payloadType, parameters: c.parameters }));
    const audio = codecs.find((c) => !isTelephoneEvent(c));
    this.negotiatedCache = {
      audio,
      telephoneEvent: audio && codecs.find((c) => isTelephoneEvent(c) && c.clockRate === audio.clockRate),
      eventClocks: new Map(codecs.filter(isTelephoneEvent).map((c) => [c.payloadType, c.clockRate])),
    };
    return this.negotiatedCache;
  }

  private outbound(): OutboundStream | undefined {
    const codec = this.codec;
    const sender = this.transceiver?.sender;
    if (!codec || !sender) return undefined;
    this.stream ??= new OutboundStream(codec.clockRate, undefined, this.relayState.subarray(Slot.stream, Slot.stream + STREAM_SLOTS), sender.ssrc);
    return this.stream;
  }

  /**
   * Hands the leg's SRTP to the native relay, once DTLS has keyed it: the relay reads werift's ICE socket
   * from now on (rtp-socket.ts adoptRtpSocket), carrying on each stream from where werift's SRTP (or, after
   * an ICE restart moved the call to another socket, the previous socket) left it. Nothing changes where the
   * relay is not built or turned off, where the profile is not one it protects, or where werift's socket
   * cannot be reached.
   */
  private adopt(from?: SrtpPositions): void {
    if (this.socket || this.config.nativeRelay === false || this.stateValue === 'closed') return;
    const transport = this.transceiver?.sender.dtlsTransport;
    const dtls = transport?.dtls;
    const profile = dtls?.srtp.srtpProfile;
    const udp = udpTransportOf(transport?.iceTransport.connection.nominated);
    if (!transport || !dtls || profile === undefined || !RELAY_SRTP_PROFILES.includes(profile) || !udp) return;
    try {
      const keys = dtls.extractSessionKeys(keyLength(profile)!, saltLength(profile)!);
      const positions = from ?? { inbound: positionsOf(transport.srtp.remoteContext.srtpSSRCStates), outbound: positionsOf(transport.srtp.localContext.srtpSSRCStates) };
      const socket = adoptRtpSocket(udp.socket, this.relayState, { profile, ...keys }, positions);
      if (!socket) return;
      socket.listen(
        (message, address, port, decrypted) => this.fromSocket(message, address, port, decrypted),
        (error) => {
          log.warn('webrtc media socket failed', { leg: this.id, error });
          this.setState('failed');
        },
      );
      this.socket = socket;
      this.iceSocket = udp.socket;
      if (!this.reception) this.startReports(transport);
      log.debug('webrtc media in the native relay', { leg: this.id, profile });
    } catch (error) {
      log.warn('webrtc media stays with werift', { leg: this.id, error });
    }
  }

  /** From adoption on, the leg reports on what the relay carries; werift's receiver would report only what it saw before. */
  private startReports(transport: RTCDtlsTransport): void {
    this.reception = new ReceptionStats(this.codec?.clockRate ?? 8000);
    const receiver = this.transceiver?.receiver as unknown as { rtcpRunning: boolean; rtcpCancel?: AbortController } | undefined;
    if (receiver) {
      receiver.rtcpRunning = false;
      receiver.rtcpCancel?.abort();
    }
    transport.onRtcp.subscribe((packet) => {
      if (packet instanceof RtcpSrPacket && packet.ssrc === this.reception?.ssrc) {
        // The middle 32 bits of the NTP timestamp, which a report block's LSR echoes (RFC 3550 §6.4.1).
        this.reception.noteSenderReport(Number((packet.senderInfo.ntpTimestamp >> 16n) & 0xffff_ffffn), performance.now());
      }
    });
    this.reports = scheduleReports(this.config.rtcpIntervalMs ?? DEFAULT_RTCP_INTERVAL_MS, () => this.sendReport());
  }

  /**
   * werift carries the media again (the relay could not adopt the socket an ICE restart moved to): its SRTP
   * carries on each stream from where the relay left it, and the leg's own reports stop with the relay's.
   */
  private handBack(positions: SrtpPositions): void {
    const srtp = this.transceiver?.sender.dtlsTransport.srtp;
    if (srtp) {
      seedWerift(srtp.remoteContext.srtpSSRCStates, positions.inbound);
      seedWerift(srtp.localContext.srtpSSRCStates, positions.outbound);
    }
    this.reports?.stop();
    this.reports = undefined;
    log.warn('webrtc media back with werift after an ICE restart', { leg: this.id });
  }

  /** A datagram from the relay: SRTP it decrypted and did not relay, or anything else, which is werift's. */
  private fromSocket(message: Buffer, address: string, port: number, decrypted: boolean): void {
    if (decrypted) {
      const frame = readRtp(message);
      if (!frame) return;
      if (this.reception) {
        takeRelayed(this.relayState, this.reception);
        this.reception.update(frame.ssrc, frame.sequenceNumber, frame.timestamp, performance.now());
      }
      this.receiveFrame(frame);
      return;
    }
    this.iceSocket?.emit('message', message, { address, family: address.includes(':') ? 'IPv6' : 'IPv4', port, size: message.length });
  }

  /** A sender report while we send, else a receiver report, with SDES, as SRTCP through werift (RFC 3550 §6.4). */
  private sendReport(): void {
    const transport = this.transceiver?.sender.dtlsTransport;
    const stream = this.outbound();
    const reception = this.reception;
    if (!transport || !stream || !reception || this.stateValue !== 'connected') return;
    const sender = senderInfo(this.relayState, stream);
    takeRelayed(this.relayState, reception);
    const packet = writeReport(stream.ssrc, this.pc.cname, sender, reception.report(performance.now()));
    transport.iceTransport.connection.send(transport.srtcp.encrypt(packet)).catch((error: unknown) => log.debug('rtcp send failed', { leg: this.id, error }));
  }

  private sendSecure(packet: Buffer): void {
    const socket = this.socket;
    const remote = this.remote;
    // A packet the relay would not protect (an index already sent) never went out, and does not count.
    if (socket && remote && socket.send(packet, remote)) countSent(this.relayState, packet);
  }

  /**
   * Tells the native relay what it may relay for this leg, as for a plain RTP leg (rtp-leg.ts syncRelay):
   * the browser's authenticated audio goes straight to the one bridged leg with a relay socket,
   * while neither side holds the call and both are connected. Called whenever any of that changes.
   */
  protected syncRelay(): void {
    const socket = this.socket;
    if (!socket || this.stateValue === 'closed') return;
    const pair = this.transceiver?.sender.dtlsTransport.iceTransport.connection.nominated;
    const udp = udpTransportOf(pair);
    if (udp && udp.socket !== this.iceSocket) {
      // An ICE restart selected a pair on another socket: the relay moves there, its streams carried on.
      this.socket = undefined;
      const positions = socket.positions();
      socket.close();
      this.adopt(positions);
      if (!this.socket) this.handBack(positions);
      this.syncRelay();
      // The bridged leg relayed into the old socket: told again, it relays into the new one.
      for (const peer of this.peers) peer.bridged(this, true);
      return;
    }
    if (pair) this.remote = { address: pair.remoteAddr[0], port: pair.remoteAddr[1], literal: true };
    const peer = onlyPeer(this.peers)?.relaySocket();
    const codec = this.codec;
    const receives = peer !== undefined && codec !== undefined && this.stateValue === 'connected' && !holds(this.remoteDirectionValue);
    const sends = this.outbound() !== undefined && this.canSend();
    socket.relay(peer, receives, sends, codec?.payloadType ?? 0, codec ? [codec.payloadType] : [], this.remote, this.remote);
  }

  private attach(transceiver: RTCRtpTransceiver): void {
    if (transceiver.kind !== 'audio' || this.transceiver) return;
    this.transceiver = transceiver;
    transceiver.onTrack.subscribe((track) => {
      track.onReceiveRtp.subscribe((packet) => this.receive(packet));
    });
  }

  private receive(packet: RtpPacket): void {
    this.receiveFrame(rtpFrame(packet.header, packet.payload));
  }

  private receiveFrame(frame: RtpFrame): void {
    this.received++;
    // Any negotiated telephone-event, whatever its clock, is a key press and never audio for the other leg:
    // Chrome sending Opus sends its events at 8000 Hz when telephone-event/8000 was negotiated beside /48000.
    const clockRate = this.negotiated()?.eventClocks.get(frame.payloadType);
    if (clockRate !== undefined) {
      if (this.dtmfReceiver?.clockRate !== clockRate) this.dtmfReceiver = new DtmfReceiver(clockRate);
      for (const dtmf of this.dtmfReceiver.push(frame.timestamp, rtpPayload(frame))) {
        log.debug('dtmf received', { leg: this.id, digit: dtmf.digit });
        this.emit('dtmf', dtmf);
      }
      return;
    }
    this.emit('rtp', frame);
  }

  private async localSdp(): Promise<string> {
    if (this.pc.iceGatheringState !== 'complete') {
      await new Promise<void>((resolve) => {
        const { unSubscribe } = this.pc.iceGatheringStateChange.subscribe((state) => {
          if (state === 'complete') {
            unSubscribe();
            resolve();
          }
        });
      });
    }
    const sdp = this.pc.localDescription?.sdp;
    if (!sdp) throw new Error('no local description');
    return onlyCandidatesAt(sdp, this.config.address);
  }
}

/**
 * The SDP with only the ICE candidates at `address`, the media address the PBX is reached at. werift adds a host
 * candidate for every interface of the machine when the media address is one it does not list (loopback), and a
 * browser that checks an address it cannot reach first connects a few hundred milliseconds later. A wildcard
 * address, or one no candidate has, leaves the SDP as it is.
 */
export function onlyCandidatesAt(sdp: string, address: string): string {
  if (address === '0.0.0.0' || address === '::') return sdp;
  const lines = sdp.split('\r\n');
  const foreign = (line: string) => line.startsWith('a=candidate:') && line.split(' ')[4] !== address;
  const kept = lines.filter((line) => !foreign(line));
  if (!kept.some((line) => line.startsWith('a=candidate:'))) return sdp;
  return kept.join('\r\n');
}
