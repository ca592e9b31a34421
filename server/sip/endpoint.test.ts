import { describe, expect, it } from 'vitest';
import { SipEndpoint } from './endpoint';
import { SipSecurity } from './edge/security';
import { parseMessage, parseNameAddr, serializeMessage, SipStreamParser } from './syntax/message';
import type { SipRequest, SipResponse } from './syntax/message';
import { FakeConnection, ManualClock, sipRequest } from './test-support';
import { DEFAULT_TIMERS } from './transaction/timers';
import type { ServerTransaction } from './transaction/transactions';

function answer(invite: SipRequest, toTag: string, extra: string[] = [], status = '200 OK'): SipResponse {
  const lines = [
    `SIP/2.0 ${status}`,
    `Via: ${invite.headers.get('Via')}`,
    `From: ${invite.headers.get('From')}`,
    `To: ${invite.headers.get('To')};tag=${toTag}`,
    `Call-ID: ${invite.headers.get('Call-ID')}`,
    `CSeq: ${invite.headers.get('CSeq')}`,
    ...extra,
    'Content-Length: 0',
    '',
    '',
  ];
  return parseMessage(lines.join('\r\n')) as SipResponse;
}

describe('SipEndpoint as a user agent client', () => {
  it('acknowledges and hangs up a 2xx from a second fork, which never reaches the TU', () => {
    const endpoint = new SipEndpoint({ viaHost: '127.0.0.1', userAgent: 'test' });
    const flow = new FakeConnection('192.0.2.20', 'TCP');
    const invite = sipRequest({ method: 'INVITE', uri: 'sip:101@192.0.2.20', from: '<sip:100@pbx.test>;tag=ours', to: '<sip:101@pbx.test>' });
    invite.headers.remove('Via');
    const seen: string[] = [];
    endpoint.sendRequest(invite, flow, (response) => {
      const tag = parseNameAddr(response.headers.get('To') ?? '').params.tag ?? '';
      seen.push(tag);
      // The TU acknowledges the 2xx it takes.
      const ack = sipRequest({ method: 'ACK', uri: 'sip:101@192.0.2.20', from: '<sip:100@pbx.test>;tag=ours', to: `<sip:101@pbx.test>;tag=${tag}`, callId: invite.headers.get('Call-ID') ?? '' });
      ack.headers.remove('Via');
      endpoint.sendStateless(ack, flow);
    });
    endpoint.receiveMessage(answer(invite, 'first', ['Contact: <sip:101@192.0.2.21>']), flow);
    endpoint.receiveMessage(answer(invite, 'second', ['Contact: <sip:101@192.0.2.22;transport=tcp>', 'Record-Route: <sip:p2.test;lr>', 'Record-Route: <sip:p1.test;lr>']), flow);
    // The second fork's 2xx, sent again, gets the same ACK again and no second BYE.
    endpoint.receiveMessage(answer(invite, 'second', ['Contact: <sip:101@192.0.2.22;transport=tcp>', 'Record-Route: <sip:p2.test;lr>', 'Record-Route: <sip:p1.test;lr>']), flow);

    expect(seen).toEqual(['first']);
    const sent = flow.requests.map((r) => `${r.method} ${r.uri} ${parseNameAddr(r.headers.get('To') ?? '').params.tag ?? '-'} ${r.headers.get('CSeq')}`);
    expect(sent).toEqual([
      'INVITE sip:101@192.0.2.20 - 1 INVITE',
      'ACK sip:101@192.0.2.20 first 1 ACK',
      'ACK sip:101@192.0.2.22;transport=tcp second 1 ACK',
      'BYE sip:101@192.0.2.22;transport=tcp second 2 BYE',
      'ACK sip:101@192.0.2.22;transport=tcp second 1 ACK',
    ]);
    const bye = flow.requests[3];
    // RFC 3261 §12.1.2: the response's Record-Route, reversed, is the route set of the dialog being ended.
    expect(bye?.headers.getAll('Route')).toEqual(['<sip:p1.test;lr>', '<sip:p2.test;lr>']);
    expect(bye?.headers.get('From')).toBe('<sip:100@pbx.test>;tag=ours');
    expect(bye?.headers.get('Call-ID')).toBe(invite.headers.get('Call-ID'));
  });
});

describe('SipEndpoint as a user agent client over UDP', () => {
  it('acknowledges a failure again for each copy until Timer D, after the transaction has handed over', () => {
    const clock = new ManualClock();
    const endpoint = new SipEndpoint({ viaHost: '127.0.0.1', userAgent: 'test', transactions: { clock, timers: DEFAULT_TIMERS } });
    const flow = new FakeConnection('192.0.2.40', 'UDP');
    const invite = sipRequest({ method: 'INVITE', uri: 'sip:101@192.0.2.40', from: '<sip:100@pbx.test>;tag=ours', to: '<sip:101@pbx.test>' });
    invite.headers.remove('Via');
    const seen: number[] = [];
    const tx = endpoint.sendRequest(invite, flow, (response) => seen.push(response.status));
    const busy = answer(invite, 'busy', [], '486 Busy Here');
    endpoint.receiveMessage(busy, flow);
    expect(tx.state).toBe('completed');
    clock.advance(10_000);
    endpoint.receiveMessage(busy, flow);
    clock.advance(22_100);
    endpoint.receiveMessage(busy, flow);
    expect(seen).toEqual([486]);
    // The INVITE, its ACK, the ACK again for the copy within Timer D (32 s), and nothing for the copy after it.
    expect(flow.requests.map((r) => r.method)).toEqual(['INVITE', 'ACK', 'ACK']);
    expect(clock.pending).toBe(0);
  });
});

describe('SipEndpoint choosing a flow by size (RFC 3261 §18.1.1)', () => {
  function setUp(accepting: boolean) {
    const device = { accepts: accepting };
    const clock = new ManualClock();
    const endpoint = new SipEndpoint({ viaHost: '127.0.0.1', userAgent: 'test', transactions: { clock, timers: DEFAULT_TIMERS } });
    endpoint.setListeningPort('UDP', 5060);
    endpoint.setListeningPort('TCP', 5060);
    const dialled: string[] = [];
    const streams: FakeConnection[] = [];
    endpoint.setStreamConnector(async (transport, host, port, timeoutMs) => {
      dialled.push(`${transport} ${host}:${port} within ${timeoutMs} ms`);
      if (!device.accepts) throw new Error('ECONNREFUSED');
      const stream = new FakeConnection(host, 'TCP');
      streams.push(stream);
      return stream;
    });
    const udp = new FakeConnection('192.0.2.30', 'UDP');
    return { clock, endpoint, dialled, streams, udp, device };
  }

  /** A MESSAGE whose datagram, as sendRequest would stamp it, is exactly `size` bytes. */
  function messageOfSize(endpoint: SipEndpoint, udp: FakeConnection, size: number): SipRequest {
    const probe = sipRequest({ method: 'MESSAGE', uri: 'sip:103@192.0.2.30', from: '<sip:101@pbx.test>;tag=a', to: '<sip:103@pbx.test>', body: '' });
    probe.headers.remove('Via');
    endpoint.sendRequest(probe, udp, () => undefined);
    // With no body Content-Length is one digit; a body of n bytes adds n and the digits of n past the first.
    const rest = size - serializeMessage(udp.requests.at(-1)!).length + 1;
    const n = [1, 2, 3, 4, 5].map((digits) => rest - digits).find((length) => String(length).length === rest - length)!;
    const request = sipRequest({ method: 'MESSAGE', uri: 'sip:103@192.0.2.30', from: '<sip:101@pbx.test>;tag=a', to: '<sip:103@pbx.test>', body: 'x'.repeat(n) });
    request.headers.remove('Via');
    return request;
  }

  it('keeps a request of up to 1300 bytes on UDP and sends a larger one over TCP to where the device sends from, on one kept connection', async () => {
    const { endpoint, dialled, streams, udp } = setUp(true);
    const fits = messageOfSize(endpoint, udp, 1300);
    expect(await endpoint.connectionForSize(fits, udp)).toBe(udp);
    endpoint.sendRequest(fits, udp, () => undefined);
    expect(serializeMessage(udp.requests.at(-1)!).length).toBe(1300);
    const over = messageOfSize(endpoint, udp, 1301);
    const stream = await endpoint.connectionForSize(over, udp);
    expect(stream).toBe(streams[0]);
    expect(dialled).toEqual([`TCP 192.0.2.30:${udp.remotePort} within 2000 ms`]);
    endpoint.sendRequest(over, stream, () => undefined);
    expect(streams[0]!.requests[0]!.headers.get('Via')).toMatch(/^SIP\/2\.0\/TCP 127\.0\.0\.1:5060;branch=/);
    // The next large request takes the same connection; once it closed, a new one is opened.
    expect(await endpoint.connectionForSize(messageOfSize(endpoint, udp, 2000), udp)).toBe(streams[0]);
    streams[0]!.drop();
    expect(await endpoint.connectionForSize(messageOfSize(endpoint, udp, 2000), udp)).toBe(streams[1]);
    expect(dialled).toHaveLength(2);
    // Flows that are not UDP keep what they are.
    const ws = new FakeConnection('192.0.2.31', 'WS');
    expect(await endpoint.connectionForSize(messageOfSize(endpoint, ws, 2000), ws)).toBe(ws);
  });

  it('sends over UDP after all when the device takes no connection, and does not ask it again for ten minutes', async () => {
    const { clock, endpoint, dialled, streams, udp, device } = setUp(false);
    expect(await endpoint.connectionForSize(messageOfSize(endpoint, udp, 1500), udp)).toBe(udp);
    clock.advance(9 * 60_000);
    expect(await endpoint.connectionForSize(messageOfSize(endpoint, udp, 1500), udp)).toBe(udp);
    expect(dialled).toHaveLength(1);
    clock.advance(60_000);
    device.accepts = true;
    expect(await endpoint.connectionForSize(messageOfSize(endpoint, udp, 1500), udp)).toBe(streams[0]);
    expect(dialled).toHaveLength(2);
    // When that connection has closed, the next large request dials again.
    streams[0]!.drop();
    expect(await endpoint.connectionForSize(messageOfSize(endpoint, udp, 1500), udp)).toBe(streams[1]);
    expect(dialled).toHaveLength(3);
  });

  it('opens one connection for large requests to a device that start at once', async () => {
    const { endpoint, dialled, streams, udp } = setUp(true);
    const both = await Promise.all([endpoint.connectionForSize(messageOfSize(endpoint, udp, 1500), udp), endpoint.connectionForSize(messageOfSize(endpoint, udp, 1600), udp)]);
    expect(both).toEqual([streams[0], streams[0]]);
    expect(dialled).toHaveLength(1);
  });

  it('keeps UDP when the PBX has no TCP transport', async () => {
    const { endpoint, udp } = setUp(true);
    const noTcp = new SipEndpoint({ viaHost: '127.0.0.1', userAgent: 'test' });
    noTcp.setListeningPort('UDP', 5060);
    let dialled = 0;
    noTcp.setStreamConnector(async (_transport, host) => {
      dialled++;
      return new FakeConnection(host, 'TCP');
    });
    expect(await noTcp.connectionForSize(messageOfSize(endpoint, udp, 2000), udp)).toBe(udp);
    expect(dialled).toBe(0);
  });
});

describe('SipEndpoint as a user agent server', () => {
  function setup() {
    const clock = new ManualClock();
    const endpoint = new SipEndpoint({ viaHost: '127.0.0.1', userAgent: 'test', transactions: { clock, timers: DEFAULT_TIMERS } });
    const seen: ServerTransaction[] = [];
    endpoint.setApplication({
      onRequest: (tx) => {
        seen.push(tx);
        if (tx.request.method === 'CANCEL') tx.reply(endpoint.findInviteTransaction(tx.request) === 'finished' ? 200 : 481);
        else tx.reply(200, 'OK', { toTag: 'pbx' });
      },
      onAck: () => undefined,
    });
    const flow = new FakeConnection('192.0.2.30', 'UDP');
    return { clock, endpoint, seen, flow };
  }

  it('answers an INVITE merged by a forking proxy (same Call-ID, From tag and CSeq, another branch) with 482 (RFC 3261 §8.2.2.2)', () => {
    const clock = new ManualClock();
    const endpoint = new SipEndpoint({ viaHost: '127.0.0.1', userAgent: 'test', transactions: { clock, timers: DEFAULT_TIMERS } });
    const seen: string[] = [];
    // The application is slow to answer: the first INVITE is still open when the copy comes.
    const open: ServerTransaction[] = [];
    endpoint.setApplication({
      onRequest: (tx) => {
        seen.push(tx.request.headers.get('Via') ?? '');
        open.push(tx);
      },
      onAck: () => undefined,
    });
    const flow = new FakeConnection('192.0.2.31', 'UDP');
    const invite = (branch: string) => {
      const request = sipRequest({ method: 'INVITE', uri: 'sip:101@127.0.0.1', from: '<sip:a@pbx.test>;tag=a', to: '<sip:101@pbx.test>', callId: 'merged' });
      request.headers.set('Via', `SIP/2.0/UDP 192.0.2.31:5060;branch=${branch}`);
      return request;
    };
    endpoint.receiveMessage(invite('z9hG4bK-path1'), flow);
    endpoint.receiveMessage(invite('z9hG4bK-path2'), flow);
    expect(seen).toHaveLength(1);
    expect(flow.responses.map((r) => [r.status, r.reason])).toEqual([[482, 'Loop Detected']]);
    // Once the first is answered, the key is free again.
    open[0]!.reply(486, 'Busy Here');
    endpoint.receiveMessage(invite('z9hG4bK-path3'), flow);
    expect(seen).toHaveLength(2);
  });

  it('answers copies of a request from what is left of its transaction once it only lingers, until 64·T1', () => {
    const { clock, endpoint, seen, flow } = setup();
    const options = sipRequest({ method: 'OPTIONS', uri: 'sip:127.0.0.1', from: '<sip:a@pbx.test>;tag=a', to: '<sip:127.0.0.1>' });
    endpoint.receiveMessage(options, flow);
    clock.advance(20_000);
    endpoint.receiveMessage(options, flow);
    expect(seen).toHaveLength(1);
    // The transaction the TU got has handed its lingering over and keeps no timer.
    expect(seen[0]?.state).toBe('completed');
    expect(flow.responses.map((r) => r.status)).toEqual([200, 200]);
    clock.advance(12_200);
    endpoint.receiveMessage(options, flow);
    expect(seen).toHaveLength(2);
  });

  it('absorbs copies of an acknowledged INVITE, and answers a late CANCEL for it with 200 (RFC 3261 §9.2)', () => {
    const { clock, endpoint, seen, flow } = setup();
    const invite = sipRequest({ method: 'INVITE', uri: 'sip:101@127.0.0.1', from: '<sip:a@pbx.test>;tag=a', to: '<sip:101@pbx.test>', callId: 'linger-invite' });
    endpoint.receiveMessage(invite, flow);
    const ack = sipRequest({ method: 'ACK', uri: 'sip:101@127.0.0.1', from: '<sip:a@pbx.test>;tag=a', to: '<sip:101@pbx.test>;tag=pbx', callId: 'linger-invite' });
    endpoint.receiveMessage(ack, flow);
    clock.advance(5_000);
    // The 2xx is not resent after the ACK, but a copy of the INVITE gets it again.
    expect(flow.responses).toHaveLength(1);
    endpoint.receiveMessage(invite, flow);
    expect(flow.responses.map((r) => r.status)).toEqual([200, 200]);
    const cancel = sipRequest({ method: 'CANCEL', uri: 'sip:101@127.0.0.1', from: '<sip:a@pbx.test>;tag=a', to: '<sip:101@pbx.test>', callId: 'linger-invite' });
    cancel.headers.set('Via', invite.headers.get('Via') ?? '');
    endpoint.receiveMessage(cancel, flow);
    expect(flow.responses.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(seen.map((tx) => tx.request.method)).toEqual(['INVITE', 'CANCEL']);
  });
});

describe('SipEndpoint at the edge, with the security layer', () => {
  const malformed = (n: number) =>
    Buffer.from(
      [
        `OPTIONS sip:pbx.test SIP/2.0`,
        `Via: SIP/2.0/UDP 192.0.2.66:5060;branch=z9hG4bK-bad-${n}`,
        'From: <sip:probe@probe.test>;tag=p',
        'To: <sip:pbx.test>',
        `Call-ID: bad-${n}`,
        'CSeq: 1 OPTIONS',
        'Content-Length: 0',
        'Content-Length: 5',
        '',
        '',
      ].join('\r\n'),
    );
  const branchless = Buffer.from(
    ['OPTIONS sip:pbx.test SIP/2.0', 'Via: SIP/2.0/UDP 192.0.2.66:5060', 'From: <sip:probe@probe.test>;tag=p', 'To: <sip:pbx.test>', 'Call-ID: old', 'CSeq: 1 OPTIONS', 'Content-Length: 0', '', ''].join('\r\n'),
  );
  const wellFormed = (n: number) => Buffer.from(malformed(n).toString('latin1').replace('Content-Length: 5\r\n', ''), 'latin1');

  function edge() {
    let now = 1_000_000;
    const security = new SipSecurity({ requestBurst: 3, requestsPerSecond: 1, now: () => now });
    const endpoint = new SipEndpoint({ viaHost: '127.0.0.1', userAgent: 'test', sources: security });
    const dispatched: string[] = [];
    endpoint.setApplication({
      onRequest: (tx) => {
        dispatched.push(tx.request.headers.get('Call-ID') ?? '');
        if (security.guard(tx) === 'pass') tx.reply(200, 'OK');
      },
      onAck: () => undefined,
    });
    return { security, endpoint, dispatched, advance: (ms: number) => (now += ms) };
  }

  it('answers malformed requests from one source only within its request allowance', () => {
    const { endpoint, advance } = edge();
    const flow = new FakeConnection('192.0.2.66', 'UDP');
    for (let n = 0; n < 7; n++) endpoint.receive(malformed(n), flow);
    expect(flow.responses.map((r) => r.status)).toEqual([400, 400, 400]);
    // The allowance refills at its rate: a second later one more is answered.
    advance(1_000);
    endpoint.receive(malformed(7), flow);
    expect(flow.responses.map((r) => `${r.reason} ${r.headers.get('Call-ID')}`).at(-1)).toBe('Bad Request - Multiple Content-Length headers bad-7');
    // Another source has its own allowance.
    const other = new FakeConnection('192.0.2.67', 'UDP');
    endpoint.receive(malformed(9), other);
    expect(other.responses.map((r) => r.status)).toEqual([400]);
  });

  it('reads nothing from a banned source: no answer to good or malformed requests, and none reaches the application', () => {
    const { security, endpoint, dispatched } = edge();
    const flow = new FakeConnection('192.0.2.66', 'UDP');
    security.ban('192.0.2.66');
    endpoint.receive(wellFormed(1), flow);
    endpoint.receive(malformed(2), flow);
    endpoint.receive(branchless, flow);
    expect(flow.sent).toEqual([]);
    expect(dispatched).toEqual([]);
    security.unban('192.0.2.66');
    endpoint.receive(wellFormed(3), flow);
    expect(dispatched).toEqual(['bad-3']);
    expect(flow.responses.map((r) => r.status)).toEqual([200]);
  });

  it('leaves a banned address’s registered flows, its dialogs and its responses alone', () => {
    const security = new SipSecurity({}, { knowsDialog: (request) => request.headers.get('Call-ID') === 'in-call' });
    const endpoint = new SipEndpoint({ viaHost: '127.0.0.1', userAgent: 'test', sources: security });
    const dispatched: string[] = [];
    endpoint.setApplication({
      onRequest: (tx) => {
        dispatched.push(`${tx.request.method} ${tx.request.headers.get('Call-ID')}`);
        if (security.guard(tx) === 'pass') tx.reply(200, 'OK');
      },
      onAck: () => undefined,
    });
    security.ban('192.0.2.66');
    const request = (method: string, callId: string, toTag = '') =>
      Buffer.from(serializeMessage(sipRequest({ method, uri: 'sip:pbx.test', from: '<sip:101@pbx.test>;tag=p', to: `<sip:102@pbx.test>${toTag}`, callId })));

    // A phone whose registration holds its flow goes on as if nothing had happened.
    const registered = new FakeConnection('192.0.2.66', 'UDP');
    registered.once('closed', () => undefined);
    endpoint.receive(request('OPTIONS', 'registered'), registered);
    // Another flow of the address: its out-of-dialog requests are not read, nor requests in unknown dialogs...
    const other = new FakeConnection('192.0.2.66', 'UDP');
    endpoint.receive(request('OPTIONS', 'guess'), other);
    endpoint.receive(request('BYE', 'no-such-call', ';tag=x'), other);
    // ...but a request in a dialog the PBX knows is.
    endpoint.receive(request('BYE', 'in-call', ';tag=x'), other);
    expect(dispatched).toEqual(['OPTIONS registered', 'BYE in-call']);
    expect(registered.responses.map((r) => r.status)).toEqual([200]);
    expect(other.responses.map((r) => `${r.status} ${r.headers.get('Call-ID')}`)).toEqual(['200 in-call']);

    // A response is always read, on whatever flow it comes: the phone's 180 and 200 to our INVITE.
    const invite = sipRequest({ method: 'INVITE', uri: 'sip:102@192.0.2.66', from: '<sip:101@pbx.test>;tag=ours', to: '<sip:102@pbx.test>' });
    invite.headers.remove('Via');
    const heard: number[] = [];
    endpoint.sendRequest(invite, new FakeConnection('192.0.2.66', 'UDP'), (response) => heard.push(response.status));
    const stranger = new FakeConnection('192.0.2.66', 'UDP');
    endpoint.receive(Buffer.from(serializeMessage(answer(invite, 'callee', [], '180 Ringing'))), stranger);
    endpoint.receive(Buffer.from(serializeMessage(answer(invite, 'callee'))), stranger);
    expect(heard).toEqual([180, 200]);
  });
});

describe('SipEndpoint serving RFC 2543 devices (RFC 3261 §17.2.3)', () => {
  /** Wire text as an RFC 2543 device writes it: a Via without a branch, no From tag. */
  const old = (method: string, options: { cseq?: number; cseqMethod?: string; to?: string; branch?: string } = {}) =>
    Buffer.from([
      `${method} sip:101@192.0.2.1 SIP/2.0`,
      `Via: SIP/2.0/UDP 192.0.2.50:5060${options.branch ? `;branch=${options.branch}` : ''}`,
      'From: <sip:alice@old.example>',
      `To: ${options.to ?? '<sip:101@pbx.test>'}`,
      'Call-ID: rfc2543@old.example',
      `CSeq: ${options.cseq ?? 1} ${options.cseqMethod ?? method}`,
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n'));

  function setup(answer: (tx: ServerTransaction) => void) {
    const clock = new ManualClock();
    const endpoint = new SipEndpoint({ viaHost: '192.0.2.1', userAgent: 'test', transactions: { clock, timers: DEFAULT_TIMERS } });
    const seen: ServerTransaction[] = [];
    const acks: SipRequest[] = [];
    endpoint.setApplication({
      onRequest: (tx) => {
        seen.push(tx);
        answer(tx);
      },
      onAck: (request) => acks.push(request),
    });
    return { clock, endpoint, seen, acks, flow: new FakeConnection('192.0.2.50', 'UDP') };
  }

  it('serves a request without a branch, answers its copy from the transaction, and takes another CSeq as new', () => {
    const { endpoint, seen, flow } = setup((tx) => tx.reply(200, 'OK'));
    endpoint.receive(old('OPTIONS'), flow);
    endpoint.receive(old('OPTIONS'), flow);
    expect(seen).toHaveLength(1);
    expect(flow.responses.map((r) => r.status)).toEqual([200, 200]);
    expect(flow.responses[1]?.headers.get('To')).toBe(flow.responses[0]?.headers.get('To'));
    endpoint.receive(old('OPTIONS', { cseq: 2 }), flow);
    expect(seen).toHaveLength(2);
    // RFC 4475 §3.2.1: a branch that is only the cookie carries no identifier, and is matched the same way.
    endpoint.receive(old('OPTIONS', { cseq: 3, branch: 'z9hG4bK' }), flow);
    endpoint.receive(old('OPTIONS', { cseq: 3, branch: 'z9hG4bK' }), flow);
    expect(seen).toHaveLength(3);
  });

  it('matches an INVITE copy, its CANCEL, and the ACK for its failure to the INVITE transaction', () => {
    const { endpoint, seen, acks, flow } = setup((tx) => {
      if (tx.request.method === 'INVITE') tx.reply(180, 'Ringing', { toTag: 'pbx' });
      if (tx.request.method === 'CANCEL') {
        const invite = endpoint.findInviteTransaction(tx.request);
        tx.reply(invite && invite !== 'finished' ? 200 : 481);
        if (invite && invite !== 'finished') invite.reply(487, 'Request Terminated');
      }
    });
    endpoint.receive(old('INVITE'), flow);
    endpoint.receive(old('INVITE'), flow);
    endpoint.receive(old('CANCEL', { cseqMethod: 'CANCEL' }), flow);
    expect(seen.map((tx) => tx.request.method)).toEqual(['INVITE', 'CANCEL']);
    expect(flow.responses.map((r) => `${r.status} ${r.headers.get('CSeq')}`)).toEqual(['180 1 INVITE', '180 1 INVITE', '200 1 CANCEL', '487 1 INVITE']);
    endpoint.receive(old('ACK', { to: '<sip:101@pbx.test>;tag=pbx' }), flow);
    expect(seen[0]?.state).toBe('confirmed');
    expect(acks).toHaveLength(0);
  });

  it('passes the ACK for a 2xx on to the dialog, and stops resending the 2xx', () => {
    const { clock, endpoint, seen, acks, flow } = setup((tx) => tx.reply(200, 'OK', { toTag: 'pbx' }));
    endpoint.receive(old('INVITE'), flow);
    endpoint.receive(old('ACK', { to: '<sip:101@pbx.test>;tag=pbx' }), flow);
    expect(acks).toHaveLength(1);
    clock.advance(10_000);
    expect(flow.responses.map((r) => r.status)).toEqual([200]);
    expect(seen).toHaveLength(1);
  });
});

describe('SipEndpoint answering what is malformed, and only that', () => {
  const text = (lines: string[]) => Buffer.from([...lines, '', ''].join('\r\n'));

  it('answers a request without From, To and Call-ID with 400 to its Via (RFC 4475 §3.3.1)', () => {
    const endpoint = new SipEndpoint({ viaHost: '127.0.0.1', userAgent: 'test' });
    const flow = new FakeConnection('192.0.2.95', 'UDP');
    endpoint.receive(text(['INVITE sip:user@example.com SIP/2.0', 'CSeq: 193942 INVITE', 'Via: SIP/2.0/UDP 192.0.2.95;branch=z9hG4bKkdj.insuf', 'Content-Length: 0']), flow);
    expect(flow.responses.map((r) => [r.status, r.reason, r.headers.get('CSeq'), r.headers.get('Via')])).toEqual([
      [400, 'Bad Request - Missing From', '193942 INVITE', 'SIP/2.0/UDP 192.0.2.95;branch=z9hG4bKkdj.insuf'],
    ]);
    expect(endpoint.faults.count('malformed')).toBe(1);
  });

  it('never answers a malformed response, from a datagram or from a stream', () => {
    const endpoint = new SipEndpoint({ viaHost: '127.0.0.1', userAgent: 'test' });
    const lines = ['Via: SIP/2.0/TCP 192.0.2.7:5060;branch=z9hG4bK-foreign', 'From: <sip:a@example.com>;tag=1', 'To: <sip:b@example.com>;tag=2', 'Call-ID: bad-response', 'CSeq: 1 OPTIONS', 'Max-Forwards: 999', 'Content-Length: 0'];
    const udp = new FakeConnection('192.0.2.7', 'UDP');
    endpoint.receive(text(['SIP/2.0 200 OK', ...lines]), udp);
    // A stream transport hands over what its framer threw, without saying what the message was.
    const tcp = new FakeConnection('192.0.2.7', 'TCP');
    const framer = new SipStreamParser();
    const thrown = (data: Buffer) => {
      try {
        framer.push(data);
      } catch (error) {
        return error;
      }
      throw new Error('the framer took it');
    };
    expect(endpoint.rejectMalformed(thrown(text(['SIP/2.0 200 OK', ...lines])), tcp)).toBe(false);
    expect([...udp.sent, ...tcp.sent]).toEqual([]);
    // The same headers in a request are answered.
    expect(endpoint.rejectMalformed(thrown(text(['OPTIONS sip:127.0.0.1 SIP/2.0', ...lines])), tcp)).toBe(true);
    expect(tcp.responses.map((r) => [r.status, r.reason])).toEqual([[400, 'Bad Request - Invalid Max-Forwards']]);
  });

  it('answers a UDP request whose Via names port 0 with 400 at its source, as if it had asked for rport', () => {
    const endpoint = new SipEndpoint({ viaHost: '127.0.0.1', userAgent: 'test' });
    const seen: string[] = [];
    endpoint.setApplication({ onRequest: (tx) => seen.push(tx.request.method), onAck: () => undefined });
    const flow = new FakeConnection('192.0.2.8', 'UDP');
    endpoint.receive(text(['REGISTER sip:pbx.test SIP/2.0', 'Via: SIP/2.0/UDP 192.0.2.8:0;branch=z9hG4bK-zero', 'From: <sip:101@pbx.test>;tag=a', 'To: <sip:101@pbx.test>', 'Call-ID: zero', 'CSeq: 1 REGISTER', 'Content-Length: 0']), flow);
    expect(seen).toEqual([]);
    expect(flow.responses.map((r) => [r.status, r.reason, r.headers.get('Via')])).toEqual([
      [400, 'Bad Request - Via sent-by port 0', `SIP/2.0/UDP 192.0.2.8:0;branch=z9hG4bK-zero;rport=${flow.remotePort};received=192.0.2.8`],
    ]);
    // With rport the sent-by port does not matter, and the request is served.
    endpoint.receive(text(['OPTIONS sip:pbx.test SIP/2.0', 'Via: SIP/2.0/UDP 192.0.2.8:0;branch=z9hG4bK-zero-rport;rport', 'From: <sip:101@pbx.test>;tag=a', 'To: <sip:pbx.test>', 'Call-ID: zero-rport', 'CSeq: 1 OPTIONS', 'Content-Length: 0']), flow);
    expect(seen).toEqual(['OPTIONS']);
  });
});
