/**
 * Bounded fuzzing of the paths a response takes back: requests whose top Via names odd hosts (names, IPv4,
 * IPv6 bracketed or not, 0.0.0.0, broadcast, multicast), ports (none, 0, 65535, 65536, 99999, garbage),
 * received and rport (empty, valued, garbage), maddr, and transports (UDP, TCP, TLS, WS, SCTP, garbage), sent
 * over a real UdpTransport and a real TCP StreamTransport on 127.0.0.1. Behind the endpoint, an application
 * that answers at once and later (from timers, after the peer may have gone), fails on purpose, and, as a
 * naive element following RFC 3261 §18.2.2 would, also sends a datagram to whatever the Via names.
 *
 * Whatever comes in, nothing escapes the transports (no exception, no unhandled rejection), nothing fails
 * inside the endpoint that was not meant to, what could not be sent is counted, and a good OPTIONS is
 * answered afterwards over both transports. The inputs come from one seed (SIP_FUZZ_SEED to try another),
 * printed with the case on failure; the run stops after SIP_FUZZ_MS (3 s) or SIP_FUZZ_CASES cases. The
 * deliberate failures are logged as errors; the log is quiet during the run (OFFHOOK_LOG_LEVEL still rules after).
 */
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setLogLevel } from '../log';
import { parseLogLevel } from '../../shared/logging';
import { readResponse, splitStream } from '../../tests/support/sip-text';
import { UdpPeer } from '../../tests/support/udp-peer';
import { SipEndpoint } from './endpoint';
import { parseVia } from './syntax/message';
import { StreamTransport } from './transport/stream-transport';
import { prng } from './test-support';
import { systemClock } from './transaction/timers';
import type { ServerTransaction } from './transaction/transactions';
import { UdpTransport } from './transport/udp-transport';

const SEED = Number(process.env.SIP_FUZZ_SEED ?? 0x5e4d5eed);
const DURATION_MS = Number(process.env.SIP_FUZZ_MS ?? 3_000);
const MAX_CASES = Number(process.env.SIP_FUZZ_CASES ?? 20_000);
/** Datagrams in flight before the sender waits for the PBX to catch up: loopback drops beyond its buffers. */
const BATCH = 50;

const HOSTS = [
  '127.0.0.1', '192.0.2.1', '0.0.0.0', '255.255.255.255', '224.0.0.1', '239.255.255.250', '[::1]', '[2001:db8::1]', '[::]',
  '[ff02::1]', '[::ffff:127.0.0.1]', '[::ffff:0.0.0.0]', '::1', 'pbx.example.com', 'localhost', 'host_with_underscore',
  '999.1.1.1', '1.2.3', '-', '[', 'x'.repeat(300),
];
const PORTS = [undefined, '0', '1', '5060', '65535', '65536', '99999', '-1', 'abc', '', '00000', '0x10'];
const PARAMS = [
  ';rport', ';rport=', ';rport=0', ';rport=1', ';rport=65535', ';rport=65536', ';rport=abc', ';received=127.0.0.2',
  ';received=127.0.0.2', ';received=', ';received=garbage', ';received=0.0.0.0', ';received=255.255.255.255', ';received=[::1]', ';received=::1',
  ';maddr=224.0.0.1', ';maddr=255.255.255.255', ';maddr=0.0.0.0', ';maddr=pbx.example.com', ';maddr=[ff02::1]', ';ttl=1',
  ';branch=', ';branch=z9hG4bK', ';branch=old-style', ';x', ';;',
];
const TRANSPORTS = ['UDP', 'TCP', 'TLS', 'WS', 'WSS', 'SCTP', 'FOO', 'udp', ''];
const METHODS = ['OPTIONS', 'REGISTER', 'INVITE', 'MESSAGE', 'SUBSCRIBE', 'BYE', 'CANCEL', 'ACK', 'INFO', 'BOOM', 'REJECT'];

function pick<T>(random: () => number, from: readonly T[]): T {
  return from[Math.floor(random() * from.length)] as T;
}

/** Hosts and ports that parse, for the half of the Vias that should reach the application. */
const PLAUSIBLE_HOSTS = HOSTS.slice(0, 14);
const PLAUSIBLE_PORTS = PORTS.slice(0, 6);

/** `victimPort`: where a third party listens on 127.0.0.2, which the Vias name now and then. */
function fuzzedVia(random: () => number, n: number, victimPort: string): string {
  const plausible = random() < 0.5;
  const port = random() < 0.1 ? victimPort : pick(random, plausible ? PLAUSIBLE_PORTS : PORTS);
  let via = `SIP/2.0/${pick(random, TRANSPORTS)} ${pick(random, plausible ? PLAUSIBLE_HOSTS : HOSTS)}${port === undefined ? '' : `:${port}`}`;
  if (random() < 0.8) via += `;branch=z9hG4bK-fuzz-${n}`;
  const extra = Math.floor(random() * 4);
  for (let i = 0; i < extra; i++) via += pick(random, PARAMS);
  return via;
}

function fuzzedRequest(random: () => number, n: number, victimPort: string): string {
  const method = pick(random, METHODS);
  const vias = [fuzzedVia(random, n, victimPort), ...(random() < 0.2 ? [fuzzedVia(random, n + 1_000_000, victimPort)] : [])];
  const lines = [
    `${method} sip:101@pbx.test SIP/2.0`,
    ...(random() < 0.5 ? [`Via: ${vias.join(', ')}`] : vias.map((via) => `v: ${via}`)),
    'Max-Forwards: 70',
    `From: <sip:fuzz@fuzz.test>;tag=f${n}`,
    `To: <sip:101@pbx.test>${random() < 0.2 ? ';tag=t' : ''}`,
    `Call-ID: fuzz-${n}`,
    `CSeq: ${1 + Math.floor(random() * 3)} ${random() < 0.95 ? method : 'OPTIONS'}`,
  ];
  // Now and then without a header the parser or the 400 needs.
  if (random() < 0.1) lines.splice(2 + Math.floor(random() * (lines.length - 2)), 1);
  return [...lines, 'Content-Length: 0', '', ''].join('\r\n');
}

describe('fuzzing the send paths', () => {
  let endpoint: SipEndpoint;
  let udp: UdpTransport;
  let tcp: StreamTransport;
  const escaped: unknown[] = [];
  const onEscape = (error: unknown) => escaped.push(error);

  /** Answers as the PBX's layers might: at once, later from a timer, or by failing. */
  function answer(tx: ServerTransaction): void {
    const method = tx.request.method;
    // A naive element would send to what the Via names (RFC 3261 §18.2.2, maddr first): the transport must cope.
    try {
      const via = parseVia(tx.request.headers.get('Via') ?? '');
      const host = via.params.maddr ?? via.host;
      udp.sendDatagram(Buffer.from('naive copy'), host.startsWith('[') ? host.slice(1, -1) : host, via.port ?? 5060);
    } catch {
      // A Via the endpoint took but that does not parse alone is not what this part exercises.
    }
    if (method === 'BOOM') throw new Error('a handler that throws');
    if (method === 'REJECT') {
      void Promise.reject(new Error('a handler that rejects')).catch((error: unknown) => endpoint.requestFailed(tx, error));
      return;
    }
    if (method === 'INVITE') {
      tx.reply(180, 'Ringing', { toTag: 'pbx' });
      // The final answer comes from a timer, when the flow may have closed under it.
      setTimeout(() => {
        if (tx.pending) tx.reply(486, 'Busy Here');
      }, 5).unref();
      return;
    }
    if (method === 'CANCEL' || method === 'BYE') {
      // Answered late, when the flow may be gone. Every request is answered in the end, as the PBX does: one
      // left pending for ever would hold its place among the flow's pending requests (maxPendingPerFlow), and
      // after enough of them the flow's next request would rightly be refused with 503.
      setTimeout(() => {
        if (tx.pending) tx.reply(481);
      }, 20).unref();
      return;
    }
    tx.reply(method === 'REGISTER' ? 401 : 200);
  }

  beforeAll(async () => {
    process.on('uncaughtException', onEscape);
    process.on('unhandledRejection', onEscape);
    setLogLevel('silent');
    // Short timers, so retransmissions and their ends happen within the run.
    endpoint = new SipEndpoint({ viaHost: '127.0.0.1', userAgent: 'fuzz', transactions: { clock: systemClock, timers: { t1: 20, t2: 80, t4: 100 } } });
    endpoint.setApplication({ onRequest: answer, onAck: () => undefined });
    udp = await UdpTransport.listen({ host: '127.0.0.1', port: 0, endpoint });
    tcp = await StreamTransport.listen({ transport: 'TCP', host: '127.0.0.1', port: 0, endpoint });
    endpoint.setListeningPort('UDP', udp.port);
    endpoint.setListeningPort('TCP', tcp.port);
  });

  afterAll(async () => {
    process.off('uncaughtException', onEscape);
    process.off('unhandledRejection', onEscape);
    setLogLevel(parseLogLevel(process.env.OFFHOOK_LOG_LEVEL) ?? 'info');
    await udp?.close();
    await tcp?.close();
  });

  async function tcpConnection(): Promise<{ socket: Socket; received: () => string }> {
    const socket = connect(tcp.port, '127.0.0.1');
    let text = '';
    socket.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    socket.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('error', reject);
    });
    return { socket, received: () => text };
  }

  async function answeredOverUdp(peer: UdpPeer, tag: string): Promise<number> {
    peer.send(`OPTIONS sip:pbx.test SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bK-${tag}\r\nFrom: <sip:a@b>;tag=a\r\nTo: <sip:pbx.test>\r\nCall-ID: ${tag}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n`, udp.port);
    for (;;) {
      const response = await peer.next(5_000);
      if (response.header('Call-ID') === tag) return response.status;
    }
  }

  it(`survives odd Vias over UDP and TCP, counts what it could not send, and still answers (seed ${SEED})`, async () => {
    const random = prng(SEED);
    const peers = await Promise.all([UdpPeer.open(), UdpPeer.open(), UdpPeer.open()]);
    // A third party: no response may reach it, whatever received= or rport= say (the naive copies go to hosts).
    const victim = await UdpPeer.open('127.0.0.2');
    let stream = await tcpConnection();
    const deadline = performance.now() + DURATION_MS;
    let cases = 0;
    let last = '';
    try {
      for (; cases < MAX_CASES && performance.now() < deadline; cases++) {
        last = fuzzedRequest(random, cases, String(victim.port));
        if (random() < 0.7) {
          pick(random, peers).send(last, udp.port);
        } else {
          stream.socket.write(last);
          // Now and then the peer goes away while answers for it are still to come.
          if (random() < 0.1) {
            stream.socket.destroy();
            stream = await tcpConnection();
          }
        }
        if (cases % BATCH === BATCH - 1) {
          const status = await answeredOverUdp(peers[0] as UdpPeer, `sync-${cases}`);
          expect(status, `seed ${SEED}, case ${cases}`).toBe(200);
        }
      }
      expect(escaped, `seed ${SEED}, case ${cases}: ${last}`).toEqual([]);
      expect(await answeredOverUdp(peers[1] as UdpPeer, 'after-fuzz'), `seed ${SEED}`).toBe(200);
      const fresh = await tcpConnection();
      fresh.socket.write(`OPTIONS sip:pbx.test SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:${fresh.socket.localPort};branch=z9hG4bK-after-tcp\r\nFrom: <sip:a@b>;tag=a\r\nTo: <sip:pbx.test>\r\nCall-ID: after-tcp\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n`);
      await expect.poll(() => splitStream(fresh.received()).messages.map((m) => readResponse(m).header('Call-ID')), { timeout: 5_000 }).toContain('after-tcp');
      fresh.socket.destroy();
      // Let the timers' late answers (to flows that are gone) run before the counts are read.
      await new Promise((resolve) => setTimeout(resolve, 100));
      const faults = endpoint.faults.snapshot;
      expect(escaped, `seed ${SEED}`).toEqual([]);
      // Nothing failed that was not meant to: every failure is a deliberate handler's, or something not sent.
      expect(faults.messageFailed, `seed ${SEED}: ${JSON.stringify(faults)}`).toBe(0);
      expect(faults.handlerFailed, `seed ${SEED}`).toBeGreaterThan(0);
      expect(faults.unusableDestination, `seed ${SEED}`).toBeGreaterThan(0);
      expect(faults.malformed, `seed ${SEED}`).toBeGreaterThan(0);
      expect(victim.unread, `seed ${SEED}: datagrams reached a third party`).toBe(0);
      expect(cases).toBeGreaterThan(100);
      if (process.env.SIP_FUZZ_REPORT) process.stderr.write(`${cases} cases: ${JSON.stringify(faults)}\n`);
    } catch (error) {
      process.stderr.write(`send-path fuzz failed: SIP_FUZZ_SEED=${SEED}, case ${cases}, last input ${JSON.stringify(last)}\n`);
      throw error;
    } finally {
      for (const peer of [...peers, victim]) peer.close();
      stream.socket.destroy();
    }
  }, 30_000);
});
