/**
 * The socket a media leg receives and sends its RTP on. Two kinds, one interface:
 *
 * - The native relay's (native/relay.c, built by `npm install` where a C compiler is found, Linux only):
 *   polled on Node's own event loop, and able to relay the audio of a bridged pair of legs in C, so that a
 *   packet from one desk phone to another costs no call into JavaScript. The leg states, each time
 *   something changes, what its socket may relay (`relay`); everything else comes up as a datagram.
 * - Node's dgram, where the relay was not built or OFFHOOK_NATIVE_RELAY=0 turns it off: every datagram comes
 *   up, and `relay` does nothing.
 *
 * A WebRTC leg's ICE socket, which werift binds, can be handed to the relay too once DTLS has keyed SRTP
 * (`adoptRtpSocket`): the relay then decrypts and encrypts the leg's SRTP (native/srtp.c) and relays its
 * audio the same way.
 *
 * Either way the leg keeps the numbers the relay shares with it in `state` (slots below, the same numbers
 * as in relay.c): its outbound stream, its counters, and the relay's record of what it relayed.
 */
import dgram from 'node:dgram';
import type { Socket } from 'node:dgram';
import { lookup } from 'node:dns';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger } from '../../log';
import { RTP_HEADER } from '../legs/outbound-stream';
import type { OutboundStream } from '../legs/outbound-stream';
import type { ReceptionStats, SenderInfo } from '../legs/rtcp';
import { literalFirstLookup } from '../../util/literal-lookup';

const log = createLogger('media');

/** Slots of a socket's shared state; relay.c's enum names the same numbers. */
export const Slot = {
  received: 0,
  ringCount: 1,
  /** The outbound stream's eight numbers (outbound-stream.ts) start here. */
  stream: 2,
  packetsSent: 10,
  octetsSent: 11,
  sentSinceReport: 12,
  /** The relayed packets, four numbers each: SSRC, sequence number, timestamp, arrival (ms, performance.now()). */
  ring: 16,
} as const;

export interface RtpAddress {
  address: string;
  port: number;
  /** False for a host name from SDP (RFC 4566 §5.7 allows one), which each send resolves. */
  literal: boolean;
}

/** `decrypted`: an SRTP packet the relay decrypted, handed up as the RTP packet it carried (adopted sockets only). */
export type DatagramListener = (message: Buffer, address: string, port: number, decrypted: boolean) => void;

export interface RtpSocket {
  readonly port: number;
  /** Whether `relay` relays for real (the native relay's, with state) or does nothing. */
  readonly relays: boolean;
  readonly state: Float64Array;
  /** Where datagrams the socket does not relay itself go, and its errors. */
  listen(onMessage: DatagramListener, onError: (error: Error) => void): void;
  /**
   * Sends a datagram; false when it surely did not go out (the relay refused it, or the kernel did at once).
   * A send that must look a host name up first reports true.
   */
  send(packet: Buffer, to: RtpAddress): boolean;
  /**
   * What this socket may relay from now on: audio (`audioTypes`) from `source` goes out on `peer`'s socket,
   * when this side `receives` and the peer's side sends. `sends`, `payloadType` and `target` say how this
   * socket's own stream goes out when it is the peer.
   */
  relay(peer: RtpSocket | undefined, receives: boolean, sends: boolean, payloadType: number, audioTypes: Iterable<number>, source: RtpAddress | undefined, target: RtpAddress | undefined): void;
  close(): void;
}

type Handle = object;

interface NativeRelay {
  readonly stateSlots: number;
  readonly layout: Record<keyof typeof Slot, number>;
  open(address: string, port: number, state: Float64Array | null, onMessage: DatagramListener, onError: (error: Error) => void): [Handle, number];
  adopt(fd: number, state: Float64Array, onMessage: DatagramListener, onError: (error: Error) => void): [Handle, number];
  secure(handle: Handle, profile: number, localKey: Buffer, localSalt: Buffer, remoteKey: Buffer, remoteSalt: Buffer): boolean;
  seed(handle: Handle, inbound: boolean, positions: number[]): void;
  positions(handle: Handle, inbound: boolean): number[];
  send(handle: Handle, bytes: Buffer, offset: number, length: number, port: number, address: string): boolean;
  configure(
    handle: Handle,
    peer: Handle | null,
    receives: boolean,
    sends: boolean,
    payloadType: number,
    audioTypes: number[],
    sourceAddress: string,
    sourcePort: number,
    targetAddress: string,
    targetPort: number,
  ): void;
  close(handle: Handle): void;
  setClockOrigin(ms: number): void;
}

const ADDON = join('build', 'Release', 'offhook_relay.node');

/** The built relay, found in the project folder above this module (source or bundle), or why not. */
function loadRelay(): { relay?: NativeRelay; reason?: string } {
  if (process.env.OFFHOOK_NATIVE_RELAY === '0') return { reason: 'turned off by OFFHOOK_NATIVE_RELAY=0' };
  let folder = dirname(fileURLToPath(import.meta.url));
  for (let up = 0; up < 4; up++, folder = dirname(folder)) {
    const file = join(folder, ADDON);
    if (!existsSync(file)) continue;
    try {
      const relay = createRequire(import.meta.url)(file) as NativeRelay;
      const mismatch = (Object.keys(Slot) as Array<keyof typeof Slot>).find((name) => relay.layout?.[name] !== Slot[name]);
      if (mismatch) return { reason: `${file} shares its state in another layout (${mismatch}); rebuild it with npm install` };
      // Both sides measure time on one clock: performance.now()'s, which counts from its own origin. The
      // hrtime reading is set against the middle of two readings of performance.now() around it.
      const before = performance.now();
      const hrtimeMs = Number(process.hrtime.bigint()) / 1e6;
      relay.setClockOrigin(hrtimeMs - (before + performance.now()) / 2);
      return { relay };
    } catch (error) {
      return { reason: `${file} did not load: ${(error as Error).message}` };
    }
  }
  return { reason: `${ADDON} was not built (npm install builds it on Linux with a C compiler)` };
}

let loaded: { relay?: NativeRelay; reason?: string } | undefined;

function nativeRelay(): NativeRelay | undefined {
  loaded ??= loadRelay();
  return loaded.relay;
}

/** Whether RTP legs get the native relay's sockets, and if not, why not (the PBX says so at start). */
export function nativeRelayStatus(): { native: boolean; reason?: string } {
  const relay = nativeRelay();
  return relay ? { native: true } : { native: false, reason: loaded?.reason };
}

export function nativeRelayInUse(): boolean {
  return nativeRelayStatus().native;
}

/**
 * Adds what the native relay relayed since the last time to a leg's reception statistics, in the order it
 * arrived, and empties the relay's record: a leg calls it before each report and before each packet it takes
 * itself, so that the statistics see every packet once and in order. The relay hands a packet up instead of
 * relaying it when its record is full.
 */
export function takeRelayed(state: Float64Array, reception: ReceptionStats): void {
  const count = state[Slot.ringCount] ?? 0;
  if (count === 0) return;
  for (let i = 0, at = Slot.ring; i < count; i++, at += 4) reception.update(state[at]!, state[at + 1]!, state[at + 2]!, state[at + 3]!);
  state[Slot.ringCount] = 0;
}

/** Counts an RTP packet a leg sent itself, as the relay counts those it relays, for RTCP sender reports. */
export function countSent(state: Float64Array, packet: Buffer): void {
  state[Slot.packetsSent]!++;
  state[Slot.octetsSent]! += packet.length - RTP_HEADER;
  state[Slot.sentSinceReport] = 1;
}

/**
 * The sender information of a report (RFC 3550 §6.4.1) on `stream`, from the counters in `state`, when RTP
 * went out since the last report (else the report is a receiver report); the next report counts from here.
 */
export function senderInfo(state: Float64Array, stream: OutboundStream): SenderInfo | undefined {
  const sent = state[Slot.sentSinceReport]
    ? { wallMs: Date.now(), rtpTimestamp: stream.currentTimestamp(), packets: state[Slot.packetsSent]!, octets: state[Slot.octetsSent]! }
    : undefined;
  state[Slot.sentSinceReport] = 0;
  return sent;
}

/** The size of the state a socket shares with the relay: a leg allocates it before it has a relay socket. */
export function relayStateSlots(): number {
  return nativeRelay()?.stateSlots ?? Slot.ring;
}

/**
 * The DTLS-SRTP protection profiles the relay protects (native/srtp.c): SRTP_AES128_CM_HMAC_SHA1_80 and
 * SRTP_AEAD_AES_128_GCM (RFC 5764 §4.1.2, RFC 7714 §14.2), the two werift negotiates.
 */
export const RELAY_SRTP_PROFILES: readonly number[] = [0x0001, 0x0007];

/** The master keys and salts a DTLS handshake exported for SRTP (RFC 5764 §4.2), from our side. */
export interface SrtpKeys {
  profile: number;
  localKey: Buffer;
  localSalt: Buffer;
  remoteKey: Buffer;
  remoteSalt: Buffer;
}

/**
 * Where the SRTP streams of each direction stand, as [SSRC, rollover counter, highest sequence number] per
 * stream: what another keeper of the same association must carry on from (RFC 3711 §3.3.1).
 */
export interface SrtpPositions {
  inbound: number[];
  outbound: number[];
}

/** A WebRTC leg's ICE socket as the relay reads it. */
export interface AdoptedRtpSocket extends RtpSocket {
  /** Where its SRTP streams stand, for a socket that takes over from this one. */
  positions(): SrtpPositions;
  /** Gives the socket back to Node, which reads it again, unless it was closed meanwhile. */
  close(): void;
}

/**
 * Hands the reading of a WebRTC leg's ICE socket (Node's dgram socket, which werift bound) to the native
 * relay, keyed for SRTP: from then on the relay authenticates and decrypts the SRTP that reaches the socket,
 * from any address (authentication, not the address, tells the far end's packets), relays it as `relay`
 * says or hands it up decrypted, and protects what goes out through `send`. Every other
 * datagram (STUN, DTLS, SRTCP) comes up as received, for the leg to give back to werift. Node's socket stops
 * reading and goes on sending for werift. `from` says where the streams stand (werift's SRTP, or a socket
 * this one replaces), so that no rollover counter restarts at 0. Undefined where the relay is not built,
 * the profile is not one it protects, or the socket's descriptor cannot be reached; the leg then stays with
 * werift's media path.
 */
export function adoptRtpSocket(socket: Socket, state: Float64Array, keys: SrtpKeys, from?: SrtpPositions): AdoptedRtpSocket | undefined {
  const relay = nativeRelay();
  const handle = udpHandle(socket);
  if (!relay || !handle || !RELAY_SRTP_PROFILES.includes(keys.profile) || state.length < relay.stateSlots) return undefined;
  const adopted = new AdoptedSocket(relay, state, socket.address().family === 'IPv6' ? 6 : 4, handle);
  const [native, port] = relay.adopt(handle.fd, state, adopted.dispatch, adopted.dispatchError);
  adopted.opened(native, port);
  if (!relay.secure(native, keys.profile, keys.localKey, keys.localSalt, keys.remoteKey, keys.remoteSalt)) {
    relay.close(native);
    return undefined;
  }
  if (from) {
    relay.seed(native, true, from.inbound);
    relay.seed(native, false, from.outbound);
  }
  handle.recvStop();
  return adopted;
}

interface UdpHandle {
  fd: number;
  recvStop(): number;
  recvStart(): number;
}

/**
 * The libuv handle under a dgram socket, for its descriptor: Node keeps it under a private symbol, and only
 * there without a deprecation warning (socket._handle has one). Undefined if this Node keeps it elsewhere.
 */
function udpHandle(socket: Socket): UdpHandle | undefined {
  const key = Object.getOwnPropertySymbols(socket).find((symbol) => symbol.description === 'state symbol');
  const state = key ? (socket as unknown as Record<symbol, { handle?: Partial<UdpHandle> } | undefined>)[key] : undefined;
  const handle = state?.handle;
  return typeof handle?.fd === 'number' && handle.fd >= 0 && typeof handle.recvStop === 'function' && typeof handle.recvStart === 'function'
    ? (handle as UdpHandle)
    : undefined;
}

/**
 * Binds an RTP socket at `address`:`port` (0: any free port); undefined when the port is taken. `use` says
 * which kind: `relay` (the native relay's where it is built), `plain` (the relay's, for a port that never
 * relays, such as RTCP's: no shared state), or `node` (dgram, whatever is built).
 */
export async function openRtpSocket(address: string, port: number, use: 'relay' | 'plain' | 'node' = 'relay'): Promise<RtpSocket | undefined> {
  const relay = use === 'node' ? undefined : nativeRelay();
  if (!relay) return DgramRtpSocket.open(address, port);
  const state = new Float64Array(use === 'relay' ? relay.stateSlots : Slot.ring);
  const socket = new NativeRtpSocket(relay, state, address.includes(':') ? 6 : 4);
  try {
    const [handle, bound] = relay.open(address, port, use === 'relay' ? state : null, socket.dispatch, socket.dispatchError);
    socket.opened(handle, bound);
    return socket;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EACCES') return undefined;
    throw error;
  }
}

class NativeRtpSocket implements RtpSocket {
  port = 0;
  protected handle: Handle | undefined;
  private onMessage: DatagramListener = () => {};
  private onError: (error: Error) => void = () => {};

  constructor(
    protected readonly native: NativeRelay,
    readonly state: Float64Array,
    private readonly family: 4 | 6,
  ) {}

  readonly dispatch: DatagramListener = (message, address, port, decrypted) => this.onMessage(message, address, port, decrypted);
  readonly dispatchError = (error: Error): void => this.onError(error);

  get relays(): boolean {
    return this.state.length > Slot.ring;
  }

  opened(handle: Handle, port: number): void {
    this.handle = handle;
    this.port = port;
  }

  /** Errors are those of the socket, which then hears nothing more; a failed send is dropped, as UDP would drop it. */
  listen(onMessage: DatagramListener, onError: (error: Error) => void): void {
    this.onMessage = onMessage;
    this.onError = onError;
  }

  send(packet: Buffer, to: RtpAddress): boolean {
    const handle = this.handle;
    if (!handle) return false;
    if (to.literal) return this.native.send(handle, packet, 0, packet.length, to.port, to.address);
    lookup(to.address, { family: this.family }, (error, address) => {
      if (error) log.debug('rtp send failed', { error });
      else if (this.handle) this.native.send(this.handle, packet, 0, packet.length, to.port, address);
    });
    return true;
  }

  relay(peer: RtpSocket | undefined, receives: boolean, sends: boolean, payloadType: number, audioTypes: Iterable<number>, source: RtpAddress | undefined, target: RtpAddress | undefined): void {
    if (!this.handle) return;
    const types = [0, 0, 0, 0];
    for (const type of audioTypes) types[type >> 5]! |= 1 << (type & 31);
    const peerHandle = peer instanceof NativeRtpSocket ? (peer.handle ?? null) : null;
    const literalSource = source?.literal ? source : undefined;
    const literalTarget = target?.literal ? target : undefined;
    this.native.configure(
      this.handle,
      peerHandle,
      receives,
      sends,
      payloadType,
      types.map((word) => word >>> 0),
      literalSource?.address ?? '',
      literalSource?.port ?? 0,
      literalTarget?.address ?? '',
      literalTarget?.port ?? 0,
    );
  }

  close(): void {
    if (!this.handle) return;
    this.native.close(this.handle);
    this.handle = undefined;
  }
}

class AdoptedSocket extends NativeRtpSocket implements AdoptedRtpSocket {
  constructor(
    native: NativeRelay,
    state: Float64Array,
    family: 4 | 6,
    private readonly node: UdpHandle,
  ) {
    super(native, state, family);
  }

  positions(): SrtpPositions {
    const handle = this.handle;
    return handle ? { inbound: this.native.positions(handle, true), outbound: this.native.positions(handle, false) } : { inbound: [], outbound: [] };
  }

  override close(): void {
    const open = this.handle !== undefined;
    super.close();
    if (!open) return;
    try {
      // A handle Node has closed has no descriptor left (fd < 0): nothing to read again.
      if (this.node.fd >= 0) this.node.recvStart();
    } catch (error) {
      log.debug('the ICE socket did not resume reading', { error });
    }
  }
}

class DgramRtpSocket implements RtpSocket {
  readonly relays = false;
  readonly state = new Float64Array(Slot.ring);

  private constructor(
    private readonly socket: Socket,
    readonly port: number,
  ) {}

  static async open(address: string, port: number): Promise<DgramRtpSocket | undefined> {
    const socket = dgram.createSocket({ type: address.includes(':') ? 'udp6' : 'udp4', lookup: literalFirstLookup });
    const bound = await new Promise<number | undefined>((resolve) => {
      const onError = () => resolve(undefined);
      socket.once('error', onError);
      socket.bind(port, address, () => {
        socket.off('error', onError);
        resolve(socket.address().port);
      });
    });
    if (bound !== undefined) return new DgramRtpSocket(socket, bound);
    closeQuietly(socket);
    return undefined;
  }

  listen(onMessage: DatagramListener, onError: (error: Error) => void): void {
    this.socket.on('message', (message, from) => onMessage(message, from.address, from.port, false));
    this.socket.on('error', onError);
  }

  /**
   * Without a callback node sends at once (uv_udp_try_send), and a failed send is dropped as UDP would drop
   * it. A host name keeps the callback, which is where a failed lookup is reported.
   */
  send(packet: Buffer, to: RtpAddress): boolean {
    if (to.literal) this.socket.send(packet, to.port, to.address);
    else this.socket.send(packet, to.port, to.address, this.onSent);
    return true;
  }

  relay(): void {}

  close(): void {
    closeQuietly(this.socket);
  }

  /** One callback for every send to a host name (a closure per packet would be garbage fifty times a second per call). */
  private readonly onSent = (error: Error | null): void => {
    if (error) log.debug('rtp send failed', { error });
  };
}

function closeQuietly(socket: Socket): void {
  try {
    socket.close();
  } catch {
    // a socket whose bind failed is not running; nothing to release
  }
}
