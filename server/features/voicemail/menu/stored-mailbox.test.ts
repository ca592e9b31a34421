import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hashPassword } from '../../../auth/password';
import { EventHub } from '../../../events/event-hub';
import { encodeOggOpus } from '../../../media/audio-file';
import { toneFrame, toneLevel } from '../../../media/joins/mixer.test-helper';
import { readEvents } from '../../../store/events';
import type { Database } from '../../../store/schema';
import { seedPeople } from '../../../store/test-people';
import { openTestDatabase } from '../../../store/test-support';
import type { TestDatabase } from '../../../store/test-support';
import { getVoicemail, insertVoicemail, setMailboxPinHash } from '../../../store/voicemails';
import { Mailboxes } from '../mailboxes';
import { writeMessageFile } from '../storage';
import type { MenuOwner } from './mailbox-port';
import { StoredMailbox } from './stored-mailbox';

describe('the menu’s stored mailbox', () => {
  let store: TestDatabase;
  let db: Kysely<Database>;
  let dataDir: string;
  let hub: EventHub;
  let lamps: string[];
  let alice: MenuOwner;
  let bob: MenuOwner;
  let mailbox: StoredMailbox;

  beforeEach(async () => {
    store = await openTestDatabase('memory');
    db = store.db;
    const { organizationId, userIds } = await seedPeople(db, 'demo.test', ['101', '102']);
    alice = { organizationId, userId: userIds[0]!, extension: '101' };
    bob = { organizationId, userId: userIds[1]!, extension: '102' };
    dataDir = mkdtempSync(join(tmpdir(), 'offhook-menu-mailbox-'));
    hub = new EventHub(db);
    lamps = [];
    mailbox = new StoredMailbox(db, new Mailboxes({ db, dataDir, events: hub, watchers: { mailboxChanged: (_org, extension) => lamps.push(extension) } }));
  });
  afterEach(async () => {
    await hub.close();
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** A message of `hz` for `owner`, stored as a deposit stores one: its Ogg Opus file (16 kHz) and its row. */
  async function leave(owner: MenuOwner, hz: number, minute: number): Promise<{ id: number; path: string }> {
    const samples = new Int16Array(100 * 320);
    for (let i = 0; i < 100; i++) samples.set(toneFrame(hz, 16000, i), i * 320);
    const receivedAt = new Date(Date.UTC(2026, 11, 7, 9, minute));
    const bytes = encodeOggOpus(samples, 16000);
    const file = await writeMessageFile(dataDir, owner.userId, receivedAt, bytes);
    const id = await insertVoicemail(db, {
      organizationId: owner.organizationId,
      userId: owner.userId,
      callerName: 'Carol Chen',
      callerNumber: '103',
      callerExtension: '103',
      receivedAt: receivedAt.toISOString(),
      durationMs: 2000,
      file: file.relative,
      sizeBytes: bytes.length,
      wideband: true,
      reason: 'no-answer',
    });
    return { id, path: join(dataDir, file.relative) };
  }

  it('reads the PIN hash, or none', async () => {
    expect(await mailbox.pinHash(alice)).toBeUndefined();
    const hash = await hashPassword('2468');
    await setMailboxPinHash(db, alice.userId, hash);
    expect(await mailbox.pinHash(alice)).toBe(hash);
    expect(await mailbox.pinHash(bob)).toBeUndefined();
  });

  it('lists the owner’s messages only, and plays one as the sound it was recorded as', async () => {
    const first = await leave(alice, 1000, 1);
    await leave(bob, 700, 2);
    const messages = await mailbox.messages(alice);
    expect(messages).toEqual([{ id: first.id, status: 'new', receivedAt: '2026-12-07T09:01:00.000Z' }]);
    const sound = await mailbox.sound(alice, messages[0]!);
    expect(sound.rate).toBe(16000);
    expect(sound.durationMs).toBeGreaterThan(1900);
    expect(sound.durationMs).toBeLessThan(2100);
    expect(toneLevel(sound.samples.subarray(3200, 28800), 16000, 1000)).toBeGreaterThan(4000);
    // Bob cannot reach Alice's message by its id.
    await expect(mailbox.sound(bob, messages[0]!)).rejects.toThrow(/no longer in the mailbox/);
  });

  it('saves and deletes through the mailbox door: the row, the file, the lamp and the app event follow', async () => {
    const kept = await leave(alice, 1000, 1);
    const dropped = await leave(alice, 1000, 2);
    expect(await mailbox.markSaved(bob, kept.id)).toBe(false);
    expect(await mailbox.remove(bob, dropped.id)).toBe(false);
    expect(lamps).toEqual([]);

    expect(await mailbox.markSaved(alice, kept.id)).toBe(true);
    expect((await getVoicemail(db, alice, kept.id))?.status).toBe('saved');
    expect(await mailbox.remove(alice, dropped.id)).toBe(true);
    expect(await getVoicemail(db, alice, dropped.id)).toBeUndefined();
    expect(existsSync(dropped.path)).toBe(false);
    expect(existsSync(kept.path)).toBe(true);

    expect(lamps).toEqual(['101', '101']);
    const events = (await readEvents(db, alice.organizationId, alice.userId, 0, 50)).map((event) => JSON.parse(event.body));
    expect(events.filter((event) => event.type === 'voicemail')).toEqual([
      { type: 'voicemail', change: 'updated', id: kept.id, counts: { new: 1, saved: 1 } },
      { type: 'voicemail', change: 'deleted', id: dropped.id, counts: { new: 0, saved: 1 } },
    ]);
    // A message deleted meanwhile (from the app) is not there to play.
    await expect(mailbox.sound(alice, { id: dropped.id, status: 'new', receivedAt: '' })).rejects.toThrow();
  });
});
