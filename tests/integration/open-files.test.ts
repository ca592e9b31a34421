/**
 * The PBX in a process of its own with a low open-file limit (`prlimit --nofile`): SIP TCP and TLS
 * connections, from one address and from many, take no more than the cap it derives from the limit, and the
 * HTTP API and SIP over UDP keep answering with the stream connections at their cap.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { get } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readResponse, sipRequest } from '../support/sip-text';

const ROOT = resolve(import.meta.dirname, '../..');
const OPEN_FILES = 300;
const RESERVE = 150;
/** Starting from source compiles on the fly: generous, for a loaded machine. */
const START_TIMEOUT_MS = 30_000;

interface Started {
  child: ChildProcess;
  output: () => string;
  httpUrl: string;
  udpPort: number;
  tcpPort: number;
  tlsPort: number;
  cap: number;
}

async function startUnderLimit(dataDir: string): Promise<Started> {
  const args = [
    `--nofile=${OPEN_FILES}:${OPEN_FILES}`,
    process.execPath, '--import', 'tsx', join(ROOT, 'server/cli.ts'), 'serve', '--demo',
    '--http-port', '0', '--bind', '127.0.0.1', '--media-address', '127.0.0.1', '--data-dir', dataDir,
    '--sip-udp-port', '0', '--sip-tcp-port', '0', '--sip-tls-port', '0', '--open-files-reserve', `${RESERVE}`,
    // One address may take every descriptor there is: only the cap from the open-file limit stands in its way.
    '--sip-max-connections-per-address', `${10 * OPEN_FILES}`,
    // The silent TLS connections below must keep their place for the whole test.
    '--tls-handshake-timeout', '60',
  ];
  const child = spawn('prlimit', args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, OFFHOOK_LOG_LEVEL: 'warn' } });
  let out = '';
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  await new Promise<void>((ready, fail) => {
    const timer = setTimeout(() => fail(new Error(`the PBX did not start within ${START_TIMEOUT_MS} ms:\n${out}`)), START_TIMEOUT_MS);
    child.stdout?.on('data', () => {
      if (!/HTTP\s+at most/.test(out)) return;
      clearTimeout(timer);
      ready();
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      fail(new Error(`the PBX exited (${code ?? signal}) before it started:\n${out}`));
    });
  });
  const port = (transport: string) => Number(new RegExp(`SIP over ${transport}\\s+sip:[^:]+:(\\d+)`).exec(out)?.[1]);
  return {
    child,
    output: () => out,
    httpUrl: /REST API\s+(http:\/\/\S+)\/api\/v1/.exec(out)?.[1] ?? '',
    udpPort: port('UDP'),
    tcpPort: port('TCP'),
    tlsPort: port('TLS'),
    cap: Number(/SIP TCP\/TLS\s+at most (\d+) connections/.exec(out)?.[1]),
  };
}

/** A connection that says nothing (to the TLS port: no ClientHello), and whether the PBX closed it. */
interface Held {
  socket: Socket;
  closed: boolean;
}

async function open(port: number, localAddress: string): Promise<Held> {
  const socket = connect({ port, host: '127.0.0.1', localAddress });
  const held: Held = { socket, closed: false };
  socket.on('error', () => undefined);
  socket.on('close', () => (held.closed = true));
  await new Promise<void>((resolveOpen) => {
    socket.once('connect', resolveOpen);
    socket.once('close', resolveOpen);
  });
  return held;
}

async function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  for (let waited = 0; !check(); waited += 25) {
    if (waited >= timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolveWait) => setTimeout(resolveWait, 25));
  }
}

async function udpOptions(port: number): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolveBind) => socket.bind(0, '127.0.0.1', () => resolveBind()));
  try {
    return await new Promise<number>((resolveStatus, reject) => {
      const timer = setTimeout(() => reject(new Error('no answer to OPTIONS over UDP')), 5_000);
      socket.once('message', (data) => {
        clearTimeout(timer);
        resolveStatus(readResponse(data.toString('utf8')).status);
      });
      socket.send(sipRequest({ method: 'OPTIONS', via: `127.0.0.1:${socket.address().port}`, viaParams: ';rport' }), port, '127.0.0.1');
    });
  } finally {
    socket.close();
  }
}

/** GET /api/v1/health on a connection of its own (no pooled one that was open before), which the PBX must accept. */
async function health(httpUrl: string): Promise<number> {
  return new Promise<number>((resolveStatus, reject) => {
    const request = get(`${httpUrl}/api/v1/health`, { agent: false, timeout: 5_000 }, (response) => {
      response.resume();
      resolveStatus(response.statusCode ?? 0);
    });
    request.on('timeout', () => request.destroy(new Error('no answer from the HTTP API')));
    request.on('error', reject);
  });
}

describe.skipIf(process.platform !== 'linux')('stream connections under a low open-file limit (Linux only: prlimit)', () => {
  let dataDir: string;
  let pbx: Started | undefined;
  const connections: Held[] = [];

  const closeAll = async () => {
    for (const held of connections.splice(0)) held.socket.destroy();
    // The PBX uncounts them as their close reaches it.
    await new Promise((resolveWait) => setTimeout(resolveWait, 300));
  };

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'offhook-open-files-'));
    pbx = await startUnderLimit(dataDir);
  }, START_TIMEOUT_MS + 5_000);

  afterAll(async () => {
    await closeAll();
    if (pbx && pbx.child.exitCode === null) {
      const exited = new Promise((resolveExit) => pbx?.child.once('exit', resolveExit));
      pbx.child.kill('SIGTERM');
      await exited;
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('derives the cap from the limit, less the reserve', () => {
    expect(pbx?.cap, pbx?.output()).toBe(OPEN_FILES - RESERVE);
    expect(pbx?.output()).toMatch(new RegExp(`open files\\s+${OPEN_FILES} \\(hard ${OPEN_FILES}\\)`));
  });

  it('takes connections from one address up to the cap, as many as there are descriptors, and HTTP and UDP still answer', { timeout: 60_000 }, async () => {
    const started = pbx as Started;
    for (let i = 0; i < OPEN_FILES; i++) connections.push(await open(i % 2 === 0 ? started.tcpPort : started.tlsPort, '127.0.0.2'));
    await until(() => connections.filter((held) => held.closed).length >= OPEN_FILES - started.cap, 'the connections beyond the cap to be closed');
    expect(connections.filter((held) => !held.closed).length).toBe(started.cap);

    expect(await health(started.httpUrl)).toBe(200);
    expect(await udpOptions(started.udpPort)).toBeGreaterThanOrEqual(200);
    await closeAll();
  });

  it('does the same for connections from many addresses', { timeout: 60_000 }, async () => {
    const started = pbx as Started;
    for (let i = 0; i < OPEN_FILES; i++) connections.push(await open(i % 3 === 0 ? started.tlsPort : started.tcpPort, `127.0.1.${(i % 50) + 1}`));
    await until(() => connections.filter((held) => held.closed).length >= OPEN_FILES - started.cap, 'the connections beyond the cap to be closed');
    expect(connections.filter((held) => !held.closed).length).toBe(started.cap);

    expect(await health(started.httpUrl)).toBe(200);
    expect(await udpOptions(started.udpPort)).toBeGreaterThanOrEqual(200);
    await closeAll();

    // Once they are gone, a new connection is taken again.
    const again = await open(started.tcpPort, '127.0.0.3');
    connections.push(again);
    await new Promise((resolveWait) => setTimeout(resolveWait, 300));
    expect(again.closed).toBe(false);
  });
});
