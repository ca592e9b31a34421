/**
 * `offhook-pbx serve`, run from source, when an error escapes every handler in it: a rejection nobody handles
 * and an exception thrown from a timer (injected by a preloaded module on SIGUSR2). The PBX reports both, goes
 * on answering SIP, and SIGTERM still stops it cleanly.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { UdpPeer } from '../support/udp-peer';

const ROOT = resolve(import.meta.dirname, '../..');
const INJECT = join(ROOT, 'tests/support/inject-stray-errors.mjs');

describe('offhook-pbx serve, when an error escapes every handler', () => {
  const cleanups: Array<() => void> = [];
  afterEach(() => {
    for (const cleanup of cleanups.splice(0).reverse()) cleanup();
  });

  it('reports it, goes on answering SIP, and still stops cleanly on SIGTERM', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'offhook-guard-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const args = ['--import', 'tsx', '--import', INJECT, join(ROOT, 'server/cli.ts'), 'serve', '--demo', '--http-port', '0', '--bind', '127.0.0.1', '--media-address', '127.0.0.1', '--data-dir', dataDir, '--sip-udp-port', '0', '--sip-tcp-port', 'off', '--sip-tls-port', 'off'];
    const server = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, OFFHOOK_LOG_LEVEL: 'error' } });
    cleanups.push(() => server.kill('SIGKILL'));
    let out = '';
    let err = '';
    server.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    server.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    const exited = new Promise<number | null>((resolveExit) => server.once('exit', (code) => resolveExit(code)));

    await expect.poll(() => /SIP over UDP\s+sip:\S+:(\d+);transport=udp/.exec(out)?.[1], { timeout: 20_000 }).toBeDefined();
    const udpPort = Number(/SIP over UDP\s+sip:\S+:(\d+);transport=udp/.exec(out)?.[1]);
    server.kill('SIGUSR2');
    await expect.poll(() => err, { timeout: 10_000 }).toContain('an exception reached the process');
    expect(err).toContain('a promise was rejected and nobody handled it');

    const phone = await UdpPeer.open();
    cleanups.push(() => phone.close());
    phone.send(['OPTIONS sip:127.0.0.1 SIP/2.0', `Via: SIP/2.0/UDP 127.0.0.1:${phone.port};branch=z9hG4bK-guarded`, 'From: <sip:probe@127.0.0.1>;tag=g', 'To: <sip:127.0.0.1>', 'Call-ID: guarded', 'CSeq: 1 OPTIONS', 'Content-Length: 0', '', ''].join('\r\n'), udpPort);
    expect((await phone.next(5_000)).status).toBe(200);

    server.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(out).toContain('SIGTERM: hanging up calls and stopping');
  }, 60_000);
});
