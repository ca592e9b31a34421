import { mkdtempSync, readdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeAudio, encodeOggOpus, encodeWav } from '../../media/audio-file';
import { FLAG_FIRST, FLAG_LAST, writePage } from '../../media/audio-file/ogg';
import type { ServiceUser } from '../../calls/ports';
import type { GreetingOwner } from '../../store/greetings';
import type { GreetingSource } from '../voicemail';
import { seedPeople } from '../../store/test-people';
import { openTestDatabase } from '../../store/test-support';
import type { TestDatabase } from '../../store/test-support';
import { activeGreeting, GreetingError, GreetingLibrary, greetingSource, removeOrphanGreetingFiles } from './index';

function tone(rate: number, ms: number): Int16Array {
  const samples = new Int16Array(Math.round((rate * ms) / 1000));
  for (let i = 0; i < samples.length; i++) samples[i] = Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / rate));
  return samples;
}

/** Every file under a folder, relative to it. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).slice(dir.length + 1))
    .filter((file) => file !== 'offhook.db' && !file.startsWith('offhook.db'));
}

describe('greeting library', () => {
  let store: TestDatabase;
  let dataDir: string;
  let library: GreetingLibrary;
  let alice: GreetingOwner;
  let bob: GreetingOwner;

  beforeEach(async () => {
    store = await openTestDatabase('memory');
    dataDir = mkdtempSync(join(tmpdir(), 'offhook-greetings-'));
    library = new GreetingLibrary(store.db, dataDir, () => Date.parse('2026-12-08T10:00:00.000Z'));
    const demo = await seedPeople(store.db, 'demo.test', ['101', '102']);
    alice = { organizationId: demo.organizationId, userId: demo.userIds[0]! };
    bob = { organizationId: demo.organizationId, userId: demo.userIds[1]! };
  });
  afterEach(async () => {
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const refusal = async (work: Promise<unknown>) => {
    const error = await work.then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(GreetingError);
    return { kind: (error as GreetingError).kind, message: (error as GreetingError).message };
  };

  it('stores an uploaded WAV as Ogg Opus at its rate, lists it, and serves the audio back', async () => {
    const added = await library.add(alice, 'Office', encodeWav(tone(16000, 3000), 16000));
    expect(added).toEqual({ id: added.id, name: 'Office', durationMs: 3000, createdAt: '2026-12-08T10:00:00.000Z', active: false });
    expect(await library.list(alice)).toEqual([added]);
    expect(await library.list(bob)).toEqual([]);
    const files = filesUnder(dataDir);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(new RegExp(`^greetings/${alice.organizationId}/${alice.userId}/[0-9a-f]{24}\\.opus$`));
    const audio = await library.audio(alice, added.id);
    expect(audio.toString('latin1', 0, 4)).toBe('OggS');
    expect(audio.readUInt32LE(28 + 12)).toBe(16000);
    expect(decodeAudio(audio, 'x').durationMs).toBe(3000);
  });

  it('converts audio at rates Opus and the player do not share (44.1 kHz) up to 48 kHz, and keeps Ogg Opus uploads', async () => {
    const cd = await library.add(alice, 'CD', encodeWav(tone(44100, 1500), 44100));
    expect(cd.durationMs).toBe(1500);
    expect((await library.audio(alice, cd.id)).readUInt32LE(28 + 12)).toBe(48000);
    const ogg = await library.add(alice, 'Ogg', encodeOggOpus(tone(8000, 2000), 8000));
    expect(ogg.durationMs).toBe(2000);
  });

  it('refuses what is not audio, too short, too long or too big, leaving no file and no row', async () => {
    expect(await refusal(library.add(alice, 'Song', Buffer.from('ID3\x04 not really an mp3')))).toEqual({
      kind: 'not_audio',
      message: 'The file is not an audio file the PBX reads: use WAV or Ogg Opus',
    });
    expect(await refusal(library.add(alice, 'Short', encodeWav(tone(8000, 400), 8000)))).toEqual({
      kind: 'bad_length',
      message: 'A greeting must be at least 1 second long; this one is 0.4 s.',
    });
    expect(await refusal(library.add(alice, 'Long', encodeWav(tone(8000, 185_000), 8000)))).toEqual({
      kind: 'bad_length',
      message: 'A greeting can be at most 2 minutes; this one is 3 min 5 s.',
    });
    expect((await refusal(library.add(alice, 'Big', Buffer.alloc(10 * 1024 * 1024 + 1)))).kind).toBe('too_large');
    // Ten minutes of sound in a few KB (5 000 packets of 120 ms, each two bytes): refused without decoding it all.
    const head = Buffer.alloc(19);
    head.write('OpusHead', 0, 'latin1');
    head[8] = 1;
    head[9] = 1;
    head.writeUInt32LE(48000, 12);
    const tags = Buffer.concat([Buffer.from('OpusTags', 'latin1'), Buffer.alloc(8)]);
    const packets = new Array<Buffer>(200).fill(Buffer.from([(31 << 3) | 3, 6]));
    const pages = [writePage({ flags: FLAG_FIRST, granule: 0n, serial: 9, sequence: 0 }, [head]), writePage({ flags: 0, granule: 0n, serial: 9, sequence: 1 }, [tags])];
    for (let i = 0; i < 25; i++) pages.push(writePage({ flags: i === 24 ? FLAG_LAST : 0, granule: BigInt((i + 1) * 200 * 5760), serial: 9, sequence: 2 + i }, packets));
    expect(await refusal(library.add(alice, 'Claims ten minutes', Buffer.concat(pages)))).toEqual({
      kind: 'bad_length',
      message: 'A greeting can be at most 2 minutes; this one is 10 min.',
    });
    // Millions of empty packets in a few megabytes (255 to a page): refused once past two minutes' worth.
    const empties = new Array<Buffer>(255).fill(Buffer.alloc(0));
    const bomb = pages.slice(0, 2);
    for (let i = 0; i < 2000; i++) bomb.push(writePage({ flags: 0, granule: -1n, serial: 9, sequence: 2 + i }, empties));
    expect(await refusal(library.add(alice, 'Empty packets', Buffer.concat(bomb)))).toEqual({
      kind: 'not_audio',
      message: 'The file is damaged: it holds more Opus packets than 120 seconds of audio can',
    });
    expect(await library.list(alice)).toEqual([]);
    expect(filesUnder(dataDir)).toEqual([]);
  });

  it('keeps at most 20 greetings a user', async () => {
    const wav = encodeWav(tone(8000, 1000), 8000);
    for (let i = 0; i < 20; i++) await library.add(alice, `Greeting ${i}`, wav);
    expect(await refusal(library.add(alice, 'One more', wav))).toEqual({ kind: 'too_many', message: 'You can keep at most 20 greetings; delete one first.' });
    expect(filesUnder(dataDir)).toHaveLength(20);
  });

  it('renames and makes active; the active one is what callers hear, at the rate it was stored', async () => {
    const office = await library.add(alice, 'Office', encodeWav(tone(16000, 2000), 16000));
    const holidays = await library.add(alice, 'Holidays', encodeWav(tone(8000, 1000), 8000));
    expect(await activeGreeting(store.db, dataDir, alice.userId)).toBeUndefined();
    expect(await library.update(alice, office.id, { name: 'Front desk', active: true })).toMatchObject({ name: 'Front desk', active: true });
    const sound = await activeGreeting(store.db, dataDir, alice.userId);
    expect([sound?.rate, sound?.durationMs]).toEqual([16000, 2000]);
    await library.update(alice, holidays.id, { active: true });
    expect((await library.list(alice)).map((g) => [g.name, g.active])).toEqual([
      ['Holidays', true],
      ['Front desk', false],
    ]);
    expect((await activeGreeting(store.db, dataDir, alice.userId))?.rate).toBe(8000);
    // Voicemail's port, given the mailbox's owner.
    const source: GreetingSource = greetingSource(store.db, dataDir);
    const mailbox: ServiceUser = { ...alice, extension: '101', displayName: 'Alice' };
    expect((await source.activeGreeting(mailbox))?.durationMs).toBe(1000);
    expect(await activeGreeting(store.db, dataDir, bob.userId)).toBeUndefined();
    await library.update(alice, holidays.id, { active: false });
    expect(await activeGreeting(store.db, dataDir, alice.userId)).toBeUndefined();
  });

  it("answers not found for another user's greeting, changing nothing", async () => {
    const office = await library.add(alice, 'Office', encodeWav(tone(8000, 1000), 8000));
    expect((await refusal(library.update(bob, office.id, { active: true }))).kind).toBe('not_found');
    expect((await refusal(library.remove(bob, office.id))).kind).toBe('not_found');
    expect((await refusal(library.audio(bob, office.id))).kind).toBe('not_found');
    expect(await library.list(alice)).toEqual([office]);
  });

  it('deletes the file with the row; deleting the active greeting falls back to the default', async () => {
    const office = await library.add(alice, 'Office', encodeWav(tone(8000, 1000), 8000));
    await library.update(alice, office.id, { active: true });
    expect(await activeGreeting(store.db, dataDir, alice.userId)).toBeDefined();
    await library.remove(alice, office.id);
    expect(filesUnder(dataDir)).toEqual([]);
    expect(await library.list(alice)).toEqual([]);
    expect(await activeGreeting(store.db, dataDir, alice.userId)).toBeUndefined();
  });

  it('plays the default when the active greeting\'s file is gone, and says the audio is missing', async () => {
    const office = await library.add(alice, 'Office', encodeWav(tone(8000, 1000), 8000));
    await library.update(alice, office.id, { active: true });
    unlinkSync(join(dataDir, filesUnder(dataDir)[0]!));
    expect(await activeGreeting(store.db, dataDir, alice.userId)).toBeUndefined();
    expect((await refusal(library.audio(alice, office.id))).message).toContain('audio is missing');
  });
});

describe('the start-up sweep of greeting files', () => {
  it('removes files no greeting names (a crashed upload, finished or not) and keeps every greeting', async () => {
    const store = await openTestDatabase('memory');
    const dataDir = mkdtempSync(join(tmpdir(), 'offhook-greetings-'));
    try {
      const demo = await seedPeople(store.db, 'demo.test', ['101']);
      const owner = { organizationId: demo.organizationId, userId: demo.userIds[0]! };
      const library = new GreetingLibrary(store.db, dataDir);
      await library.add(owner, 'Kept', encodeWav(tone(8000, 1000), 8000));
      const folder = join(dataDir, 'greetings', String(owner.organizationId), String(owner.userId));
      writeFileSync(join(folder, 'abc.opus'), 'finished, but the row was never written');
      writeFileSync(join(folder, 'def.opus.part'), 'cut off');
      expect(await removeOrphanGreetingFiles(store.db, dataDir)).toBe(2);
      expect(filesUnder(dataDir)).toHaveLength(1);
      expect((await library.audio(owner, (await library.list(owner))[0]!.id)).toString('latin1', 0, 4)).toBe('OggS');
      expect(await removeOrphanGreetingFiles(store.db, join(dataDir, 'nowhere'))).toBe(0);
    } finally {
      await store.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
