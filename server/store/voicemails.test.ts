import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from './schema';
import { seedPeople } from './test-people';
import { openTestDatabase, TEST_STORAGES } from './test-support';
import type { TestDatabase } from './test-support';
import {
  containsPattern,
  countVoicemails,
  deleteVoicemail,
  getMailboxPinHash,
  getVoicemail,
  insertVoicemail,
  listVoicemailFiles,
  listVoicemails,
  setMailboxPinHash,
  setVoicemailStatus,
} from './voicemails';
import type { MailboxOwner, NewVoicemail } from './voicemails';

describe.each(TEST_STORAGES)('voicemail store (%s)', (storage) => {
  let store: TestDatabase;
  let db: Kysely<Database>;
  let alice: MailboxOwner;
  let bob: MailboxOwner;
  let stranger: MailboxOwner;
  let dataDir: string;

  beforeEach(async () => {
    store = await openTestDatabase(storage);
    db = store.db;
    const demo = await seedPeople(db, 'demo.test', ['101', '102']);
    const other = await seedPeople(db, 'other.test', ['101']);
    alice = { organizationId: demo.organizationId, userId: demo.userIds[0]! };
    bob = { organizationId: demo.organizationId, userId: demo.userIds[1]! };
    stranger = { organizationId: other.organizationId, userId: other.userIds[0]! };
    dataDir = mkdtempSync(join(tmpdir(), 'offhook-vm-store-'));
  });
  afterEach(async () => {
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  let serial = 0;
  const message = (owner: MailboxOwner, fields: Partial<NewVoicemail> = {}): NewVoicemail => ({
    organizationId: owner.organizationId,
    userId: owner.userId,
    callerName: 'Carol Chen',
    callerNumber: '103',
    callerExtension: '103',
    receivedAt: new Date(Date.UTC(2026, 11, 7, 10, serial)).toISOString(),
    durationMs: 4200,
    file: `voicemail/${owner.userId}/${++serial}.opus`,
    sizeBytes: 1234,
    wideband: true,
    reason: 'no-answer',
    ...fields,
  });

  it('stores a message and reads it back only for its owner', async () => {
    const fields = message(alice);
    const id = await insertVoicemail(db, fields);
    expect(await getVoicemail(db, alice, id)).toEqual({ ...fields, id, status: 'new' });
    expect(await getVoicemail(db, bob, id)).toBeUndefined();
    expect(await getVoicemail(db, { organizationId: stranger.organizationId, userId: alice.userId }, id)).toBeUndefined();
  });

  it('lists newest first, by box, and by caller name, number or extension, with LIKE characters taken literally', async () => {
    const older = await insertVoicemail(db, message(alice, { callerName: 'Dan 100%', callerNumber: '+4930123', callerExtension: null, receivedAt: '2026-12-07T09:00:00.000Z' }));
    const newer = await insertVoicemail(db, message(alice, { callerName: 'Carol Chen', receivedAt: '2026-12-07T11:00:00.000Z' }));
    await insertVoicemail(db, message(bob));
    await setVoicemailStatus(db, alice, older, 'saved');
    const ids = async (options: Parameters<typeof listVoicemails>[2]) => (await listVoicemails(db, alice, options)).map((m) => m.id);
    expect(await ids({ limit: 10 })).toEqual([newer, older]);
    expect(await ids({ limit: 1 })).toEqual([newer]);
    expect(await ids({ box: 'saved', limit: 10 })).toEqual([older]);
    expect(await ids({ box: 'new', limit: 10 })).toEqual([newer]);
    expect(await ids({ q: 'carol', limit: 10 })).toEqual([newer]);
    expect(await ids({ q: '4930', limit: 10 })).toEqual([older]);
    expect(await ids({ q: '100%', limit: 10 })).toEqual([older]);
    expect(await ids({ q: '%', limit: 10 })).toEqual([older]);
    expect(await ids({ q: '_', limit: 10 })).toEqual([]);
    expect(await ids({ q: '  ', limit: 10 })).toEqual([newer, older]);
    expect(containsPattern('a_b%c\\')).toBe('%a\\_b\\%c\\\\%');
  });

  it("changes status only of the owner's message, and counts per box", async () => {
    const id = await insertVoicemail(db, message(alice));
    await insertVoicemail(db, message(alice));
    expect(await setVoicemailStatus(db, bob, id, 'saved')).toBe(false);
    expect(await countVoicemails(db, alice.userId)).toEqual({ new: 2, saved: 0 });
    expect(await setVoicemailStatus(db, alice, id, 'saved')).toBe(true);
    expect(await countVoicemails(db, alice.userId)).toEqual({ new: 1, saved: 1 });
    expect(await countVoicemails(db, bob.userId)).toEqual({ new: 0, saved: 0 });
    await expect(db.updateTable('voicemails').set({ status: 'heard' as 'new' }).where('id', '=', id).execute()).rejects.toThrow(/CHECK/);
  });

  it('deletes the row and its file; another user cannot, and a file already gone is fine', async () => {
    const fields = message(alice);
    const id = await insertVoicemail(db, fields);
    mkdirSync(join(dataDir, 'voicemail', String(alice.userId)), { recursive: true });
    writeFileSync(join(dataDir, fields.file), 'OggS');
    expect(await deleteVoicemail(db, dataDir, bob, id)).toBe(false);
    expect(existsSync(join(dataDir, fields.file))).toBe(true);
    expect(await deleteVoicemail(db, dataDir, alice, id)).toBe(true);
    expect(existsSync(join(dataDir, fields.file))).toBe(false);
    expect(await getVoicemail(db, alice, id)).toBeUndefined();
    expect(await deleteVoicemail(db, dataDir, alice, id)).toBe(false);
    const gone = await insertVoicemail(db, message(alice));
    expect(await deleteVoicemail(db, dataDir, alice, gone)).toBe(true);
  });

  it('lists every stored file and refuses two rows on one file', async () => {
    const a = message(alice);
    await insertVoicemail(db, a);
    await expect(insertVoicemail(db, message(bob, { file: a.file }))).rejects.toThrow(/UNIQUE/);
    expect(await listVoicemailFiles(db)).toEqual(new Set([a.file]));
  });

  it("keeps a mailbox PIN hash per user and replaces it, and a deleted user's messages go with them", async () => {
    expect(await getMailboxPinHash(db, alice.userId)).toBeUndefined();
    await setMailboxPinHash(db, alice.userId, 'scrypt$1');
    await setMailboxPinHash(db, alice.userId, 'scrypt$2');
    expect(await getMailboxPinHash(db, alice.userId)).toBe('scrypt$2');
    expect(await getMailboxPinHash(db, bob.userId)).toBeUndefined();
    await insertVoicemail(db, message(alice));
    await db.deleteFrom('users').where('id', '=', alice.userId).execute();
    expect(await countVoicemails(db, alice.userId)).toEqual({ new: 0, saved: 0 });
    expect(await getMailboxPinHash(db, alice.userId)).toBeUndefined();
  });
});
