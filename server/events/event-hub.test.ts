import type { Kysely } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PublishedEvent, ServerMessage } from '../../shared/events';
import { appendEvent, purgeEvents } from '../store/events';
import type { Database } from '../store/schema';
import { openTestDatabase } from '../store/test-support';
import type { TestDatabase } from '../store/test-support';
import { seedPeople } from '../store/test-people';
import { EventHub, resyncReason } from './event-hub';
import type { EventSink } from './event-hub';

/** What a stream was sent, in order. */
class Recorder implements EventSink {
  readonly messages: ServerMessage[] = [];
  abandoned: string | undefined;
  send(message: ServerMessage): void {
    this.messages.push(message);
  }
  abandon(reason: string): void {
    this.abandoned = reason;
  }
  /** The numbers of the call events, and their `n` (the callId's suffix). */
  calls(): Array<[number, string]> {
    return this.messages.flatMap((m) => (m.kind === 'event' && m.event.type === 'call' ? [[m.seq, m.event.callId] as [number, string]] : []));
  }
  kinds(): string[] {
    return this.messages.map((m) => (m.kind === 'event' ? m.event.type : m.kind));
  }
}

const call = (id: string): PublishedEvent => ({
  type: 'call',
  callId: id,
  state: 'ringing',
  parties: [
    { extension: '101', name: 'Alice Adams', role: 'caller' },
    { extension: '102', name: 'Bob Brown', role: 'callee' },
  ],
  leg: { id: `leg-${id}`, sipCallId: `${id}@127.0.0.1` },
});

describe('event hub', () => {
  let store: TestDatabase;
  let db: Kysely<Database>;
  let hub: EventHub;
  let org: number;
  let alice: number;
  let bob: number;
  let otherOrg: number;
  let mallory: number;

  beforeEach(async () => {
    store = await openTestDatabase('file');
    db = store.db;
    hub = new EventHub(db);
    ({ organizationId: org, userIds: [alice = 0, bob = 0] } = await seedPeople(db, 'demo.test', ['101', '102']));
    ({ organizationId: otherOrg, userIds: [mallory = 0] } = await seedPeople(db, 'other.test', ['101']));
  });
  afterEach(async () => {
    await hub.close();
    await store.close();
  });

  it('sends live events to each addressee’s open streams in the order of their numbers', async () => {
    const a = new Recorder();
    const b = new Recorder();
    await hub.open(org, alice, undefined, a);
    await hub.open(org, bob, undefined, b);
    await Promise.all(Array.from({ length: 50 }, (_, i) => hub.publish(org, i % 2 ? [alice] : [alice, bob], call(`c${i + 1}`))));
    expect(a.calls()).toEqual(Array.from({ length: 50 }, (_, i) => [i + 1, `c${i + 1}`]));
    expect(b.calls()).toEqual(Array.from({ length: 25 }, (_, i) => [i + 1, `c${2 * i + 1}`]));
    expect(a.kinds()[0]).toBe('ready');
  });

  it('never sends one user’s or organization’s events to another', async () => {
    const b = new Recorder();
    const m = new Recorder();
    await hub.open(org, bob, undefined, b);
    await hub.open(otherOrg, mallory, undefined, m);
    // Mallory's id passed with another organization's event, and Alice's with Mallory's organization: neither lands.
    await hub.publish(org, [alice, mallory], call('for-alice'));
    await hub.publish(otherOrg, [alice], call('wrong-org'));
    const bobAsOtherOrg = new Recorder();
    await hub.open(otherOrg, bob, 0, bobAsOtherOrg);
    await hub.publish(org, [bob], call('for-bob'));
    expect(b.calls()).toEqual([[1, 'for-bob']]);
    expect(m.calls()).toEqual([]);
    expect(bobAsOtherOrg.calls()).toEqual([]);
    const replay = new Recorder();
    await hub.open(otherOrg, mallory, 0, replay);
    expect(replay.calls()).toEqual([]);
  });

  it('resumes after a number: what was stored after it, then live, with nothing lost or repeated while publishing goes on', async () => {
    for (let i = 1; i <= 30; i++) await hub.publish(org, [alice], call(`c${i}`));
    const publishing = Promise.all(Array.from({ length: 70 }, (_, i) => hub.publish(org, [alice], call(`c${i + 31}`))));
    const resumed = new Recorder();
    await hub.open(org, alice, 10, resumed);
    await publishing;
    expect(resumed.calls()).toEqual(Array.from({ length: 90 }, (_, i) => [i + 11, `c${i + 11}`]));
    const ready = resumed.messages.find((m) => m.kind === 'ready');
    expect(ready && 'seq' in ready && ready.seq).toBeGreaterThanOrEqual(30);
  });

  it('stores before it sends: a stream opened later is sent what an earlier one was', async () => {
    const live = new Recorder();
    await hub.open(org, alice, undefined, live);
    await hub.publish(org, [alice], call('c1'));
    await hub.publish(org, [alice, bob], call('c2'));
    const later = new Recorder();
    await hub.open(org, alice, 0, later);
    expect(later.calls()).toEqual(live.calls());
    expect(later.kinds()).toEqual(['call', 'call', 'ready']);
  });

  it('tells an app to reload when what it asks for is no longer kept, or was never reached', async () => {
    for (let i = 1; i <= 5; i++) await hub.publish(org, [alice], call(`c${i}`));
    await purgeEvents(db, { maxAgeMs: 60_000, maxPerUser: 2 });
    const expired = new Recorder();
    await hub.open(org, alice, 1, expired);
    expect(expired.messages.slice(0, 2)).toEqual([
      { kind: 'event', seq: 5, at: expect.any(String), event: { type: 'resync', reason: 'expired' } },
      { kind: 'ready', seq: 5 },
    ]);
    const beyond = new Recorder();
    await hub.open(org, alice, 9, beyond);
    expect(beyond.kinds()).toEqual(['resync', 'ready']);
    expect(beyond.messages[0]).toMatchObject({ seq: 5, event: { reason: 'unknown_position' } });
    // From just before the oldest kept, nothing is missing.
    const kept = new Recorder();
    await hub.open(org, alice, 3, kept);
    expect(kept.calls()).toEqual([[4, 'c4'], [5, 'c5']]);
    // Live events after a resync follow its number.
    await hub.publish(org, [alice], call('c6'));
    expect(expired.calls()).toEqual([[6, 'c6']]);
  });

  it('refuses an event outside the contract and stores nothing', async () => {
    await expect(hub.publish(org, [alice], { type: 'call', callId: '', state: 'ringing', parties: [], leg: null })).rejects.toThrow(/contract/);
    await expect(hub.publish(org, [alice], { type: 'resync', reason: 'expired' } as unknown as PublishedEvent)).rejects.toThrow(/contract/);
    expect(await db.selectFrom('events').select('seq').execute()).toEqual([]);
    // And one that fails does not hold up the next.
    expect(await hub.publish(org, [alice], call('c1'))).toEqual([{ userId: alice, seq: 1 }]);
  });

  it('skips a stored event this PBX cannot read, using up its number', async () => {
    await appendEvent(db, { organizationId: org, audience: [alice], type: 'future', body: '{"type":"future"}', publishedAt: new Date().toISOString() });
    await hub.publish(org, [alice], call('c2'));
    const r = new Recorder();
    await hub.open(org, alice, 0, r);
    expect(r.calls()).toEqual([[2, 'c2']]);
  });

  it('forgets a closed stream', async () => {
    const r = new Recorder();
    const stream = await hub.open(org, alice, undefined, r);
    expect(hub.openStreams(alice)).toBe(1);
    stream.close();
    expect(hub.openStreams(alice)).toBe(0);
    await hub.publish(org, [alice], call('c1'));
    expect(r.calls()).toEqual([]);
  });
});

describe('resyncReason', () => {
  it.each([
    [0, 0, undefined, undefined],
    [3, 3, undefined, undefined],
    [2, 5, 3, undefined],
    [0, 5, 1, undefined],
    [1, 5, 3, 'expired'],
    [0, 5, undefined, 'expired'],
    [6, 5, 1, 'unknown_position'],
  ])('after %i with the stream at %i, oldest kept %s: %s', (after, last, oldest, reason) => {
    expect(resyncReason(after, last, oldest)).toBe(reason);
  });
});
