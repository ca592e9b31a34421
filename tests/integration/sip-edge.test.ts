/**
 * The PBX's SIP edge against what a hostile or an old peer writes, over real UDP and TCP on loopback: Vias
 * that name port 0 or a third party, RFC 2543 requests without a branch, From and To of other schemes,
 * requests missing headers, malformed responses. Each gets the answer the RFCs give it (or none, for a
 * response), and the PBX goes on serving, with nothing left for its process-level safety net.
 */
import { rmSync } from 'node:fs';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunningPbx } from '../../server/pbx';
import { digestAuthorization } from '../support/sip-ws-client';
import { UdpDeskPhone } from '../support/udp-desk-phone';
import { readResponse, splitStream } from '../support/sip-text';
import { deskPassword, DOMAIN, startUdpPbx } from '../support/udp-pbx';
import { UdpPeer } from '../support/udp-peer';

/** A request as the peer writes it: `via` is the whole Via value, so a test can leave the branch out. */
function request(method: string, via: string, options: { from?: string; to?: string; callId?: string; cseq?: number; uri?: string; headers?: string[] } = {}): string {
  return [
    `${method} ${options.uri ?? `sip:${DOMAIN}`} SIP/2.0`,
    `Via: ${via}`,
    'Max-Forwards: 70',
    `From: ${options.from ?? `<sip:101@${DOMAIN}>;tag=edge`}`,
    `To: ${options.to ?? `<sip:101@${DOMAIN}>`}`,
    `Call-ID: ${options.callId ?? `edge-${Math.random().toString(36).slice(2)}`}`,
    `CSeq: ${options.cseq ?? 1} ${method}`,
    ...(options.headers ?? []),
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

describe('the SIP edge', () => {
  let pbx: RunningPbx;
  let dataDir: string;
  let udpPort: number;
  const open: Array<{ close(): void }> = [];

  beforeAll(async () => {
    ({ pbx, dataDir } = await startUdpPbx('edge', ['--sip-tcp-port', '0']));
    udpPort = pbx.sipPorts.udp ?? 0;
  });
  afterEach(() => {
    for (const peer of open.splice(0)) peer.close();
    // Nothing any test sends may fail inside the PBX: every refusal is an answer, not a contained failure.
    expect(pbx.sip.endpoint.faults.count('messageFailed')).toBe(0);
    expect(pbx.sip.endpoint.faults.count('handlerFailed')).toBe(0);
  });
  afterAll(async () => {
    await pbx?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  async function peer(address?: string, port?: number): Promise<UdpPeer> {
    const opened = await UdpPeer.open(address, port);
    open.push(opened);
    return opened;
  }

  async function stillServes(from: UdpPeer): Promise<void> {
    from.send(request('OPTIONS', `SIP/2.0/UDP 127.0.0.1:${from.port};branch=z9hG4bK-alive-${Math.random()}`), udpPort);
    expect((await from.next()).status).toBe(200);
  }

  it('answers a request whose Via names port 0 without rport with 400 at its source, for every method, and goes on serving', async () => {
    const phone = await peer();
    for (const method of ['REGISTER', 'INVITE', 'MESSAGE', 'SUBSCRIBE']) {
      phone.send(request(method, `SIP/2.0/UDP 127.0.0.1:0;branch=z9hG4bK-port0-${method}`, { headers: method === 'SUBSCRIBE' ? ['Event: dialog'] : [] }), udpPort);
      const answer = await phone.next();
      expect([method, answer.status, answer.reason]).toEqual([method, 400, 'Bad Request - Via sent-by port 0']);
      // RFC 3581 §4 in effect: received and rport say where it went.
      expect(answer.header('Via')).toBe(`SIP/2.0/UDP 127.0.0.1:0;branch=z9hG4bK-port0-${method};rport=${phone.port};received=127.0.0.1`);
    }
    await stillServes(phone);
  });

  it('never aims a response where a client-written received= or rport= says: it goes to the source', async () => {
    // A third party on another loopback address, on the port the attacker names as its own sent-by port.
    const victim = await peer('127.0.0.2');
    const attacker = await peer('127.0.0.1', victim.port);
    attacker.send(request('OPTIONS', `SIP/2.0/UDP 127.0.0.1:${victim.port};branch=z9hG4bK-reflect-1;received=127.0.0.2`), udpPort);
    const answer = await attacker.next();
    expect(answer.status).toBe(200);
    expect(answer.header('Via')).toBe(`SIP/2.0/UDP 127.0.0.1:${victim.port};branch=z9hG4bK-reflect-1`);
    // A valued rport and a maddr are no better: rport is the source port, received the source address.
    attacker.send(request('OPTIONS', `SIP/2.0/UDP 127.0.0.2:${victim.port};branch=z9hG4bK-reflect-2;rport=${victim.port};received=127.0.0.2;maddr=127.0.0.2`), udpPort);
    expect((await attacker.next()).header('Via')).toBe(`SIP/2.0/UDP 127.0.0.2:${victim.port};branch=z9hG4bK-reflect-2;rport=${attacker.port};maddr=127.0.0.2;received=127.0.0.1`);
    // Both answers reached the attacker; a last one proves nothing else is on its way to the victim.
    await stillServes(attacker);
    expect(victim.unread).toBe(0);
  });

  it('serves an RFC 2543 device: a REGISTER without a branch is challenged, a copy gets the same answer, and it registers', async () => {
    const phone = await peer();
    const via = `SIP/2.0/UDP 127.0.0.1:${phone.port}`;
    const callId = 'rfc2543-register';
    const first = request('REGISTER', via, { callId, headers: [`Contact: <sip:101@127.0.0.1:${phone.port}>`] });
    phone.send(first, udpPort);
    const challenge = await phone.next();
    expect(challenge.status).toBe(401);
    // RFC 3261 §17.2.3: the copy matches the transaction by Request-URI, tags, Call-ID, CSeq and Via.
    phone.send(first, udpPort);
    expect((await phone.next()).raw).toBe(challenge.raw);
    const authorization = digestAuthorization({ challenge: challenge.header('WWW-Authenticate') ?? '', method: 'REGISTER', uri: `sip:${DOMAIN}`, username: '101', password: deskPassword('101') });
    phone.send(request('REGISTER', via, { callId, cseq: 2, headers: [`Contact: <sip:101@127.0.0.1:${phone.port}>`, `Authorization: ${authorization}`] }), udpPort);
    const accepted = await phone.next();
    expect(accepted.status).toBe(200);
    expect(accepted.header('Contact')).toContain(`sip:101@127.0.0.1:${phone.port}`);
  });

  it('connects a call from an RFC 2543 phone (no branch, no From tag): its ACKs are matched and its BYE ends the call', async () => {
    const callee = await UdpDeskPhone.registered(udpPort, '102', DOMAIN, deskPassword('102'));
    open.push(callee);
    const phone = await peer();
    const via = `SIP/2.0/UDP 127.0.0.1:${phone.port}`;
    const uri = `sip:102@${DOMAIN}`;
    const base = { from: `<sip:101@${DOMAIN}>`, to: `<${uri}>`, callId: 'rfc2543-call', uri };
    const sdp = ['v=0', 'o=old 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', `m=audio ${phone.port + 1} RTP/AVP 0`, 'a=rtpmap:0 PCMU/8000', ''].join('\r\n');
    const invite = (cseq: number, headers: string[] = []) =>
      request('INVITE', via, { ...base, cseq, headers: [`Contact: <sip:101@127.0.0.1:${phone.port}>`, 'Content-Type: application/sdp', ...headers] }).replace('Content-Length: 0\r\n\r\n', `Content-Length: ${sdp.length}\r\n\r\n${sdp}`);
    const final = async (cseq: number) => {
      for (;;) {
        const response = await phone.next(5_000);
        if (response.status >= 200 && response.header('CSeq') === `${cseq} INVITE`) return response;
      }
    };
    phone.send(invite(1), udpPort);
    const challenge = await final(1);
    expect(challenge.status).toBe(407);
    phone.send(request('ACK', via, { ...base, to: challenge.header('To'), cseq: 1 }), udpPort);
    const authorization = digestAuthorization({ challenge: challenge.header('Proxy-Authenticate') ?? '', method: 'INVITE', uri, username: '101', password: deskPassword('101') });
    phone.send(invite(2, [`Proxy-Authorization: ${authorization}`]), udpPort);
    callee.answer(await callee.request('INVITE'));
    const answered = await final(2);
    expect(answered.status).toBe(200);
    // RFC 3261 §17.2.3: the ACK for the 2xx has the INVITE's Via and Request-URI, and our To tag.
    phone.send(request('ACK', via, { ...base, to: answered.header('To'), cseq: 2 }), udpPort);
    // Unacknowledged, the 200 would come again after T1 (500 ms, Timer G, RFC 3261 §13.3.1.4): past that, it has not.
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    expect(phone.unread).toBe(0);
    expect(pbx.sip.calls.activeCallCount).toBe(1);
    phone.send(request('BYE', via, { ...base, to: answered.header('To'), cseq: 3 }), udpPort);
    let bye;
    do bye = await phone.next(5_000);
    while (bye.header('CSeq') !== '3 BYE');
    expect(bye.status).toBe(200);
    expect((await callee.request('BYE')).header('Call-ID')).toBeDefined();
    await expect.poll(() => pbx.sip.calls.activeCallCount).toBe(0);
  });

  it('accepts a From or To of another scheme (RFC 3261 §25.1) and answers each request cleanly', async () => {
    const phone = await peer();
    const via = (n: string) => `SIP/2.0/UDP 127.0.0.1:${phone.port};branch=z9hG4bK-scheme-${n}`;
    const answers: string[] = [];
    const ask = async (text: string) => {
      phone.send(text, udpPort);
      const answer = await phone.next();
      answers.push(`${answer.status} ${answer.reason}`);
    };
    await ask(request('OPTIONS', via('1'), { from: '<http://www.example.com>;tag=h', to: '<mailto:desk@example.com>' }));
    // RFC 4475 §3.3.4 (unksm2): a registration whose To is no SIP URI gets 400.
    await ask(request('REGISTER', via('2'), { from: '<http://www.example.com>;tag=3234233', to: 'isbn:2983792873' }));
    await ask(request('INVITE', via('3'), { from: '<http://www.example.com>;tag=h', to: `<sip:102@${DOMAIN}>` }));
    await ask(request('MESSAGE', via('4'), { from: 'Someone <mailto:someone@example.com>;tag=h', to: `<sip:102@${DOMAIN}>` }));
    await ask(request('SUBSCRIBE', via('5'), { from: '<http://www.example.com>;tag=h', to: `<sip:102@${DOMAIN}>`, headers: ['Event: dialog', `Contact: <sip:x@127.0.0.1:${phone.port}>`] }));
    await ask(request('BYE', via('6'), { from: '<http://www.example.com>;tag=h', to: `<sip:102@${DOMAIN}>;tag=none` }));
    expect(answers).toEqual([
      '200 OK',
      '400 Bad Request - To is not a SIP URI',
      '403 Forbidden - From is not a SIP URI',
      '403 Forbidden - From is not a SIP URI',
      '403 Forbidden - From is not a SIP URI',
      '481 Call/Transaction Does Not Exist',
    ]);
  });

  it('answers a request missing From, To and Call-ID with 400 (RFC 4475 §3.3.1), to its Via', async () => {
    const phone = await peer();
    phone.send(
      [`INVITE sip:101@${DOMAIN} SIP/2.0`, 'CSeq: 193942 INVITE', `Via: SIP/2.0/UDP 127.0.0.1:${phone.port};branch=z9hG4bKkdj.insuf`, 'Content-Length: 0', '', ''].join('\r\n'),
      udpPort,
    );
    const answer = await phone.next();
    expect([answer.status, answer.reason, answer.header('CSeq')]).toEqual([400, 'Bad Request - Missing From', '193942 INVITE']);
  });

  it('never answers a malformed response over TCP, and goes on serving the connection', async () => {
    const socket: Socket = connect(pbx.sipPorts.tcp ?? 0, '127.0.0.1');
    open.push({ close: () => socket.destroy() });
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    let received = '';
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('utf8')));
    const response = [
      'SIP/2.0 200 OK',
      'Via: SIP/2.0/TCP 192.0.2.7:5060;branch=z9hG4bK-foreign',
      'From: <sip:a@example.com>;tag=1',
      'To: <sip:b@example.com>;tag=2',
      'Call-ID: malformed-response',
      'CSeq: 1 OPTIONS',
      'Max-Forwards: 999',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');
    socket.write(response);
    socket.write(request('OPTIONS', `SIP/2.0/TCP 127.0.0.1:${socket.localPort};branch=z9hG4bK-after-response`, { callId: 'after-response' }));
    await expect.poll(() => splitStream(received).messages.length).toBeGreaterThan(0);
    // The first answer on the connection is the OPTIONS': nothing was sent for the malformed response.
    const first = readResponse(splitStream(received).messages[0] ?? '');
    expect([first.status, first.header('Call-ID')]).toEqual([200, 'after-response']);
  });
});
