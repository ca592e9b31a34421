/**
 * Event latency: from `publish()` at the PBX to the event handled in an app (received over the WebSocket,
 * parsed and checked against the shared schema), with the PBX running as it does in production (its HTTP app,
 * SQLite in a data folder with WAL, the store written before the send). Publisher and app share this process
 * and its clock, over loopback.
 *
 * Beside it, in the same run, the reference: the same frame sent over a bare WebSocket server to a bare client
 * and parsed the same way, which is what the loopback and the socket cost without the PBX. The difference is
 * what storing and routing an event adds.
 *
 * Two loads: one app, events one at a time; and a fan-out, one event addressed to BENCH_EVENT_FANOUT users each
 * with a stream open, timed to the last of them to handle it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { WebSocket, WebSocketServer } from 'ws';
import type { CallEvent, ServerMessage } from '../shared/events';
import { parseServerMessage } from '../shared/events';
import { parseServeConfig } from '../server/config';
import { startPbx } from '../server/pbx';
import { ensureOrganization } from '../server/store/organizations';
import { createUser } from '../server/store/users';
import { TestEventStream } from '../tests/support/events-client';

export const EVENT_LATENCY_TARGET_MS = 50;

export interface EventLatencyFigures {
  samples: number;
  fanout: number;
  single: { medianMs: number; p95Ms: number; referenceMedianMs: number; referenceP95Ms: number };
  fanoutRun: { medianMs: number; p95Ms: number; referenceMedianMs: number; referenceP95Ms: number };
}

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}

const round = (ms: number) => Number(ms.toFixed(3));

function callEvent(n: number): CallEvent {
  return {
    type: 'call',
    callId: `bench-${n}`,
    state: n % 2 ? 'ringing' : 'answered',
    parties: [
      { extension: '101', name: 'Alice Adams', role: 'caller' },
      { extension: '102', name: 'Bob Brown', role: 'callee' },
    ],
    leg: { id: `leg-${n}`, sipCallId: `bench-${n}@127.0.0.1` },
  };
}

async function signIn(httpUrl: string, extension: string, password: string): Promise<{ token: string; userId: number; organizationId: number }> {
  const response = await fetch(`${httpUrl}/api/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ extension, password }) });
  if (response.status !== 201) throw new Error(`sign-in of ${extension} failed: ${response.status}`);
  const body = (await response.json()) as { token: string; user: { id: number; organization: { id: number } } };
  return { token: body.token, userId: body.user.id, organizationId: body.user.organization.id };
}

/** The time at which the `count`-th event since `expect` was handled; one waiter at a time. */
class Arrivals {
  private waiting: { left: number; done: (at: number) => void } | undefined;
  expect(count: number): Promise<number> {
    return new Promise((done) => (this.waiting = { left: count, done }));
  }
  arrived(): void {
    if (!this.waiting) return;
    if (--this.waiting.left === 0) {
      const { done } = this.waiting;
      this.waiting = undefined;
      done(performance.now());
    }
  }
}

/** The reference: a bare WebSocket server and `clients` bare clients, the same frames, parsed the same way. */
async function reference(samples: number, clients: number): Promise<number[]> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const arrivals = new Arrivals();
  const sockets: WebSocket[] = [];
  const accepted = new Promise<void>((resolve) => {
    server.on('connection', () => {
      if (server.clients.size === clients) resolve();
    });
  });
  for (let i = 0; i < clients; i++) {
    const socket = new WebSocket(`ws://127.0.0.1:${port}`);
    socket.on('message', (data) => {
      if (parseServerMessage(data.toString())?.kind === 'event') arrivals.arrived();
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    sockets.push(socket);
  }
  await accepted;
  const latencies: number[] = [];
  for (let n = 1; n <= samples; n++) {
    const arrived = arrivals.expect(clients);
    const start = performance.now();
    const at = new Date().toISOString();
    for (const client of server.clients) {
      const message: ServerMessage = { kind: 'event', seq: n, at, event: callEvent(n) };
      client.send(JSON.stringify(message));
    }
    latencies.push((await arrived) - start);
  }
  for (const socket of sockets) socket.terminate();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return latencies;
}

export async function eventLatency(): Promise<EventLatencyFigures> {
  const samples = Number(process.env.BENCH_EVENT_SAMPLES ?? 300);
  const fanout = Number(process.env.BENCH_EVENT_FANOUT ?? 50);
  const dataDir = mkdtempSync(join(tmpdir(), 'offhook-bench-events-'));
  const argv = ['--demo', '--http-port', '0', '--bind', '127.0.0.1', '--media-address', '127.0.0.1', '--data-dir', dataDir, '--sip-udp-port', 'off', '--sip-tcp-port', 'off', '--sip-tls-port', 'off'];
  const pbx = await startPbx(parseServeConfig(argv, {}, { webRoot: join(dataDir, 'no-web-phone') }));
  const streams: TestEventStream[] = [];
  try {
    const alice = await signIn(pbx.httpUrl, '101', 'alice-101');
    const arrivals = new Arrivals();
    const onMessage = (message: ServerMessage) => {
      if (message.kind === 'event') arrivals.arrived();
    };
    const one = await TestEventStream.open(pbx.httpUrl, alice.token, { onMessage });
    streams.push(one);
    await one.ready();

    const measure = async (audience: number[], count: number): Promise<number[]> => {
      const latencies: number[] = [];
      for (let n = 1; n <= count; n++) {
        const arrived = arrivals.expect(audience.length);
        const start = performance.now();
        await pbx.events.publish(alice.organizationId, audience, callEvent(n));
        latencies.push((await arrived) - start);
      }
      return latencies;
    };
    // A few to warm the statements and the JIT, not counted.
    await measure([alice.userId], 20);
    const single = await measure([alice.userId], samples);

    // The fan-out: users of an organization of their own, each with one stream.
    const organization = await ensureOrganization(pbx.db, { name: 'Bench', domain: 'bench.test' });
    const audience: number[] = [];
    for (let i = 0; i < fanout; i++) {
      const user = await createUser(pbx.db, { organizationId: organization.id, extension: String(5000 + i), displayName: `Bench ${i}`, password: 'bench-password' });
      audience.push(user.id);
      const response = await fetch(`${pbx.httpUrl}/api/v1/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ extension: String(5000 + i), password: 'bench-password', organization: 'bench.test' }),
      });
      const { token } = (await response.json()) as { token: string };
      const stream = await TestEventStream.open(pbx.httpUrl, token, { onMessage });
      streams.push(stream);
      await stream.ready();
    }
    const fanoutLatencies: number[] = [];
    for (let n = 1; n <= Math.max(20, Math.floor(samples / 3)); n++) {
      const arrived = arrivals.expect(audience.length);
      const start = performance.now();
      await pbx.events.publish(organization.id, audience, callEvent(n));
      fanoutLatencies.push((await arrived) - start);
    }

    const refSingle = await reference(samples, 1);
    const refFanout = await reference(fanoutLatencies.length, fanout);
    return {
      samples,
      fanout,
      single: { medianMs: round(quantile(single, 0.5)), p95Ms: round(quantile(single, 0.95)), referenceMedianMs: round(quantile(refSingle, 0.5)), referenceP95Ms: round(quantile(refSingle, 0.95)) },
      fanoutRun: {
        medianMs: round(quantile(fanoutLatencies, 0.5)),
        p95Ms: round(quantile(fanoutLatencies, 0.95)),
        referenceMedianMs: round(quantile(refFanout, 0.5)),
        referenceP95Ms: round(quantile(refFanout, 0.95)),
      },
    };
  } finally {
    for (const stream of streams) stream.close();
    await pbx.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export function eventLatencyTable(figures: EventLatencyFigures): Array<Record<string, string | number>> {
  const row = (load: string, run: EventLatencyFigures['single']) => ({
    load,
    'reference median ms (bare WebSocket)': run.referenceMedianMs,
    'reference p95 ms': run.referenceP95Ms,
    'publish→handled median ms': run.medianMs,
    'p95 ms': run.p95Ms,
    target: `median < ${EVENT_LATENCY_TARGET_MS} ms: ${run.medianMs < EVENT_LATENCY_TARGET_MS ? 'met' : 'not met'}`,
  });
  return [row('1 app, one event at a time', figures.single), row(`1 event to ${figures.fanout} apps (to the last)`, figures.fanoutRun)];
}
