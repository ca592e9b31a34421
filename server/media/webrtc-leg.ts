/**
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
 */
import { RTCPeerConnection, RTCRtpCodecParameters, RtpHeader, RtpPacket } from 'werift';
import type { RTCRtpTransceiver } from 'werift';
import { createLogger } from '../log';
import { TypedEmitter } from '../util/typed-emitter';
import { DtmfReceiver, DtmfSender, telephoneEventsFor } from './dtmf';
import { rtpFrame, rtpPayload } from './media-leg';
import type { DtmfEvent, LegState, MediaConfig, MediaDirection, MediaLeg, MediaLegEvents, NegotiatedCodec, RtpFrame } from './media-leg';
import { OutboundStream } from './outbound-stream';
import { describeAudio, isTelephoneEvent, parseSdp, remoteReceives, writeSdp } from './sdp';

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

/** The negotiated codecs as the leg reads them for each packet. */
interface Negotiated {
  audio: NegotiatedCodec | undefined;
  /** telephone-event at the audio codec's clock rate, if the far end accepted one. */
  telephoneEvent: NegotiatedCodec | undefined;
  /** Every negotiated telephone-event, whatever its clock: none is audio. */
  eventPayloadTypes: ReadonlySet<number>;
}

export class WebRtcLeg extends TypedEmitter<MediaLegEvents> implements MediaLeg {
  readonly kind = 'webrtc';
  private readonly pc: RTCPeerConnection;
  private transceiver: RTCRtpTransceiver | undefined;
  private stateValue: LegState = 'new';
  private remoteDirectionValue: MediaDirection = 'sendrecv';
  private received = 0;
  private stream: OutboundStream | undefined;
  private negotiatedCache: Negotiated | undefined;
  private dtmfReceiver: DtmfReceiver | undefined;
  private readonly dtmfSender: DtmfSender;

  private constructor(
    readonly id: string,
    config: MediaConfig,
    private readonly codecs: readonly NegotiatedCodec[],
  ) {
    super();
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
      if (state === 'connected') this.setState('connected');
      else if (state === 'failed') this.setState('failed');
      else if (state === 'connecting') this.setState('connecting');
    });
    this.pc.onTransceiverAdded.subscribe((transceiver) => this.attach(transceiver));
    this.dtmfSender = new DtmfSender({
      clockRate: () => this.telephoneEvent?.clockRate,
      startTimestamp: () => this.outbound()?.currentTimestamp() ?? 0,
      transmit: (timestamp, marker, payload) => this.transmitEvent(timestamp, marker, payload),
    });
  }

  get state(): LegState {
    return this.stateValue;
  }

  /** The audio codec this leg sends with, once negotiated. */
  get codec(): NegotiatedCodec | undefined {
    return this.negotiated()?.audio;
  }

  get remoteDirection(): MediaDirection {
    return this.remoteDirectionValue;
  }

  get packetsReceived(): number {
    return this.received;
  }

  /** The negotiated telephone-event at the audio codec's clock rate, if the far end accepted one. */
  private get telephoneEvent(): NegotiatedCodec | undefined {
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
    if (codec) this.stream?.setClockRate(codec.clockRate);
    return this.localSdp();
  }

  /**
   * Sends a packet from the other leg: sequence number and timestamp continue this leg's stream (the same
   * one its DTMF events use), and werift's sender puts in its SSRC and the negotiated payload type.
   */
  sendRtp(frame: RtpFrame): void {
    const sender = this.transceiver?.sender;
    const stream = this.outbound();
    if (!sender || !stream || !this.canSend()) return;
    const { ssrc, sequenceNumber, timestamp, marker } = stream.relay(frame);
    const header = new RtpHeader({ ssrc, sequenceNumber, timestamp, marker, payloadType: frame.payloadType });
    sender.sendRtp(new RtpPacket(header, rtpPayload(frame))).catch(this.onSendFailed);
  }

  /** One handler for every send (a closure per packet would be garbage fifty times a second per call). */
  private readonly onSendFailed = (error: unknown): void => log.debug('rtp send failed', { leg: this.id, error });

  sendDtmf(event: DtmfEvent): void {
    if (!this.telephoneEvent) {
      log.debug('dtmf not sent: telephone-event not negotiated', { leg: this.id });
      return;
    }
    void this.dtmfSender.send(event);
  }

  /** A WebRTC leg relays only through werift and the bridge's events. */
  bridged(): void {}

  close(): void {
    if (this.stateValue === 'closed') return;
    this.setState('closed');
    this.dtmfSender.close();
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
      eventPayloadTypes: new Set(codecs.filter(isTelephoneEvent).map((c) => c.payloadType)),
    };
    return this.negotiatedCache;
  }

  private canSend(): boolean {
    return this.stateValue === 'connected' && remoteReceives(this.remoteDirectionValue);
  }

  private outbound(): OutboundStream | undefined {
    const codec = this.codec;
    if (!codec) return undefined;
    this.stream ??= new OutboundStream(codec.clockRate);
    return this.stream;
  }

  private attach(transceiver: RTCRtpTransceiver): void {
    if (transceiver.kind !== 'audio' || this.transceiver) return;
    this.transceiver = transceiver;
    transceiver.onTrack.subscribe((track) => {
      track.onReceiveRtp.subscribe((packet) => this.receive(packet));
    });
  }

  private receive(packet: RtpPacket): void {
    this.received++;
    const { header, payload } = packet;
    const event = this.telephoneEvent;
    if (event && header.payloadType === event.payloadType) {
      if (this.dtmfReceiver?.clockRate !== event.clockRate) this.dtmfReceiver = new DtmfReceiver(event.clockRate);
      for (const dtmf of this.dtmfReceiver.push(header.timestamp, payload)) {
        log.debug('dtmf received', { leg: this.id, digit: dtmf.digit });
        this.emit('dtmf', dtmf);
      }
      return;
    }
    // Any telephone-event (whatever its clock) is signalling, never audio for the other leg.
    if (this.negotiated()?.eventPayloadTypes.has(header.payloadType)) return;
    this.emit('rtp', rtpFrame(header, payload));
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
    return sdp;
  }

  private setState(state: LegState): void {
    if (this.stateValue === state || this.stateValue === 'closed') return;
    this.stateValue = state;
    this.emit('stateChanged', state);
  }
}
