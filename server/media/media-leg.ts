/**
 * What the call engine needs of one media leg, whatever carries it: a WebRTC leg (ICE-lite, DTLS-SRTP,
 * `webrtc-leg.ts`) for browsers and the app, or a plain RTP leg (`rtp-leg.ts`) for desk phones and other
 * SIP devices. Bridges and the call engine speak only this interface.
 */
import type { RtpPacket } from 'werift';

export type LegKind = 'webrtc' | 'rtp';

export interface MediaConfig {
  /** Local address the legs' sockets bind to and announce, e.g. 127.0.0.1 or the host's LAN address. */
  address: string;
  /** UDP port range for media sockets; any free port when left out. */
  portRange?: [number, number];
}
export type LegState = 'new' | 'connecting' | 'connected' | 'failed' | 'closed';
/** SDP direction attribute (RFC 3264 §5.1); used for hold (RFC 3264 §8.4). */
export type MediaDirection = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

/** A codec as negotiated on a leg. */
export interface NegotiatedCodec {
  mimeType: string;
  clockRate: number;
  channels?: number;
  payloadType: number;
  parameters?: string;
}

/** One RFC 4733 telephone-event, reported once per key press (at its end). */
export interface DtmfEvent {
  digit: string;
  durationMs: number;
}

export interface MediaLegEvents {
  stateChanged: [LegState];
  rtp: [RtpPacket];
  dtmf: [DtmfEvent];
}

export interface MediaLeg {
  readonly id: string;
  readonly kind: LegKind;
  readonly state: LegState;
  /** The audio codec this leg sends with, once negotiated. */
  readonly codec: NegotiatedCodec | undefined;
  /** The direction the remote side last asked for (sendonly/inactive mean it put us on hold). */
  readonly remoteDirection: MediaDirection;
  /** Packets received from the remote side so far (RTP, telephone-events and, where the leg reads it, RTCP). */
  readonly packetsReceived: number;
  on<K extends keyof MediaLegEvents>(event: K, listener: (...args: MediaLegEvents[K]) => void): () => void;
  /** Applies the answer to an offer this leg made. */
  acceptAnswer(answerSdp: string): Promise<void>;
  /** Applies a new offer from the remote side (re-INVITE or UPDATE) and returns our answer. */
  renegotiate(offerSdp: string): Promise<string>;
  /** Sends a packet received on another leg; the leg rewrites SSRC, sequence and payload type. */
  sendRtp(packet: RtpPacket): void;
  /** Sends a key press as RFC 4733 events (or nothing if the far end did not negotiate telephone-event). */
  sendDtmf(event: DtmfEvent): void;
  close(): void;
}
