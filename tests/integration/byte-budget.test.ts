/**
 * Large requests from many addresses, each address within its request limits, against the real PBX over UDP
 * and TCP: what the PBX holds of them stays within its byte budget (the endpoint's own count, not the
 * process's memory), the rest are refused with 503, and a desk phone at another address registers all the
 * while.
 */
import { createSocket } from 'node:dgram';
import type { Socket as UdpSocket } from 'node:dgram';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningPbx } from '../../server/pbx';
import { MAX_STREAM_MESSAGE_BYTES } from '../../server/sip/transport/stream-transport';
import { readResponse, sipRequest, splitStream } from '../support/sip-text';
import { deskPassword, DOMAIN, startUdpPbx } from '../support/udp-pbx';
import { UdpDeskPhone } from '../support/udp-desk-phone';

const ADDRESSES = Array.from({ length: 40 }, (_, i) => `127.0.0.${i + 2}`);
const PER_ADDRESS = 128 * 1024;
const TOTAL = 12 * 1024 * 1024;
/** Requests each address sends over each transport, one after the other. */
const REQUESTS = 8;
const BODY = `v=0\r\n${'a=x-padding:'.padEnd(60_000, 'p')}\r\n`;
/** A datagram lost in a full receive buffer is sent again, as a phone would (Timer A), this many times at most. */
const UDP_TRIES = 20;

function invite(via: string, transport: 'UDP' | 'TCP', callId: string): string {
  return sipRequest({ method: 'INVITE', uri: `sip:102@${DOMAIN}`, via, viaTransport: transport, callId, from: `<sip:101@${DOMAIN}>;tag=flood`, to: `<sip:102@${DOMAIN}>`, headers: ['Content-Type: application/sdp'], body: BODY });
}

/** Sends REQUESTS large INVITEs over UDP from `address`, each once answered (or tried UDP_TRIES times); returns the statuses. */
async function floodUdp(address: string, pbxPort: number): Promise<number[]> {
  const socket: UdpSocket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, address, () => resolve()));
  const answered = new Map<string, number>();
  socket.on('message', (data) => {
    const response = readResponse(data.toString('utf8'));
    const callId = response.header('Call-ID') ?? '';
    if (!answered.has(callId)) answered.set(callId, response.status);
  });
  try {
    for (let i = 0; i < REQUESTS; i++) {
      const callId = `udp-${address}-${i}`;
      const text = invite(`${address}:${socket.address().port}`, 'UDP', callId);
      for (let tries = 0; tries < UDP_TRIES && !answered.has(callId); tries++) {
        socket.send(text, pbxPort, '127.0.0.1');
        for (let waited = 0; waited < 300 && !answered.has(callId); waited += 10) await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }
  } finally {
    socket.close();
  }
  return [...answered.values()];
}

/** The same over one TCP connection; stops early if the PBX closes it. The socket is left open, holding its place. */
async function floodTcp(address: string, pbxPort: number, sockets: Socket[]): Promise<number[]> {
  const socket = connect({ port: pbxPort, host: '127.0.0.1', localAddress: address });
  sockets.push(socket);
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  socket.on('error', () => undefined);
  let buffered = '';
  let closed = false;
  const statuses: number[] = [];
  socket.on('data', (chunk: Buffer) => {
    const { messages, rest } = splitStream(buffered + chunk.toString('utf8'));
    buffered = rest;
    for (const message of messages) {
      const response = readResponse(message);
      if (response.status >= 200) statuses.push(response.status);
    }
  });
  socket.on('close', () => (closed = true));
  for (let i = 0; i < REQUESTS && !closed; i++) {
    socket.write(invite(`${address}:${socket.localPort ?? 0}`, 'TCP', `tcp-${address}-${i}`));
    for (let waited = 0; waited < 10_000 && statuses.length <= i && !closed; waited += 10) await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return statuses;
}

describe('the byte budget against large requests from many addresses', () => {
  let pbx: RunningPbx;
  let dataDir: string;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    ({ pbx, dataDir } = await startUdpPbx('byte-budget', ['--sip-tcp-port', '0', '--sip-max-held-bytes-per-address', `${PER_ADDRESS}`, '--sip-max-held-bytes', `${TOTAL}`]));
  });

  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await pbx.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('holds what each address sends within its share, refuses the rest with 503, and a phone elsewhere still registers', { timeout: 60_000 }, async () => {
    const udpPort = pbx.sipPorts.udp ?? 0;
    const tcpPort = pbx.sipPorts.tcp ?? 0;
    const held = pbx.sip.endpoint.heldBytes;
    const results = await Promise.all(ADDRESSES.flatMap((address) => [floodUdp(address, udpPort), floodTcp(address, tcpPort, sockets)]));
    const statuses = results.flat();

    // Every address sent far more than its share; the INVITEs held wait out Timer H (32 s) unacknowledged.
    const attempted = ADDRESSES.length * 2 * REQUESTS * BODY.length;
    expect(attempted).toBeGreaterThan(30 * 1024 * 1024);
    expect(statuses.filter((status) => status === 503).length).toBeGreaterThan(ADDRESSES.length * REQUESTS);
    expect(statuses.filter((status) => status === 407 || status === 401).length).toBeGreaterThanOrEqual(ADDRESSES.length);
    // Each address within its share, but for what one TCP read can bring beyond it before the connection stops reading.
    expect(held.peak).toBeLessThanOrEqual(ADDRESSES.length * (PER_ADDRESS + MAX_STREAM_MESSAGE_BYTES));
    for (const address of ADDRESSES) expect(held.of(address)).toBeLessThanOrEqual(PER_ADDRESS + MAX_STREAM_MESSAGE_BYTES);
    expect(held.total).toBeGreaterThan(0);

    const desk = await UdpDeskPhone.start(udpPort, '101', DOMAIN);
    try {
      expect((await desk.register(deskPassword('101'))).status).toBe(200);
    } finally {
      desk.close();
    }
  });
});
