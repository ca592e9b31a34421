/**
 * SIP over real UDP sockets on 127.0.0.1: hand-written requests in, the wire text out. The endpoint is the
 * PBX's own; the application behind it is a small stand-in that answers as the test needs.
 */
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:dgram';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readResponse, sipRequest } from '../../../tests/support/sip-text';
import type { ResponseText } from '../../../tests/support/sip-text';
import { SipEndpoint } from '../endpoint';
import type { TransactionLimits } from '../endpoint';
import { SipHeaders } from '../syntax/message';
import type { SipRequest } from '../syntax/message';
import type { ServerTransaction } from '../transaction/transactions';
import { FakeConnection } from '../test-support';
import { responseDestination, UDP_BUFFER_BYTES, UdpTransport } from './udp-transport';

class UdpPeer {
  private readonly inbox: Array<{ text: string; data: Buffer }> = [];
  private readonly waiting: Array<(m: { text: string; data: Buffer }) => void> = [];

  private constructor(readonly socket: Socket) {
    socket.on('message', (data) => {
      const message = { text: data.toString('utf8'), data };
      const next = this.waiting.shift();
      if (next) next(message);
      else this.inbox.push(message);
    });
  }

  static async open(): Promise<UdpPeer> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
    return new UdpPeer(socket);
  }

  get port(): number {
    return this.socket.address().port;
  }

  send(text: string | Buffer, port: number): void {
    this.socket.send(typeof text === 'string' ? Buffer.from(text) : text, port, '127.0.0.1');
  }

  async nextRaw(timeoutMs = 2_000): Promise<{ text: string; data: Buffer }> {
    const queued = this.inbox.shift();
    if (queued) return queued;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no datagram arrived')), timeoutMs);
      this.waiting.push((m) => {
        clearTimeout(timer);
        resolve(m);
      });
    });
  }

  async next(timeoutMs?: number): Promise<ResponseText> {
    return readResponse((await this.nextRaw(timeoutMs)).text);
  }

  /** Resolves with nothing if no datagram comes within `ms`. */
  async silence(ms: number): Promise<boolean> {
    if (this.inbox.length > 0) return false;
    return new Promise((resolve) => setTimeout(() => resolve(this.inbox.length === 0), ms));
  }

  close(): void {
    this.socket.close();
  }
}

describe('SIP over UDP', () => {
  let endpoint: SipEndpoint;
  let transport: UdpTransport;
  let peer: UdpPeer;
  let seen: ServerTransaction[];

  async function start(limits?: Partial<TransactionLimits>, trusted?: string[]): Promise<void> {
    endpoint = new SipEndpoint({ viaHost: '127.0.0.1', userAgent: 'test', limits, sources: { isTrusted: (source) => trusted?.includes(source) ?? false, isBanned: () => false, mayAnswer: () => true } });
    seen = [];
    endpoint.setApplication({
      onRequest: (tx) => {
        seen.push(tx);
        if (tx.request.method === 'OPTIONS') tx.reply(200, 'OK');
        // INVITEs ring and stay pending, so retransmissions and limits can be watched.
        if (tx.request.method === 'INVITE') tx.reply(180, 'Ringing', { toTag: 'pbx' });
      },
      onAck: () => undefined,
    });
    transport = await UdpTransport.listen({ host: '127.0.0.1', port: 0, endpoint });
    endpoint.setListeningPort('UDP', transport.port);
  }

  beforeEach(async () => {
    peer = await UdpPeer.open();
  });

  afterEach(async () => {
    peer.close();
    await transport?.close();
  });

  it('answers OPTIONS, filling in received and rport, to the port the request came from', async () => {
    await start();
    peer.send(sipRequest({ method: 'OPTIONS', via: '192.0.2.1:5099', viaParams: ';rport' }), transport.port);
    const response = await peer.next();
    expect(response.status).toBe(200);
    expect(response.header('Via')).toMatch(new RegExp(`^SIP/2\\.0/UDP 192\\.0\\.2\\.1:5099;branch=z9hG4bK[^;]+;rport=${peer.port};received=127\\.0\\.0\\.1$`));
  });

  it('adds received when the sent-by host differs, and without rport answers the sent-by port (RFC 3261 §18.2.2)', async () => {
    await start();
    const listener = await UdpPeer.open();
    try {
      peer.send(sipRequest({ method: 'OPTIONS', via: `localhost:${listener.port}` }), transport.port);
      const response = await listener.next();
      expect(response.status).toBe(200);
      expect(response.header('Via')).toMatch(new RegExp(`^SIP/2\\.0/UDP localhost:${listener.port};branch=[^;]+;received=127\\.0\\.0\\.1$`));
      expect(await peer.silence(100)).toBe(true);
    } finally {
      listener.close();
    }
  });

  it('asks for receive buffers large enough to ride out a pause of a few hundred milliseconds', async () => {
    await start();
    // The system grants at most net.core.rmem_max; Linux reports twice what it grants.
    const max = Number(readFileSync('/proc/sys/net/core/rmem_max', 'utf8').trim());
    expect(transport.receiveBufferBytes).toBeGreaterThanOrEqual(Math.min(UDP_BUFFER_BYTES, max));
  });

  it('leaves the Via alone when it already names the source address', async () => {
    await start();
    peer.send(sipRequest({ method: 'OPTIONS', via: `127.0.0.1:${peer.port}`, branch: 'z9hG4bK-plain' }), transport.port);
    expect((await peer.next()).header('Via')).toBe(`SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bK-plain`);
  });

  it('absorbs a retransmitted INVITE: the application sees it once, the peer gets the last response again', async () => {
    await start();
    const invite = sipRequest({ method: 'INVITE', via: `127.0.0.1:${peer.port}`, viaParams: ';rport', branch: 'z9hG4bK-inv-1' });
    peer.send(invite, transport.port);
    expect((await peer.next()).status).toBe(180);
    peer.send(invite, transport.port);
    expect((await peer.next()).status).toBe(180);
    expect(seen).toHaveLength(1);
  });

  it('resends a failure response over UDP on Timer G until the ACK comes', async () => {
    await start();
    const invite = sipRequest({ method: 'INVITE', via: `127.0.0.1:${peer.port}`, branch: 'z9hG4bK-inv-g', callId: 'g@test' });
    peer.send(invite, transport.port);
    expect((await peer.next()).status).toBe(180);
    seen[0]?.reply(486, 'Busy Here', { toTag: 'pbx' });
    expect((await peer.next()).status).toBe(486);
    // Timer G: T1 later the same response comes again.
    expect((await peer.next(1_500)).status).toBe(486);
    peer.send(sipRequest({ method: 'ACK', via: `127.0.0.1:${peer.port}`, branch: 'z9hG4bK-inv-g', callId: 'g@test', to: '<sip:pbx.test>;tag=pbx' }), transport.port);
    await new Promise((r) => setTimeout(r, 50));
    expect(seen[0]?.state).toBe('confirmed');
    expect(await peer.silence(1_200)).toBe(true);
  });

  it('answers a malformed request with 400 and keeps serving', async () => {
    await start();
    const broken = sipRequest({ method: 'OPTIONS', via: `127.0.0.1:${peer.port}` }).replace('CSeq: 1 OPTIONS', 'CSeq: one OPTIONS');
    peer.send(broken, transport.port);
    const refused = await peer.next();
    expect(refused.status).toBe(400);
    expect(refused.reason).toMatch(/CSeq/);
    peer.send('\x00\x01garbage that is not SIP at all', transport.port);
    peer.send(sipRequest({ method: 'OPTIONS', via: `127.0.0.1:${peer.port}` }), transport.port);
    expect((await peer.next()).status).toBe(200);
  });

  it('refuses requests beyond the per-flow limit with 503 and Retry-After', async () => {
    await start({ maxPendingPerFlow: 2 });
    for (const n of [1, 2]) {
      peer.send(sipRequest({ method: 'INVITE', via: `127.0.0.1:${peer.port}`, branch: `z9hG4bK-cap-${n}` }), transport.port);
      expect((await peer.next()).status).toBe(180);
    }
    peer.send(sipRequest({ method: 'INVITE', via: `127.0.0.1:${peer.port}`, branch: 'z9hG4bK-cap-3' }), transport.port);
    const refused = await peer.next();
    expect(refused.status).toBe(503);
    expect(refused.header('Retry-After')).toBe('5');
    // Another flow is not affected.
    const other = await UdpPeer.open();
    try {
      other.send(sipRequest({ method: 'OPTIONS', via: `127.0.0.1:${other.port}` }), transport.port);
      expect((await other.next()).status).toBe(200);
    } finally {
      other.close();
    }
  });

  it('at the transaction limit makes room by ending answered transactions that only linger, oldest first, and refuses only when all are pending', async () => {
    await start({ maxServerTransactions: 2 });
    for (const n of [1, 2]) {
      peer.send(sipRequest({ method: 'OPTIONS', via: `127.0.0.1:${peer.port}`, branch: `z9hG4bK-linger-${n}` }), transport.port);
      expect((await peer.next()).status).toBe(200);
    }
    for (const n of [3, 4]) {
      peer.send(sipRequest({ method: 'INVITE', via: `127.0.0.1:${peer.port}`, branch: `z9hG4bK-linger-${n}` }), transport.port);
      expect((await peer.next()).status).toBe(180);
    }
    peer.send(sipRequest({ method: 'INVITE', via: `127.0.0.1:${peer.port}`, branch: 'z9hG4bK-linger-5' }), transport.port);
    expect((await peer.next()).status).toBe(503);
    expect(seen.map((tx) => tx.request.method)).toEqual(['OPTIONS', 'OPTIONS', 'INVITE', 'INVITE']);
  });

  it('gives a flow from a trusted source (an edge proxy, many devices) its own, larger limit', async () => {
    await start({ maxPendingPerFlow: 1, maxPendingPerTrustedFlow: 3 }, ['127.0.0.1']);
    for (const n of [1, 2, 3]) {
      peer.send(sipRequest({ method: 'INVITE', via: `127.0.0.1:${peer.port}`, branch: `z9hG4bK-trusted-${n}` }), transport.port);
      expect((await peer.next()).status).toBe(180);
    }
    peer.send(sipRequest({ method: 'INVITE', via: `127.0.0.1:${peer.port}`, branch: 'z9hG4bK-trusted-4' }), transport.port);
    expect((await peer.next()).status).toBe(503);
  });

  it('sends requests the PBX originates to the flow they are for, with our Via and rport', async () => {
    await start();
    peer.send(sipRequest({ method: 'OPTIONS', via: '10.0.0.9:5060', viaParams: ';rport' }), transport.port);
    await peer.next();
    const flow = transport.flow('127.0.0.1', peer.port);
    expect(flow).toBeDefined();
    if (!flow) return;
    const headers = new SipHeaders([
      ['From', '<sip:pbx@127.0.0.1>;tag=pbx1'],
      ['To', '<sip:device@10.0.0.9>'],
      ['Call-ID', 'out-1@127.0.0.1'],
      ['CSeq', '1 OPTIONS'],
    ]);
    const request: SipRequest = { kind: 'request', method: 'OPTIONS', uri: 'sip:device@10.0.0.9:5060', headers, body: Buffer.alloc(0) };
    const statuses: number[] = [];
    endpoint.sendRequest(request, flow, (response) => statuses.push(response.status));
    const arrived = (await peer.nextRaw()).text;
    expect(arrived.split('\r\n')[0]).toBe('OPTIONS sip:device@10.0.0.9:5060 SIP/2.0');
    expect(arrived).toMatch(new RegExp(`\r\nVia: SIP/2\\.0/UDP 127\\.0\\.0\\.1:${transport.port};branch=z9hG4bK[^;\r]+;rport\r\n`));
    // Timer E resends it while unanswered.
    expect((await peer.nextRaw(1_500)).text).toBe(arrived);
    const via = /\r\nVia: ([^\r]+)/.exec(arrived)?.[1];
    peer.send(['SIP/2.0 200 OK', `Via: ${via}`, 'From: <sip:pbx@127.0.0.1>;tag=pbx1', 'To: <sip:device@10.0.0.9>;tag=d1', 'Call-ID: out-1@127.0.0.1', 'CSeq: 1 OPTIONS', 'Content-Length: 0', '', ''].join('\r\n'), transport.port);
    await new Promise((r) => setTimeout(r, 50));
    expect(statuses).toEqual([200]);
  });

  it('answers a STUN Binding keep-alive with the address it came from (RFC 5626 §4.4.2)', async () => {
    await start();
    const request = Buffer.alloc(20);
    request.writeUInt16BE(0x0001, 0);
    request.writeUInt32BE(0x2112a442, 4);
    Buffer.from('0123456789ab').copy(request, 8);
    peer.send(request, transport.port);
    const { data } = await peer.nextRaw();
    expect(data.readUInt16BE(0)).toBe(0x0101);
    expect(data.subarray(8, 20).toString()).toBe('0123456789ab');
    expect(data.readUInt16BE(20)).toBe(0x0020);
    expect(data.readUInt16BE(26) ^ 0x2112).toBe(peer.port);
    expect([...data.subarray(28, 32)].map((b, i) => b ^ [0x21, 0x12, 0xa4, 0x42][i]!).join('.')).toBe('127.0.0.1');
  });
});

describe('SIP over UDP, sending where a peer says', () => {
  let endpoint: SipEndpoint;
  let transport: UdpTransport | undefined;
  const peers: UdpPeer[] = [];

  async function start(host = '127.0.0.1'): Promise<UdpTransport> {
    endpoint = new SipEndpoint({ viaHost: host, userAgent: 'test' });
    endpoint.setApplication({ onRequest: (tx) => tx.reply(200, 'OK'), onAck: () => undefined });
    transport = await UdpTransport.listen({ host, port: 0, endpoint });
    return transport;
  }

  async function peer(): Promise<UdpPeer> {
    const opened = await UdpPeer.open();
    peers.push(opened);
    return opened;
  }

  afterEach(async () => {
    for (const p of peers.splice(0)) p.close();
    await transport?.close();
    transport = undefined;
  });

  it('drops a datagram for a destination nothing can be sent to, counting it, and never throws', async () => {
    const udp = await start();
    const unusable: Array<[string, number]> = [
      ['127.0.0.1', 0], ['127.0.0.1', 65_536], ['127.0.0.1', 99_999], ['127.0.0.1', -1], ['127.0.0.1', 5060.5],
      ['pbx.example.com', 5060], ['', 5060], ['0.0.0.0', 5060], ['255.255.255.255', 5060], ['224.0.0.1', 5060],
      ['239.255.255.250', 1900], ['::1', 5060], ['::ffff:0.0.0.0', 5060],
    ];
    for (const [address, port] of unusable) expect(() => udp.sendDatagram(Buffer.from('x'), address, port)).not.toThrow();
    expect(endpoint.faults.count('unusableDestination')).toBe(unusable.length);
    const phone = await peer();
    phone.send(sipRequest({ method: 'OPTIONS', via: `127.0.0.1:${phone.port}` }), udp.port);
    expect((await phone.next()).status).toBe(200);
  });

  it('drops a response whose Via names port 0 at the flow, and the flow goes on', async () => {
    const udp = await start();
    const phone = await peer();
    phone.send(sipRequest({ method: 'OPTIONS', via: `127.0.0.1:${phone.port}` }), udp.port);
    await phone.next();
    const flow = udp.flow('127.0.0.1', phone.port);
    if (!flow) throw new Error('no flow');
    const headers = new SipHeaders([['Via', 'SIP/2.0/UDP 127.0.0.1:0;branch=z9hG4bK-zero'], ['From', '<sip:a@b>;tag=1'], ['To', '<sip:c@d>'], ['Call-ID', 'zero'], ['CSeq', '1 OPTIONS']]);
    expect(() => flow.send({ kind: 'response', status: 200, reason: 'OK', headers, body: Buffer.alloc(0) })).not.toThrow();
    expect(endpoint.faults.count('unusableDestination')).toBe(1);
    phone.send(sipRequest({ method: 'OPTIONS', via: `127.0.0.1:${phone.port}` }), udp.port);
    expect((await phone.next()).status).toBe(200);
  });

  it('answers the source, never a received= or a valued rport= the client wrote (RFC 3261 §18.2.1)', async () => {
    const udp = await start();
    const phone = await peer();
    // Without the stamp, these would go to 192.0.2.99 (a documentation address nobody answers from).
    phone.send(sipRequest({ method: 'OPTIONS', via: `127.0.0.1:${phone.port}`, branch: 'z9hG4bK-rcv-1', viaParams: ';received=192.0.2.99' }), udp.port);
    expect((await phone.next()).header('Via')).toBe(`SIP/2.0/UDP 127.0.0.1:${phone.port};branch=z9hG4bK-rcv-1`);
    phone.send(sipRequest({ method: 'OPTIONS', via: '192.0.2.99:5060', branch: 'z9hG4bK-rcv-2', viaParams: ';rport=5060;received=192.0.2.99' }), udp.port);
    expect((await phone.next()).header('Via')).toBe(`SIP/2.0/UDP 192.0.2.99:5060;branch=z9hG4bK-rcv-2;rport=${phone.port};received=127.0.0.1`);
  });

  it('takes a response\'s address from its flow whatever the Via says, and its port from rport or the sent-by (RFC 3261 §18.2.2)', () => {
    const flow = new FakeConnection('192.0.2.5', 'UDP');
    const to = (via: string) => {
      const headers = new SipHeaders([['Via', via], ['From', '<sip:a@b>;tag=1'], ['To', '<sip:c@d>'], ['Call-ID', 'd'], ['CSeq', '1 OPTIONS']]);
      return responseDestination({ kind: 'response', status: 200, reason: 'OK', headers, body: Buffer.alloc(0) }, flow);
    };
    expect(to('SIP/2.0/UDP 198.51.100.1:5070;branch=z9hG4bK1;received=203.0.113.9;maddr=224.0.0.1')).toEqual({ address: '192.0.2.5', port: 5070 });
    expect(to('SIP/2.0/UDP pbx.example.com;branch=z9hG4bK1;rport=5099;received=203.0.113.9')).toEqual({ address: '192.0.2.5', port: 5099 });
    expect(to('SIP/2.0/UDP [2001:db8::1];branch=z9hG4bK1')).toEqual({ address: '192.0.2.5', port: 5060 });
    expect(to('not a Via')).toEqual({ address: '192.0.2.5', port: flow.remotePort });
  });

  it('answers an IPv4 peer from a dual-stack socket bound to ::, as an IPv4-mapped address', async () => {
    const udp = await start('::');
    const phone = await peer();
    phone.send(sipRequest({ method: 'OPTIONS', via: `127.0.0.1:${phone.port}`, viaParams: ';rport' }), udp.port);
    expect((await phone.next()).status).toBe(200);
    expect(endpoint.faults.count('sendFailed')).toBe(0);
  });
});
