/**
 * A desk phone's audio for the soak: one RTP socket on the phone's own address, sending 20 ms of G.711
 * µ-law (payload type 0, 50 packets a second) to the far end while a call is up, and counting the PCMU
 * packets it hears back. RTCP and stray packets from an earlier call are not counted.
 */
import { createSocket } from 'node:dgram';
import type { Socket } from 'node:dgram';
import type { SocketRegistry } from './soak-wire';

const PACKET_MS = 20;
const SAMPLES_PER_PACKET = 160;
const RTP_HEADER_BYTES = 12;
const PCMU = 0;

export interface MediaCount {
  sent: number;
  heard: number;
}

export class RtpMedia {
  private timer: NodeJS.Timeout | undefined;
  private target: { address: string; port: number } | undefined;
  private seq = Math.floor(Math.random() * 0xffff);
  private readonly ssrc = Math.floor(Math.random() * 0xffffffff);
  private count: MediaCount = { sent: 0, heard: 0 };
  private readonly packet = Buffer.alloc(RTP_HEADER_BYTES + SAMPLES_PER_PACKET, 0xff);

  private constructor(
    private readonly socket: Socket,
    readonly address: string,
  ) {
    socket.on('message', (data) => {
      // RTP version 2 with payload type 0; RTCP (types 200-204 in the second byte) is not audio.
      if (this.timer && data.length > RTP_HEADER_BYTES && data[0]! >> 6 === 2 && (data[1]! & 0x7f) === PCMU) this.count.heard++;
    });
    socket.on('error', () => undefined);
    this.packet[0] = 0x80;
    this.packet[1] = PCMU;
    this.packet.writeUInt32BE(this.ssrc, 8);
  }

  static async open(registry: SocketRegistry, address: string): Promise<RtpMedia> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, address, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    return registry.add(new RtpMedia(socket, address));
  }

  get port(): number {
    return this.socket.address().port;
  }

  /** Starts sending to `to` (where the PBX's SDP says), counting afresh. */
  start(to: { address: string; port: number }): void {
    this.stop();
    this.target = to;
    this.count = { sent: 0, heard: 0 };
    this.timer = setInterval(() => this.sendOne(), PACKET_MS);
  }

  /** Stops sending and returns what this call sent and heard. */
  stop(): MediaCount {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    return { ...this.count };
  }

  close(): void {
    this.stop();
    try {
      this.socket.close();
    } catch {
      // already closed
    }
  }

  private sendOne(): void {
    const to = this.target;
    // Loopback only: the soak sends nothing off this machine, whatever an SDP says.
    if (!to || to.port === 0 || !to.address.startsWith('127.')) return;
    this.seq = (this.seq + 1) & 0xffff;
    this.packet.writeUInt16BE(this.seq, 2);
    this.packet.writeUInt32BE((this.seq * SAMPLES_PER_PACKET) >>> 0, 4);
    this.socket.send(this.packet, to.port, to.address);
    this.count.sent++;
  }
}

/** A G.711 offer or answer for a phone's RTP socket. */
export function deskSdp(address: string, port: number): string {
  return ['v=0', `o=soak ${Date.now()} 1 IN IP4 ${address}`, 's=-', `c=IN IP4 ${address}`, 't=0 0', `m=audio ${port} RTP/AVP 0 101`, 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-15', 'a=ptime:20', 'a=sendrecv', ''].join('\r\n');
}
