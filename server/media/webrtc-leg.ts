/**
 * One WebRTC media leg anchored at the PBX: ICE (lite), DTLS-SRTP and RTP for a single audio stream.
 *
 * Each call is two or more legs joined by a bridge (`bridge.ts`); a leg never outlives its call, and closing
 * it releases its sockets. The PBX is ICE-lite (RFC 8445 §2.5): it has a reachable address, answers the
 * browser's connectivity checks and sends none of its own, so a leg is ready to describe itself at once
 * instead of waiting on address gathering.
 */
import { RTCPeerConnection, RTCRtpCodecParameters } from 'werift';
import type { RTCRtpTransceiver, RtpPacket } from 'werift';
import { createLogger } from '../log';
import { TypedEmitter } from '../util/typed-emitter';

const log = createLogger('media');

export interface MediaConfig {
  /** Local address the legs' sockets bind to and announce, e.g. 127.0.0.1 or the host's LAN address. */
  address: string;
  /** UDP port range for media sockets; any free port when left out. */
  portRange?: [number, number];
}

/** A codec as negotiated on a leg; the other leg of a bridge is offered the same one so RTP is relayed untouched. */
export interface NegotiatedCodec {
  mimeType: string;
  clockRate: number;
  channels?: number;
  payloadType: number;
  parameters?: string;
}

export const SUPPORTED_AUDIO_CODECS: readonly NegotiatedCodec[] = [
  { mimeType: 'audio/opus', clockRate: 48000, channels: 2, payloadType: 111, parameters: 'minptime=10;useinbandfec=1' },
  { mimeType: 'audio/PCMU', clockRate: 8000, channels: 1, payloadType: 0 },
  { mimeType: 'audio/PCMA', clockRate: 8000, channels: 1, payloadType: 8 },
];

export type LegState = 'new' | 'connecting' | 'connected' | 'failed' | 'closed';

interface LegEvents {
  stateChanged: [LegState];
  rtp: [RtpPacket];
}

export class WebRtcLeg extends TypedEmitter<LegEvents> {
  private readonly pc: RTCPeerConnection;
  private transceiver: RTCRtpTransceiver | undefined;
  private stateValue: LegState = 'new';

  private constructor(
    readonly id: string,
    config: MediaConfig,
    codecs: readonly NegotiatedCodec[],
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
      codecs: { audio: codecs.map((codec) => new RTCRtpCodecParameters({ ...codec, rtcpFeedback: [] })) },
      headerExtensions: { audio: [] },
    });
    this.pc.connectionStateChange.subscribe((state) => {
      if (state === 'connected') this.setState('connected');
      else if (state === 'failed') this.setState('failed');
      else if (state === 'connecting') this.setState('connecting');
    });
    this.pc.onTransceiverAdded.subscribe((transceiver) => this.attach(transceiver));
  }

  get state(): LegState {
    return this.stateValue;
  }

  /** The codec this leg sends with, once negotiated. */
  get codec(): NegotiatedCodec | undefined {
    const codec = this.transceiver?.sender.codec;
    if (!codec) return undefined;
    return {
      mimeType: codec.mimeType,
      clockRate: codec.clockRate,
      channels: codec.channels,
      payloadType: codec.payloadType,
      parameters: codec.parameters,
    };
  }

  /** Answers a remote offer (the caller's INVITE). */
  static async answer(id: string, offerSdp: string, config: MediaConfig): Promise<{ leg: WebRtcLeg; answerSdp: string }> {
    const leg = new WebRtcLeg(id, config, SUPPORTED_AUDIO_CODECS);
    try {
      await leg.pc.setRemoteDescription({ type: 'offer', sdp: offerSdp });
      const transceiver = leg.pc.getTransceivers().find((t) => t.kind === 'audio');
      if (!transceiver) throw new Error('the offer has no audio stream');
      transceiver.setDirection('sendrecv');
      await leg.pc.setLocalDescription(await leg.pc.createAnswer());
      const answerSdp = await leg.localSdp();
      if (!leg.codec) throw new Error('no common audio codec');
      return { leg, answerSdp };
    } catch (error) {
      leg.close();
      throw error;
    }
  }

  /** Creates an offer for a callee, restricted to the codecs given (those of the other leg). */
  static async offer(id: string, config: MediaConfig, codecs: readonly NegotiatedCodec[]): Promise<{ leg: WebRtcLeg; offerSdp: string }> {
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
    await this.pc.setRemoteDescription({ type: 'answer', sdp: answerSdp });
  }

  /** Sends a packet from the other leg; the sender rewrites SSRC, sequence and payload type for this leg. */
  sendRtp(packet: RtpPacket): void {
    const sender = this.transceiver?.sender;
    if (!sender || this.stateValue !== 'connected') return;
    sender.sendRtp(packet).catch((error: unknown) => log.debug('rtp send failed', { leg: this.id, error }));
  }

  close(): void {
    if (this.stateValue === 'closed') return;
    this.setState('closed');
    this.pc.close().catch((error: unknown) => log.debug('close failed', { leg: this.id, error }));
    this.removeAllListeners();
  }

  private attach(transceiver: RTCRtpTransceiver): void {
    if (transceiver.kind !== 'audio' || this.transceiver) return;
    this.transceiver = transceiver;
    transceiver.onTrack.subscribe((track) => {
      track.onReceiveRtp.subscribe((packet) => this.emit('rtp', packet));
    });
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
