/**
 * A bare UDP socket on loopback that sends SIP text and collects whatever datagrams come back, in order:
 * the peer a test plays when it writes the wire text itself (hostile Vias, RFC 2543 devices, garbage).
 */
import { createSocket } from 'node:dgram';
import type { Socket } from 'node:dgram';
import { readResponse } from './sip-text';
import type { ResponseText } from './sip-text';

export class UdpPeer {
  private readonly inbox: string[] = [];
  private readonly waiting: Array<(text: string) => void> = [];

  private constructor(readonly socket: Socket) {
    socket.on('message', (data) => {
      const text = data.toString('utf8');
      const next = this.waiting.shift();
      if (next) next(text);
      else this.inbox.push(text);
    });
  }

  /** Bound to `address` (127.0.0.1 unless said), on `port` (a free one unless said). */
  static async open(address = '127.0.0.1', port = 0): Promise<UdpPeer> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(port, address, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    return new UdpPeer(socket);
  }

  get port(): number {
    return this.socket.address().port;
  }

  send(text: string | Buffer, port: number, address = '127.0.0.1'): void {
    this.socket.send(typeof text === 'string' ? Buffer.from(text) : text, port, address);
  }

  async nextText(timeoutMs = 2_000): Promise<string> {
    const queued = this.inbox.shift();
    if (queued !== undefined) return queued;
    return new Promise((resolve, reject) => {
      const waiter = (text: string) => {
        clearTimeout(timer);
        resolve(text);
      };
      const timer = setTimeout(() => {
        this.waiting.splice(this.waiting.indexOf(waiter), 1);
        reject(new Error(`no datagram arrived at port ${this.port} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.push(waiter);
    });
  }

  async next(timeoutMs?: number): Promise<ResponseText> {
    return readResponse(await this.nextText(timeoutMs));
  }

  /** Datagrams that arrived and were not read yet. */
  get unread(): number {
    return this.inbox.length;
  }

  close(): void {
    this.socket.close();
  }
}
