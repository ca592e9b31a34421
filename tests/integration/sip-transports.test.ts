/**
 * The PBX in-process with SIP over UDP, TCP and TLS on ephemeral ports: a device registers over each with
 * digest authentication, and requests the PBX originates reach it back over the flow it registered on.
 */
import { createSocket } from 'node:dgram';
import type { Socket as UdpSocket } from 'node:dgram';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionResponse } from '../../shared/api';
import { parseServeConfig } from '../../server/config';
import { startPbx } from '../../server/pbx';
import type { RunningPbx } from '../../server/pbx';
import { SipHeaders } from '../../server/sip/syntax/message';
import { aorKey } from '../../server/presence/registrar';
import { findOrganizationByDomain } from '../../server/store/organizations';
import { readResponse, sipRequest, splitStream } from '../support/sip-text';
import type { ResponseText } from '../support/sip-text';
import { digestAuthorization } from '../support/sip-ws-client';

const DOMAIN = 'demo.offhook.test';

/** One device's wire: a UDP socket or a TCP connection, with everything it receives in order. */
interface Wire {
  port: number;
  send(text: string): void;
  next(): Promise<string>;
  close(): void;
}

function queue(): { push(text: string): void; next(): Promise<string> } {
  const inbox: string[] = [];
  const waiting: Array<(text: string) => void> = [];
  return {
    push(text) {
      const wake = waiting.shift();
      if (wake) wake(text);
      else inbox.push(text);
    },
    next() {
      const queued = inbox.shift();
      if (queued !== undefined) return Promise.resolve(queued);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('nothing arrived')), 5_000);
        waiting.push((text) => {
          clearTimeout(timer);
          resolve(text);
        });
      });
    },
  };
}

async function udpWire(pbxPort: number): Promise<Wire> {
  const socket: UdpSocket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  const q = queue();
  socket.on('message', (data) => q.push(data.toString('utf8')));
  return { port: socket.address().port, send: (text) => socket.send(text, pbxPort, '127.0.0.1'), next: q.next, close: () => socket.close() };
}

async function tcpWire(pbxPort: number): Promise<Wire> {
  const socket: Socket = connect(pbxPort, '127.0.0.1');
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const q = queue();
  let buffered = '';
  socket.on('data', (chunk: Buffer) => {
    const { messages, rest } = splitStream(buffered + chunk.toString('utf8'));
    buffered = rest;
    for (const message of messages) q.push(message);
  });
  return { port: socket.localPort ?? 0, send: (text) => socket.write(text), next: q.next, close: () => socket.destroy() };
}

/** The next message that is not a provisional response. */
async function finalResponse(wire: Wire): Promise<ResponseText> {
  for (;;) {
    const response = readResponse(await wire.next());
    if (response.status >= 200) return response;
  }
}

describe('SIP over UDP, TCP and TLS', () => {
  let pbx: RunningPbx;
  let dataDir: string;
  let organizationId: number;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'offhook-transports-'));
    const argv = ['--demo', '--http-port', '0', '--bind', '127.0.0.1', '--data-dir', dataDir, '--sip-udp-port', '0', '--sip-tcp-port', '0', '--sip-tls-port', '0'];
    pbx = await startPbx(parseServeConfig(argv, {}, { webRoot: join(dataDir, 'no-web-phone') }));
    organizationId = (await findOrganizationByDomain(pbx.db, DOMAIN))?.id ?? 0;
  });

  afterAll(async () => {
    await pbx?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function sipPassword(extension: string, password: string): Promise<string> {
    const response = await fetch(`${pbx.httpUrl}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ extension, password }),
    });
    return ((await response.json()) as SessionResponse).sip.password;
  }

  async function register(wire: Wire, transport: 'UDP' | 'TCP', extension: string, password: string): Promise<ResponseText> {
    const common = {
      method: 'REGISTER',
      uri: `sip:${DOMAIN}`,
      via: `127.0.0.1:${wire.port}`,
      viaTransport: transport,
      viaParams: ';rport',
      from: `<sip:${extension}@${DOMAIN}>;tag=reg${extension}`,
      to: `<sip:${extension}@${DOMAIN}>`,
      callId: `reg-${transport}-${extension}@test`,
    } as const;
    const contact = `Contact: <sip:${extension}@127.0.0.1:${wire.port};transport=${transport.toLowerCase()}>`;
    wire.send(sipRequest({ ...common, cseq: 1, headers: [contact, 'Expires: 600'] }));
    const challenge = await finalResponse(wire);
    expect(challenge.status).toBe(401);
    const authorization = digestAuthorization({
      challenge: challenge.headerAll('WWW-Authenticate')[0] ?? '',
      method: 'REGISTER',
      uri: `sip:${DOMAIN}`,
      username: extension,
      password: await sipPassword(extension, password),
    });
    wire.send(sipRequest({ ...common, cseq: 2, headers: [contact, 'Expires: 600', `Authorization: ${authorization}`] }));
    return finalResponse(wire);
  }

  /** The PBX sends OPTIONS to the user's newest binding, as the call engine sends an INVITE. */
  function optionsFromPbx(extension: string): { statuses: number[] } {
    const binding = pbx.sip.registrar.lookup(aorKey(organizationId, extension))[0];
    if (!binding) throw new Error(`${extension} has no binding`);
    const headers = new SipHeaders([
      ['From', `<sip:pbx@${DOMAIN}>;tag=probe`],
      ['To', `<sip:${extension}@${DOMAIN}>`],
      ['Call-ID', `probe-${extension}@pbx`],
      ['CSeq', '1 OPTIONS'],
      ['Contact', pbx.sip.endpoint.contactFor(binding.connection)],
    ]);
    const statuses: number[] = [];
    pbx.sip.endpoint.sendRequest({ kind: 'request', method: 'OPTIONS', uri: `sip:${extension}@127.0.0.1`, headers, body: Buffer.alloc(0) }, binding.connection, (r) =>
      statuses.push(r.status),
    );
    return { statuses };
  }

  it('listens on each transport and made a self-signed certificate for the demo', () => {
    expect(pbx.sipPorts.udp).toBeGreaterThan(0);
    expect(pbx.sipPorts.tcp).toBeGreaterThan(0);
    expect(pbx.sipPorts.tls).toBeGreaterThan(0);
    expect(existsSync(join(dataDir, 'tls', 'demo-cert.pem'))).toBe(true);
  });

  it('registers a device over UDP and reaches it back over the same flow', async () => {
    const wire = await udpWire(pbx.sipPorts.udp ?? 0);
    try {
      const ok = await register(wire, 'UDP', '103', 'carol-103');
      expect(ok.status).toBe(200);
      expect(ok.header('Via')).toContain(`rport=${wire.port};received=127.0.0.1`);

      const probe = optionsFromPbx('103');
      const arrived = await wire.next();
      expect(arrived.split('\r\n')[0]).toBe('OPTIONS sip:103@127.0.0.1 SIP/2.0');
      expect(arrived).toContain(`\r\nVia: SIP/2.0/UDP 127.0.0.1:${pbx.sipPorts.udp};branch=`);
      expect(arrived).toContain(`\r\nContact: <sip:pbx@127.0.0.1:${pbx.sipPorts.udp};transport=udp>`);
      const via = /\r\nVia: ([^\r]+)/.exec(arrived)?.[1] ?? '';
      wire.send(['SIP/2.0 200 OK', `Via: ${via}`, `From: <sip:pbx@${DOMAIN}>;tag=probe`, `To: <sip:103@${DOMAIN}>;tag=dev`, 'Call-ID: probe-103@pbx', 'CSeq: 1 OPTIONS', 'Content-Length: 0', '', ''].join('\r\n'));
      await expect.poll(() => probe.statuses).toEqual([200]);
    } finally {
      wire.close();
    }
  });

  it('registers a device over TCP and sends to it over the connection it registered on', async () => {
    const wire = await tcpWire(pbx.sipPorts.tcp ?? 0);
    try {
      expect((await register(wire, 'TCP', '102', 'bob-102')).status).toBe(200);
      optionsFromPbx('102');
      const arrived = await wire.next();
      expect(arrived).toContain(`\r\nVia: SIP/2.0/TCP 127.0.0.1:${pbx.sipPorts.tcp};branch=`);
      expect(arrived).toContain(`\r\nContact: <sip:pbx@127.0.0.1:${pbx.sipPorts.tcp};transport=tcp>`);
    } finally {
      wire.close();
    }
    // Registered without outbound, the device named where it listens: the binding outlives the connection,
    // and the PBX opens a new one to that Contact when it next needs the device (RFC 3261 §18.1.1). Nothing
    // listens there any more, so the attempt fails and the binding's connection stays closed.
    const [binding] = pbx.sip.registrar.lookup(aorKey(organizationId, '102'));
    expect(binding).toBeDefined();
    await expect.poll(() => binding!.connection.isOpen).toBe(false);
    await expect(pbx.sip.registrar.connectionFor(binding!)).rejects.toThrow();
  });

  /** A MESSAGE from `extension` over `wire` to `to`, with the 401/407 answered; resolves with the final answer. */
  async function message(wire: Wire, extension: string, password: string, to: string, body: string): Promise<ResponseText> {
    const common = {
      method: 'MESSAGE',
      uri: `sip:${to}@${DOMAIN}`,
      via: `127.0.0.1:${wire.port}`,
      viaParams: ';rport',
      from: `<sip:${extension}@${DOMAIN}>;tag=msg${extension}`,
      to: `<sip:${to}@${DOMAIN}>`,
      callId: `msg-${Math.random().toString(36).slice(2)}@test`,
      body,
    } as const;
    wire.send(sipRequest({ ...common, cseq: 1, headers: ['Content-Type: text/plain'] }));
    const challenge = await finalResponse(wire);
    const proxy = challenge.status === 407;
    expect([401, 407]).toContain(challenge.status);
    const authorization = digestAuthorization({
      challenge: challenge.headerAll(proxy ? 'Proxy-Authenticate' : 'WWW-Authenticate').find((c) => /algorithm=MD5/.test(c)) ?? '',
      method: 'MESSAGE',
      uri: common.uri,
      username: extension,
      password: await sipPassword(extension, password),
    });
    wire.send(sipRequest({ ...common, cseq: 2, headers: ['Content-Type: text/plain', `${proxy ? 'Proxy-Authorization' : 'Authorization'}: ${authorization}`] }));
    return finalResponse(wire);
  }

  /** Answers a request the PBX sent with 200, over the wire it came on. */
  function accept(request: string, reply: (text: string) => void): void {
    const header = (name: string) => new RegExp(`\r\n${name}: ([^\r]+)`).exec(request)?.[1] ?? '';
    reply(['SIP/2.0 200 OK', `Via: ${header('Via')}`, `From: ${header('From')}`, `To: ${header('To')};tag=dev`, `Call-ID: ${header('Call-ID')}`, `CSeq: ${header('CSeq')}`, 'Content-Length: 0', '', ''].join('\r\n'));
  }

  it('sends a request too large for UDP over TCP where a UDP device also listens, and over UDP where it does not (RFC 3261 §18.1.1)', async () => {
    const alice = await udpWire(pbx.sipPorts.udp ?? 0);
    const carol = await udpWire(pbx.sipPorts.udp ?? 0);
    const bob = await udpWire(pbx.sipPorts.udp ?? 0);
    // Carol's phone listens for TCP on the port it registered from over UDP, as RFC 3261 §18.2.1 asks.
    const carolTcp = queue();
    const server = createServer((socket) => {
      let buffered = '';
      socket.on('data', (chunk: Buffer) => {
        const { messages, rest } = splitStream(buffered + chunk.toString('utf8'));
        buffered = rest;
        for (const text of messages) {
          carolTcp.push(text);
          accept(text, (reply) => socket.write(reply));
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(carol.port, '127.0.0.1', resolve));
    try {
      expect((await register(carol, 'UDP', '103', 'carol-103')).status).toBe(200);
      expect((await register(bob, 'UDP', '102', 'bob-102')).status).toBe(200);
      const long = 'Minutes of the Monday meeting: '.padEnd(1_200, '.');

      // A short message stays on UDP.
      const short = message(alice, '101', 'alice-101', '103', 'Lunch?');
      const overUdp = await carol.next();
      expect(overUdp.split('\r\n')[0]).toMatch(/^MESSAGE sip:103@127\.0\.0\.1:\d+;transport=udp SIP\/2\.0$/);
      expect(overUdp).toContain(`\r\nVia: SIP/2.0/UDP 127.0.0.1:${pbx.sipPorts.udp};branch=`);
      accept(overUdp, carol.send);
      expect((await short).status).toBe(200);

      // A long one goes over TCP, and its answer comes back that way.
      const large = message(alice, '101', 'alice-101', '103', long);
      const overTcp = await carolTcp.next();
      expect(Buffer.byteLength(overTcp)).toBeGreaterThan(1300);
      expect(overTcp.split('\r\n')[0]).toMatch(/^MESSAGE sip:103@/);
      expect(overTcp).toContain(`\r\nVia: SIP/2.0/TCP 127.0.0.1:${pbx.sipPorts.tcp};branch=`);
      expect(overTcp.endsWith(long)).toBe(true);
      expect((await large).status).toBe(200);

      // Bob's phone refuses TCP: the long message reaches it over UDP after all.
      const fallback = message(alice, '101', 'alice-101', '102', long);
      const toBob = await bob.next();
      expect(toBob).toContain(`\r\nVia: SIP/2.0/UDP 127.0.0.1:${pbx.sipPorts.udp};branch=`);
      expect(toBob.endsWith(long)).toBe(true);
      accept(toBob, bob.send);
      expect((await fallback).status).toBe(200);
    } finally {
      server.close();
      for (const wire of [alice, carol, bob]) wire.close();
    }
  });

  it('answers OPTIONS over UDP and TCP', async () => {
    const wires = [['UDP', () => udpWire(pbx.sipPorts.udp ?? 0)], ['TCP', () => tcpWire(pbx.sipPorts.tcp ?? 0)]] as const;
    for (const [transport, open] of wires) {
      const wire = await open();
      try {
        wire.send(sipRequest({ method: 'OPTIONS', uri: `sip:${DOMAIN}`, via: `127.0.0.1:${wire.port}`, viaTransport: transport }));
        const ok = await finalResponse(wire);
        expect(ok.status).toBe(200);
        expect(ok.header('Allow')).toContain('INVITE');
      } finally {
        wire.close();
      }
    }
  });
});
