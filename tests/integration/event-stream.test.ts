/**
 * The live event stream, against the real PBX (its HTTP app, SQLite in a data folder) over real WebSockets:
 * an app that loses its socket, or whose PBX restarts, resumes by number with nothing lost and nothing twice;
 * nobody without a session, or with another organization's, is let in; and a stream's session, slowness and
 * count per user are watched.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { CallEvent } from '../../shared/events';
import { EVENTS_CLOSE, EVENTS_PATH } from '../../shared/events';
import { buildApp } from '../../server/api/app';
import { parseServeConfig } from '../../server/config';
import { EventHub } from '../../server/events/event-hub';
import { startPbx } from '../../server/pbx';
import type { RunningPbx } from '../../server/pbx';
import { seedDemo } from '../../server/store/demo';
import { ensureOrganization } from '../../server/store/organizations';
import { openTestDatabase } from '../../server/store/test-support';
import { createUser } from '../../server/store/users';
import { TestEventStream } from '../support/events-client';

const call = (id: string, state: 'ringing' | 'answered' | 'ended' = 'ringing'): CallEvent => ({
  type: 'call',
  callId: id,
  state,
  parties: [
    { extension: '101', name: 'Alice Adams', role: 'caller' },
    { extension: '102', name: 'Bob Brown', role: 'callee' },
  ],
  leg: { id: `leg-${id}`, sipCallId: `${id}@127.0.0.1` },
});

async function signIn(httpUrl: string, extension: string, password: string, organization?: string): Promise<{ token: string; userId: number; organizationId: number }> {
  const response = await fetch(`${httpUrl}/api/v1/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ extension, password, organization }),
  });
  expect(response.status).toBe(201);
  const body = (await response.json()) as { token: string; user: { id: number; organization: { id: number } } };
  return { token: body.token, userId: body.user.id, organizationId: body.user.organization.id };
}

describe('event stream, against the running PBX', () => {
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  function dataFolder(): string {
    const dir = mkdtempSync(join(tmpdir(), 'offhook-events-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    return dir;
  }

  async function pbxOn(dataDir: string): Promise<RunningPbx> {
    const argv = ['--demo', '--http-port', '0', '--bind', '127.0.0.1', '--media-address', '127.0.0.1', '--data-dir', dataDir, '--sip-udp-port', 'off', '--sip-tcp-port', 'off', '--sip-tls-port', 'off'];
    const pbx = await startPbx(parseServeConfig(argv, {}, { webRoot: join(dataDir, 'no-web-phone') }));
    cleanups.push(() => pbx.close());
    return pbx;
  }

  async function stream(httpUrl: string, token: string | undefined, options: Parameters<typeof TestEventStream.open>[2] = {}): Promise<TestEventStream> {
    const opened = await TestEventStream.open(httpUrl, token, options);
    cleanups.push(() => opened.close());
    return opened;
  }

  it('resumes after a dropped WebSocket with every event missed, once, in order, then live ones', async () => {
    const pbx = await pbxOn(dataFolder());
    const alice = await signIn(pbx.httpUrl, '101', 'alice-101');
    const first = await stream(pbx.httpUrl, alice.token, { user: alice.userId });
    expect(await first.ready()).toBe(0);
    for (let i = 1; i <= 3; i++) await pbx.events.publish(alice.organizationId, [alice.userId], call(`c${i}`));
    await first.until(() => first.seqs().length === 3, 'three events');
    first.close();

    // While the app is away.
    for (let i = 4; i <= 6; i++) await pbx.events.publish(alice.organizationId, [alice.userId], call(`c${i}`));
    const last = first.seqs().at(-1);
    const second = await stream(pbx.httpUrl, alice.token, { after: last, user: alice.userId, asBrowser: true });
    expect(await second.ready()).toBe(6);
    await pbx.events.publish(alice.organizationId, [alice.userId], call('c7'));
    await second.until(() => second.seqs().length === 4, 'the missed events and a live one');
    const all = [...first.events(), ...second.events()].map((m) => [m.seq, m.event.type === 'call' ? m.event.callId : m.event.type]);
    expect(all).toEqual(Array.from({ length: 7 }, (_, i) => [i + 1, `c${i + 1}`]));
    expect(second.messages.map((m) => m.kind)).toEqual(['event', 'event', 'event', 'ready', 'event']);
    expect([...first.invalid, ...second.invalid]).toEqual([]);
  });

  it('resumes across a restart of the PBX on the same data folder, with the same session', async () => {
    const dataDir = dataFolder();
    const before = await pbxOn(dataDir);
    const alice = await signIn(before.httpUrl, '101', 'alice-101');
    const app = await stream(before.httpUrl, alice.token);
    await app.ready();
    await before.events.publish(alice.organizationId, [alice.userId], call('c1', 'ringing'));
    await app.until(() => app.seqs().length === 1, 'the first event');
    // Published and stored, but the PBX stops before the app reads it.
    app.close();
    await before.events.publish(alice.organizationId, [alice.userId], call('c1', 'answered'));
    await before.close();

    const after = await pbxOn(dataDir);
    const resumed = await stream(after.httpUrl, alice.token, { after: 1, user: alice.userId });
    expect(await resumed.ready()).toBe(2);
    await after.events.publish(alice.organizationId, [alice.userId], call('c1', 'ended'));
    await resumed.until(() => resumed.seqs().length === 2, 'the stored event and a live one');
    expect(resumed.events().map((m) => [m.seq, m.event.type === 'call' && m.event.state])).toEqual([
      [2, 'answered'],
      [3, 'ended'],
    ]);
  });

  it('refuses a connection without a valid session, and tells plain HTTP to upgrade', async () => {
    const pbx = await pbxOn(dataFolder());
    await expect(TestEventStream.open(pbx.httpUrl, undefined)).rejects.toMatchObject({ status: 401 });
    await expect(TestEventStream.open(pbx.httpUrl, 'not-a-token')).rejects.toMatchObject({ status: 401 });
    await expect(TestEventStream.open(pbx.httpUrl, 'not-a-token', { asBrowser: true })).rejects.toMatchObject({ status: 401 });
    const alice = await signIn(pbx.httpUrl, '101', 'alice-101');
    await expect(TestEventStream.open(pbx.httpUrl, alice.token, { after: -1 })).rejects.toMatchObject({ status: 400 });
    const plain = await fetch(`${pbx.httpUrl}${EVENTS_PATH}`, { headers: { authorization: `Bearer ${alice.token}` } });
    expect(plain.status).toBe(426);
    // Signed out: the token no longer opens a stream.
    await fetch(`${pbx.httpUrl}/api/v1/session`, { method: 'DELETE', headers: { authorization: `Bearer ${alice.token}` } });
    await expect(TestEventStream.open(pbx.httpUrl, alice.token)).rejects.toMatchObject({ status: 401 });
  });

  it('keeps organizations apart: another organization’s session is refused a stream of ours and is sent none of our events', async () => {
    const pbx = await pbxOn(dataFolder());
    const other = await ensureOrganization(pbx.db, { name: 'Other Company', domain: 'other.test' });
    await createUser(pbx.db, { organizationId: other.id, extension: '101', displayName: 'Other Alice', password: 'other-alice-101' });
    const alice = await signIn(pbx.httpUrl, '101', 'alice-101', 'demo.offhook.test');
    const otherAlice = await signIn(pbx.httpUrl, '101', 'other-alice-101', 'other.test');
    expect(otherAlice.organizationId).not.toBe(alice.organizationId);

    await expect(TestEventStream.open(pbx.httpUrl, otherAlice.token, { user: alice.userId, after: 0 })).rejects.toMatchObject({ status: 403 });
    const theirs = await stream(pbx.httpUrl, otherAlice.token, { after: 0, user: otherAlice.userId });
    const ours = await stream(pbx.httpUrl, alice.token, { after: 0 });
    await Promise.all([theirs.ready(), ours.ready()]);
    // Addressed to both ids but published for our organization; then to ours under theirs.
    await pbx.events.publish(alice.organizationId, [alice.userId, otherAlice.userId], call('ours'));
    await pbx.events.publish(other.id, [alice.userId], call('misaddressed'));
    await pbx.events.publish(other.id, [otherAlice.userId], call('theirs'));
    await ours.until(() => ours.seqs().length === 1, 'our event');
    await theirs.until(() => theirs.seqs().length === 1, 'their event');
    expect(ours.events().map((m) => m.event.type === 'call' && m.event.callId)).toEqual(['ours']);
    expect(theirs.events().map((m) => m.event.type === 'call' && m.event.callId)).toEqual(['theirs']);
  });
});

describe('event stream limits, on the API app', () => {
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function api(limits: { maxStreamsPerUser?: number; maxQueuedBytes?: number; heartbeatMs?: number }) {
    const store = await openTestDatabase('file');
    cleanups.push(() => store.close());
    const organizationId = (await seedDemo(store.db)).organization.id;
    const hub = new EventHub(store.db);
    cleanups.push(() => hub.close());
    const app = await buildApp({
      db: store.db,
      version: 'test',
      events: hub,
      eventStreamLimits: { maxStreamsPerUser: 8, maxQueuedBytes: 1024 * 1024, heartbeatMs: 20_000, ...limits },
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    cleanups.push(() => app.close());
    const address = app.server.address();
    const httpUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    const alice = await signIn(httpUrl, '101', 'alice-101');
    return { hub, httpUrl, alice, organizationId };
  }

  async function stream(httpUrl: string, token: string, options: Parameters<typeof TestEventStream.open>[2] = {}) {
    const opened = await TestEventStream.open(httpUrl, token, options);
    cleanups.push(() => opened.close());
    return opened;
  }

  it('ends a stream whose session ends, at the next heartbeat, with a code that says sign in again', async () => {
    const { httpUrl, alice } = await api({ heartbeatMs: 100 });
    const app = await stream(httpUrl, alice.token);
    await app.ready();
    await app.until(() => app.messages.some((m) => m.kind === 'heartbeat'), 'a heartbeat');
    await fetch(`${httpUrl}/api/v1/session`, { method: 'DELETE', headers: { authorization: `Bearer ${alice.token}` } });
    expect(await app.closed).toBe(EVENTS_CLOSE.signedOut);
  });

  it('allows a few streams per user and refuses the next', async () => {
    const { httpUrl, alice } = await api({ maxStreamsPerUser: 2 });
    const one = await stream(httpUrl, alice.token);
    const two = await stream(httpUrl, alice.token);
    await Promise.all([one.ready(), two.ready()]);
    await expect(TestEventStream.open(httpUrl, alice.token)).rejects.toMatchObject({ status: 429 });
    one.close();
    await one.closed;
    await expect.poll(async () => (await TestEventStream.open(httpUrl, alice.token).then((s) => (cleanups.push(() => s.close()), 'open'), () => 'refused')), { timeout: 3_000 }).toBe('open');
  });

  it('cuts off an app that does not read, rather than buffer for it without end', async () => {
    const { hub, httpUrl, alice, organizationId } = await api({ maxQueuedBytes: 64 * 1024 });
    const stalled = await stream(httpUrl, alice.token);
    await stalled.ready();
    // The app stops reading; the PBX keeps publishing ~10 kB events until it gives up on it (bounded).
    stalled.socket.pause();
    const parties = Array.from({ length: 100 }, (_, i) => ({ extension: String(200 + i), name: `Participant number ${i} with a long name`, role: 'participant' as const }));
    let published = 0;
    while (hub.openStreams(alice.userId) > 0 && published < 5_000) {
      await hub.publish(organizationId, [alice.userId], { ...call(`c${published}`), parties });
      published++;
    }
    expect(hub.openStreams(alice.userId)).toBe(0);
    expect(published).toBeLessThan(5_000);
    stalled.socket.resume();
    await stalled.closed;
    // Nothing is lost for it: it resumes from what it read.
    const back = await stream(httpUrl, alice.token, { after: stalled.seqs().at(-1) ?? 0 });
    await back.until(() => back.readySeq() !== undefined, 'ready');
    expect(back.seqs()[0]).toBe((stalled.seqs().at(-1) ?? 0) + 1);
    expect(back.readySeq()).toBe(published);
  });
});
