/**
 * What the call engine needs of one media leg, whatever carries it: a WebRTC leg (ICE-lite, DTLS-SRTP,
 * `webrtc-leg.ts`) for browsers and the app, or a plain RTP leg (`rtp-leg.ts`) for desk phones and other
 * SIP devices. Bridges and the call engine speak only this interface.
 */
import type { RtpSocket } from '../native/rtp-socket';

export type LegKind = 'webrtc' | 'rtp';

export interface MediaConfig {
  /** Local address the legs' sockets bind to and announce, e.g. 127.0.0.1 or the host's LAN address. */
  address: string;
  /** UDP port range for media sockets; any free port when left out. */
  portRange?: [number, number];
  /**
   * Mean time between the RTCP reports a leg sends (RFC 3550 §6.2: 5 s), each randomized ±50 %: a plain RTP
   * leg's, and a WebRTC leg's while the native relay carries its SRTP.
   */
  rtcpIntervalMs?: number;
  /**
   * False: plain RTP legs use Node's sockets and WebRTC legs werift's SRTP, even where the native relay was
   * built (rtp-socket.ts). The relay is used by default; OFFHOOK_NATIVE_RELAY=0 turns it off for the whole
   * process.
   */
  nativeRelay?: boolean;
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

/**
 * One received RTP packet (RFC 3550 §5.1) as a leg hands it to a bridge: the fixed header's fields, read
 * once, and the payload as the range [payloadStart, payloadEnd) of `bytes`. A plain RTP leg passes the
 * datagram it received as `bytes`, so the leg that sends the packet on can write its own header into the
 * bytes just before the payload and send them without a copy; the payload is never written.
 */
export interface RtpFrame {
  readonly marker: boolean;
  readonly payloadType: number;
  readonly sequenceNumber: number;
  readonly timestamp: number;
  readonly ssrc: number;
  readonly bytes: Buffer;
  readonly payloadStart: number;
  readonly payloadEnd: number;
}

/** A frame whose bytes are its payload alone, such as one werift has decrypted. */
export function rtpFrame(header: { marker: boolean; payloadType: number; sequenceNumber: number; timestamp: number; ssrc: number }, payload: Buffer): RtpFrame {
  const { marker, payloadType, sequenceNumber, timestamp, ssrc } = header;
  return { marker, payloadType, sequenceNumber, timestamp, ssrc, bytes: payload, payloadStart: 0, payloadEnd: payload.length };
}

/** The one open leg among a leg's bridged peers; undefined when there is none or more than one. */
export function onlyPeer(peers: Iterable<MediaLeg>): MediaLeg | undefined {
  let only: MediaLeg | undefined;
  for (const peer of peers) {
    if (peer.state === 'closed') continue;
    if (only) return undefined;
    only = peer;
  }
  return only;
}

/** The frame's payload, as a view of its bytes. */
export function rtpPayload(frame: RtpFrame): Buffer {
  return frame.payloadStart === 0 && frame.payloadEnd === frame.bytes.length ? frame.bytes : frame.bytes.subarray(frame.payloadStart, frame.payloadEnd);
}

export interface MediaLegEvents {
  stateChanged: [LegState];
  rtp: [RtpFrame];
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
  /**
   * Sends a packet received on another leg; the leg rewrites SSRC, sequence, timestamp and payload type.
   * The leg may write its header into the frame's bytes before the payload, so a frame goes to one leg only.
   */
  sendRtp(frame: RtpFrame): void;
  /**
   * A bridge joined this leg to `peer` (`joined`), or let go of it; the bridge says so again (joined) each
   * time `peer` changes state. A leg relays to its one peer by a faster path than the bridge's events where
   * both have a native relay socket (`relaySocket`).
   */
  bridged(peer: MediaLeg, joined: boolean): void;
  /**
   * The native relay socket (rtp-socket.ts) that audio for this leg can be relayed into, if it has one now:
   * a plain RTP leg's, or a WebRTC leg's ICE socket once its SRTP is keyed.
   */
  relaySocket(): RtpSocket | undefined;
  /** Sends a key press as RFC 4733 events (or nothing if the far end did not negotiate telephone-event). */
  sendDtmf(event: DtmfEvent): void;
  close(): void;
}
