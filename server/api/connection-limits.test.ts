/**
 * The HTTP side's connection limits on real sockets on 127.0.0.1: a share per address counted from the
 * accept, idle connections closed, an HTTPS handshake that must end in time.
 */
import { connect } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { createSelfSigned } from '../util/tls-credentials';
import { openTestDatabase } from '../store/test-support';
import type { TestDatabase } from '../store/test-support';
import { buildApp } from './app';
import { DEFAULT_HTTP_LIMITS, httpConnectionQuota } from './connection-limits';
import type { HttpLimits } from './connection-limits';

async function until(check: () => boolean, what: string, timeoutMs = 3_000): Promise<void> {
  for (let waited = 0; !check(); waited += 20) {
    if (waited >= timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('HTTP connection limits', () => {
  let store: TestDatabase | undefined;
  const apps: FastifyInstance[] = [];
  const sockets: Socket[] = [];

  async function serve(limits: Partial<HttpLimits>, https = false): Promise<{ port: number; quota: ReturnType<typeof httpConnectionQuota> }> {
    store ??= await openTestDatabase('memory');
    const all = { ...DEFAULT_HTTP_LIMITS, ...limits };
    const quota = httpConnectionQuota(all);
    const app = await buildApp({ db: store.db, version: 'test', connections: { limits: all, quota }, ...(https ? { https: await createSelfSigned('127.0.0.1') } : {}) });
    apps.push(app);
    await app.listen({ port: 0, host: '127.0.0.1' });
    return { port: (app.server.address() as AddressInfo).port, quota };
  }

  /** A connection that sends nothing, and whether the server has closed it. */
  async function idle(port: number): Promise<{ socket: Socket; closed: () => boolean }> {
    const socket = connect(port, '127.0.0.1');
    sockets.push(socket);
    let closed = false;
    socket.on('close', () => (closed = true));
    socket.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    return { socket, closed: () => closed };
  }

  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.destroy();
    await Promise.all(apps.splice(0).map((app) => app.close()));
    await store?.close();
    store = undefined;
  });

  it('takes at most the address share of connections, counted from the accept, and again once one closes', async () => {
    const { port, quota } = await serve({ maxConnectionsPerAddress: 2 });
    const first = await idle(port);
    await idle(port);
    await until(() => quota.size === 2, 'both connections counted');
    const third = await idle(port);
    await until(third.closed, 'the third connection to be refused');

    first.socket.destroy();
    await until(() => quota.size === 1, 'the closed connection uncounted');
    const health = await fetch(`http://127.0.0.1:${port}/api/v1/health`);
    expect(health.status).toBe(200);
  });

  it('closes a connection that never sends a byte once the idle timeout passes', async () => {
    const { port } = await serve({ idleTimeoutMs: 200 });
    const silent = await idle(port);
    await until(silent.closed, 'the idle connection to be closed');
  });

  it('closes an HTTPS connection that never sends its ClientHello once the handshake timeout passes', async () => {
    const { port } = await serve({ handshakeTimeoutMs: 200, idleTimeoutMs: 60_000 }, true);
    const silent = await idle(port);
    await until(silent.closed, 'the silent HTTPS connection to be closed');
  });

  it('gives a request its whole time, headers included', async () => {
    store = await openTestDatabase('memory');
    const limits = { ...DEFAULT_HTTP_LIMITS, requestTimeoutMs: 7_000 };
    const app = await buildApp({ db: store.db, version: 'test', connections: { limits, quota: httpConnectionQuota(limits) } });
    apps.push(app);
    expect(app.server.requestTimeout).toBe(7_000);
    expect(app.server.headersTimeout).toBe(7_000);
  });
});
