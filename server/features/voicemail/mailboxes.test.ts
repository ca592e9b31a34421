import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { EventHub } from '../../events/event-hub';
import * as database from '../../store/db';
import { readEvents } from '../../store/events';
import type { Database } from '../../store/schema';
import { seedPeople } from '../../store/test-people';
import { openTestDatabase } from '../../store/test-support';
import type { TestDatabase } from '../../store/test-support';
import { getMailboxPinHash, insertVoicemail } from '../../store/voicemails';
import { putTranscript } from '../../store/transcripts';
import { Mailboxes } from './mailboxes';
import type { MailboxUser } from './mailboxes';
import { writeMessageFile } from './storage';

// Watched: a PIN the owner was told is set must be synced to disk first.
vi.mock('../../store/db', async (importOriginal) => {
  const actual = await importOriginal<typeof database>();
  return { ...actual, syncCommitted: vi.fn(actual.syncCommitted) };
});

describe('Mailboxes', () => {
  let store: TestDatabase;
  let db: Kysely<Database>;
  let dataDir: string;
  let hub: EventHub;
  let lamps: string[];
  let alice: MailboxUser;
  let bob: MailboxUser;
  let mailboxes: Mailboxes;

  beforeEach(async () => {
    store = await openTestDatabase('memory');
    db = store.db;
    const { organizationId, userIds } = await seedPeople(db, 'demo.test', ['101', '102']);
    alice = { organizationId, userId: userIds[0]!, extension: '101' };
    bob = { organizationId, userId: userIds[1]!, extension: '102' };
    dataDir = mkdtempSync(join(tmpdir(), 'offhook-mailbox-'));
    hub = new EventHub(db);
    lamps = [];
    mailboxes = new Mailboxes({ db, dataDir, events: hub, watchers: { mailboxChanged: (_org, extension) => lamps.push(extension) } });
  });
  afterEach(async () => {
    await hub.close();
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function leave(owner: MailboxUser, callerName: string, minute: number): Promise<number> {
    const receivedAt = new Date(Date.UTC(2026, 11, 7, 9, minute));
    const file = await writeMessageFile(dataDir, owner.userId, receivedAt, Buffer.from('OggS'));
    return insertVoicemail(db, { ...owner, callerName, callerNumber: '+4930555', callerExtension: null, receivedAt: receivedAt.toISOString(), durationMs: 5000, file: file.relative, sizeBytes: 4, wideband: true, reason: 'no-answer' });
  }

  const events = async (owner: MailboxUser) => (await readEvents(db, owner.organizationId, owner.userId, 0, 50)).map((event) => JSON.parse(event.body));

  it('lists messages in the contract shape with counts, transcripts off when nothing transcribes', async () => {
    const first = await leave(alice, 'Carol Chen', 1);
    const second = await leave(alice, 'Dan Dee', 2);
    await leave(bob, 'Eve', 3);
    const list = await mailboxes.list(alice, { limit: 100 });
    expect(list.counts).toEqual({ new: 2, saved: 0 });
    expect(list.items.map((item) => item.id)).toEqual([second, first]);
    expect(list.items[1]).toEqual({ id: first, callerName: 'Carol Chen', callerNumber: '+4930555', receivedAt: '2026-12-07T09:01:00.000Z', durationMs: 5000, status: 'new', transcript: { status: 'off' } });
    expect((await mailboxes.list(alice, { q: 'dan', limit: 100 })).items.map((item) => item.id)).toEqual([second]);
  });

  it('shows each message with its transcript, and finds messages by their transcript too', async () => {
    const plain = await leave(alice, 'Carol Chen', 1);
    const spoken = await leave(alice, 'Dan Dee', 2);
    await putTranscript(db, spoken, { status: 'done', text: 'please call me back about the invoice', engine: 'pocketsphinx' });
    await putTranscript(db, plain, { status: 'narrowband' });
    const list = await mailboxes.list(alice, { limit: 10 });
    expect(list.items.map((item) => [item.id, item.transcript])).toEqual([
      [spoken, { status: 'done', text: 'please call me back about the invoice', engine: 'pocketsphinx' }],
      [plain, { status: 'narrowband' }],
    ]);
    expect((await mailboxes.list(alice, { q: 'invoice', limit: 10 })).items.map((item) => item.id)).toEqual([spoken]);
    expect((await mailboxes.list(alice, { q: 'carol', limit: 10 })).items.map((item) => item.id)).toEqual([plain]);
    expect((await mailboxes.list(alice, { q: 'invoice OR "', limit: 10 })).items).toEqual([]);
    expect((await mailboxes.list(bob, { q: 'invoice', limit: 10 })).items).toEqual([]);
    expect(await mailboxes.item(alice, spoken)).toMatchObject({ id: spoken, transcript: { status: 'done' } });
    // a deleted message takes its transcript with it
    expect(await mailboxes.remove(alice, spoken)).toBe(true);
    expect(await db.selectFrom('voicemail_transcripts').select('voicemail_id').execute()).toEqual([{ voicemail_id: plain }]);
  });

  it('marks and deletes only the owner’s messages, announcing each change to apps and desk phones', async () => {
    const id = await leave(alice, 'Carol Chen', 1);
    expect(await mailboxes.mark(bob, id, 'saved')).toBe(false);
    expect(await mailboxes.remove(bob, id)).toBe(false);
    expect(lamps).toEqual([]);
    expect(await mailboxes.mark(alice, id, 'saved')).toBe(true);
    // already saved: nothing changes, nothing is announced
    expect(await mailboxes.mark(alice, id, 'saved')).toBe(true);
    const audio = await mailboxes.audio(alice, id);
    expect(existsSync(audio!.path)).toBe(true);
    expect(await mailboxes.audio(bob, id)).toBeUndefined();
    expect(await mailboxes.remove(alice, id)).toBe(true);
    expect(existsSync(audio!.path)).toBe(false);
    expect(lamps).toEqual(['101', '101']);
    expect(await events(alice)).toEqual([
      { type: 'voicemail', change: 'updated', id, counts: { new: 0, saved: 1 } },
      { type: 'voicemail', change: 'deleted', id, counts: { new: 0, saved: 0 } },
    ]);
    expect(await events(bob)).toEqual([]);
  });

  it('reads transcripts through the reader it is given, and announces a finished transcript to the owner', async () => {
    const id = await leave(alice, 'Carol Chen', 1);
    const reading = new Mailboxes({
      db,
      dataDir,
      events: hub,
      watchers: { mailboxChanged: (_org, extension) => lamps.push(extension) },
      transcripts: { transcripts: async (ids) => new Map(ids.map((i) => [i, { status: 'pending' as const }])) },
    });
    expect((await reading.list(alice, { limit: 10 })).items[0]!.transcript).toEqual({ status: 'pending' });
    await reading.announceTranscribed(id, { organizationId: alice.organizationId, userId: alice.userId });
    expect(await events(alice)).toEqual([{ type: 'voicemail', change: 'updated', id, counts: { new: 1, saved: 0 } }]);
    // a transcript changes no count: no lamp is sent anything
    expect(lamps).toEqual([]);
    // an owner of another organization than the one named is nobody to tell
    await reading.announceTranscribed(id, { organizationId: alice.organizationId + 1, userId: alice.userId });
    expect(await events(alice)).toHaveLength(1);
  });

  it('keeps the PIN as a hash and checks it', async () => {
    expect(await mailboxes.checkPin(alice, '1234')).toBe(false);
    await mailboxes.setPin(alice, '4711');
    expect(await getMailboxPinHash(db, alice.userId)).toMatch(/^scrypt\$/);
    expect(await mailboxes.checkPin(alice, '4711')).toBe(true);
    expect(await mailboxes.checkPin(alice, '4712')).toBe(false);
    expect(await mailboxes.checkPin(bob, '4711')).toBe(false);
  });

  it('syncs the PIN to disk before saying it is set', async () => {
    const hashes: Array<string | undefined> = [];
    vi.mocked(database.syncCommitted).mockImplementationOnce(async (synced) => {
      expect(synced).toBe(db);
      hashes.push(await getMailboxPinHash(db, alice.userId));
      return undefined;
    });
    await mailboxes.setPin(alice, '4711');
    expect(hashes).toEqual([expect.stringMatching(/^scrypt\$/)]);
  });
});
