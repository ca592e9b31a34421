import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { Kysely } from 'kysely';
import { RtpHeader, RtpPacket } from 'werift';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ServiceCall, ServiceUser } from '../../calls/ports';
import { EventHub } from '../../events/event-hub';
import { decodeAudio } from '../../media/audio-file';
import { decodeG711, encodeG711 } from '../../media/joins/g711';
import { toneFrame, toneLevel } from '../../media/joins/mixer.test-helper';
import type { MediaLeg } from '../../media/legs/media-leg';
import { RtpLeg } from '../../media/legs/rtp-leg';
import { phoneOffer, rtpPeer, until } from '../../media/legs/rtp-peer.test-helper';
import type { RtpPeer } from '../../media/legs/rtp-peer.test-helper';
import { MediaPlayer, Sound } from '../../media/player';
import * as database from '../../store/db';
import { readEvents } from '../../store/events';
import type { Database } from '../../store/schema';
import { seedPeople } from '../../store/test-people';
import { openTestDatabase } from '../../store/test-support';
import type { TestDatabase } from '../../store/test-support';
import { getVoicemail, insertVoicemail } from '../../store/voicemails';
import { VoicemailDeposits } from './deposit';
import type { DepositOutcome } from './deposit';
import { Mailboxes } from './mailboxes';
import type { GreetingSource, MessageEncoding, StoredMessage } from './ports';
import { removeOrphanMessageFiles, writeMessageFile } from './storage';

// The real syncCommitted, watched: a stored message must be synced to disk before it is announced.
vi.mock('../../store/db', async (importOriginal) => {
  const actual = await importOriginal<typeof database>();
  return { ...actual, syncCommitted: vi.fn(actual.syncCommitted) };
});

/** A call the PBX answered, as the engine hands it to a service; `callerHangsUp` is the caller's BYE. */
class TestCall implements ServiceCall {
  ended = false;
  hungUpWith: string | undefined;
  private readonly listeners: Array<(why: string) => void> = [];
  readonly caller = { organizationId: 0, extension: '102', userId: undefined, displayName: 'Bob Brown', number: '102' };

  constructor(
    readonly id: string,
    readonly leg: MediaLeg,
  ) {}

  hangUp(why: string): void {
    if (this.ended) return;
    this.hungUpWith = why;
    this.end(why);
  }

  callerHangsUp(): void {
    this.end('caller hung up');
  }

  onEnded(listener: (why: string) => void): () => void {
    this.listeners.push(listener);
    return () => this.listeners.splice(this.listeners.indexOf(listener) >>> 0, 1);
  }

  private end(why: string): void {
    if (this.ended) return;
    this.ended = true;
    for (const listener of [...this.listeners]) listener(why);
    this.leg.close();
  }
}

/** The stand-in encoder until the Ogg Opus writer is wired: the samples as they are, with their rate first. */
function rawEncoder(rate: number): MessageEncoding {
  const header = Buffer.alloc(4);
  header.writeUInt32LE(rate);
  const parts: Buffer[] = [header];
  return {
    write: (samples) => parts.push(Buffer.from(samples.slice().buffer)),
    finish: () => Buffer.concat(parts),
  };
}

function decodeRaw(bytes: Buffer): { rate: number; samples: Int16Array } {
  const copy = Buffer.from(bytes.subarray(4));
  return { rate: bytes.readUInt32LE(0), samples: new Int16Array(copy.buffer, copy.byteOffset, copy.length / 2) };
}

function toneSound(hz: number, ms: number): Sound {
  const samples = new Int16Array((ms / 20) * 160);
  for (let i = 0; i < ms / 20; i++) samples.set(toneFrame(hz, 8000, i), i * 160);
  return new Sound(`${hz} Hz`, 8000, samples);
}

describe('VoicemailDeposits', () => {
  let store: TestDatabase;
  let db: Kysely<Database>;
  let dataDir: string;
  let hub: EventHub;
  let player: MediaPlayer;
  let alice: ServiceUser;
  let lamps: string[];
  let transcribed: StoredMessage[];
  const cleanups: Array<() => unknown> = [];

  beforeEach(async () => {
    store = await openTestDatabase('file');
    db = store.db;
    const { organizationId, userIds } = await seedPeople(db, 'demo.test', ['101', '102']);
    alice = { organizationId, userId: userIds[0]!, extension: '101', displayName: 'Alice Adams' };
    dataDir = mkdtempSync(join(tmpdir(), 'offhook-vm-'));
    hub = new EventHub(db);
    player = new MediaPlayer();
    lamps = [];
    transcribed = [];
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) cleanup();
    player.close();
    await hub.close();
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const greeting = toneSound(300, 200);

  /** With `encode` null, the deposit codes as the PBX does (Ogg Opus). */
  function deposits(limits = {}, encode: typeof rawEncoder | null = rawEncoder, greetings?: GreetingSource) {
    const mailboxes = new Mailboxes({ db, dataDir, events: hub, watchers: { mailboxChanged: (org, extension) => lamps.push(`${org}/${extension}`) } });
    const service = new VoicemailDeposits({
      db,
      mailboxes,
      player,
      encode: encode ?? undefined,
      prompts: { defaultGreeting: () => [greeting], mailboxFull: toneSound(700, 100) },
      transcription: {
        transcribe: (message) => {
          transcribed.push(message);
        },
      },
      limits,
      greetings,
    });
    return { mailboxes, service };
  }

  /** A desk phone's call answered by the PBX on a real plain RTP leg. */
  async function phoneCall(): Promise<{ call: TestCall; phone: RtpPeer; pbxPort: number }> {
    const phone = await rtpPeer();
    const { leg, answerSdp } = await RtpLeg.answer('vm-caller', phoneOffer(phone.port), { address: '127.0.0.1' });
    cleanups.push(() => leg.close(), () => phone.close());
    const pbxPort = Number(/m=audio (\d+)/.exec(answerSdp)![1]);
    return { call: new TestCall('call-1', leg), phone, pbxPort };
  }

  /** `ms` of a tone (or silence) from the phone, timestamps in order, sent at once: the recorder places by timestamp. */
  function speak(phone: RtpPeer, port: number, ms: number, hz: number | undefined, startFrame = 0): void {
    for (let i = startFrame; i < startFrame + ms / 20; i++) {
      const pcm = hz === undefined ? new Int16Array(160) : toneFrame(hz, 8000, i);
      phone.send(new RtpPacket(new RtpHeader({ payloadType: 0, sequenceNumber: i, timestamp: i * 160, ssrc: 0xca11 }), encodeG711('ulaw', pcm)), port);
    }
  }

  /** What the phone heard, decoded. */
  function heard(phone: RtpPeer): Int16Array {
    const out = new Int16Array(phone.received.length * 160);
    phone.received.forEach((packet, i) => decodeG711('ulaw', packet.payload, out.subarray(i * 160, (i + 1) * 160)));
    return out;
  }

  /** Waits until greeting (10 frames) and tone (15) have reached the phone, and the recorder is listening. */
  async function pastTheTone(phone: RtpPeer): Promise<void> {
    await until(() => phone.received.length >= 25);
    await new Promise((resolve) => setTimeout(resolve, 60));
  }

  it('plays the greeting and the tone, records the caller until they hang up, and stores, announces and hands on the message', async () => {
    const { service } = deposits();
    const { call, phone, pbxPort } = await phoneCall();
    const outcome = service.take(call, alice, 'no-answer');
    await pastTheTone(phone);
    const sound = heard(phone);
    expect(toneLevel(sound.subarray(0, 1600), 8000, 300)).toBeGreaterThan(5000);
    expect(toneLevel(sound.subarray(1600, 4000), 8000, 440)).toBeGreaterThan(5000);
    speak(phone, pbxPort, 2_500, 1000);
    await until(() => (call.leg.packetsReceived ?? 0) >= 125);
    call.callerHangsUp();
    const result = await outcome;
    expect(result).toMatchObject({ kind: 'stored', durationMs: 2_500 });
    const id = (result as Extract<DepositOutcome, { kind: 'stored' }>).voicemailId;

    const row = await getVoicemail(db, alice, id);
    expect(row).toMatchObject({ callerName: 'Bob Brown', callerNumber: '102', callerExtension: '102', status: 'new', wideband: false, reason: 'no-answer', durationMs: 2_500 });
    const file = readFileSync(join(dataDir, row!.file));
    expect(row!.sizeBytes).toBe(file.length);
    const { rate, samples } = decodeRaw(file);
    expect(rate).toBe(8000);
    expect(toneLevel(samples, 8000, 1000)).toBeGreaterThan(5000);
    // recording starts after the tone: none of the greeting or the beep is in it
    expect(toneLevel(samples, 8000, 440)).toBeLessThan(300);
    expect(toneLevel(samples, 8000, 300)).toBeLessThan(300);
    expect(call.hungUpWith).toBeUndefined();

    expect(lamps).toEqual([`${alice.organizationId}/101`]);
    const events = await readEvents(db, alice.organizationId, alice.userId, 0, 10);
    expect(events.map((event) => JSON.parse(event.body))).toEqual([{ type: 'voicemail', change: 'added', id, counts: { new: 1, saved: 0 } }]);
    expect(transcribed).toEqual([{ voicemailId: id, organizationId: alice.organizationId, userId: alice.userId, file: row!.file, wideband: false }]);
  });

  it('syncs the committed row to disk before anyone hears of the message', async () => {
    const { service } = deposits();
    const seen: Array<{ rows: number; lamps: number; wal: string | undefined }> = [];
    const { syncCommitted } = await vi.importActual<typeof database>('../../store/db');
    vi.mocked(database.syncCommitted).mockImplementationOnce(async (db) => {
      const wal = await syncCommitted(db);
      seen.push({ rows: (await db.selectFrom('voicemails').select('id').execute()).length, lamps: lamps.length, wal });
      return wal;
    });
    const { call, phone, pbxPort } = await phoneCall();
    const outcome = service.take(call, alice, 'no-answer');
    await pastTheTone(phone);
    speak(phone, pbxPort, 2_000, 1000);
    await until(() => call.leg.packetsReceived >= 100);
    call.callerHangsUp();
    expect(await outcome).toMatchObject({ kind: 'stored' });
    expect(seen).toEqual([{ rows: 1, lamps: 0, wal: expect.stringMatching(/-wal$/) }]);
    expect(lamps).toHaveLength(1);
  });

  it('stores the message as Ogg Opus that decodes to what the caller said', async () => {
    const { service } = deposits({}, null);
    const { call, phone, pbxPort } = await phoneCall();
    const outcome = service.take(call, alice, 'no-answer');
    await pastTheTone(phone);
    speak(phone, pbxPort, 2_000, 1000);
    await until(() => call.leg.packetsReceived >= 100);
    call.callerHangsUp();
    const result = await outcome;
    expect(result).toMatchObject({ kind: 'stored', durationMs: 2_000 });
    const row = await getVoicemail(db, alice, (result as Extract<DepositOutcome, { kind: 'stored' }>).voicemailId);
    const file = readFileSync(join(dataDir, row!.file));
    expect(file.subarray(0, 4).toString('latin1')).toBe('OggS');
    const decoded = decodeAudio(file, row!.file);
    expect(Math.abs(decoded.durationMs - 2_000)).toBeLessThan(30);
    expect(toneLevel(decoded.samples.subarray(decoded.rate / 10), decoded.rate, 1000)).toBeGreaterThan(4000);
  });

  it("plays the owner's own greeting instead of the default, and the default when the greeting cannot be read", async () => {
    const own = toneSound(500, 200);
    const first = await phoneCall();
    const withOwn = deposits({}, rawEncoder, { activeGreeting: async (mailbox) => (mailbox.userId === alice.userId ? own : undefined) });
    const taking = withOwn.service.take(first.call, alice, 'no-answer');
    await pastTheTone(first.phone);
    const sound = heard(first.phone);
    expect(toneLevel(sound.subarray(0, 1600), 8000, 500)).toBeGreaterThan(5000);
    expect(toneLevel(sound.subarray(0, 1600), 8000, 300)).toBeLessThan(500);
    first.call.callerHangsUp();
    expect(await taking).toEqual({ kind: 'dropped', why: 'too-short' });

    const second = await phoneCall();
    const broken = deposits({}, rawEncoder, { activeGreeting: async () => Promise.reject(new Error('unreadable file')) });
    const fallback = broken.service.take(second.call, alice, 'no-answer');
    await pastTheTone(second.phone);
    expect(toneLevel(heard(second.phone).subarray(0, 1600), 8000, 300)).toBeGreaterThan(5000);
    second.call.callerHangsUp();
    await fallback;
  });

  it('hangs up itself when the caller presses #', async () => {
    const { service } = deposits();
    const { call, phone, pbxPort } = await phoneCall();
    const outcome = service.take(call, alice, 'busy');
    await pastTheTone(phone);
    speak(phone, pbxPort, 2_000, 1000);
    await until(() => call.leg.packetsReceived >= 100);
    // RFC 4733: digit 11 (#), its end marked, sent three times as phones do.
    for (let i = 0; i < 3; i++) {
      phone.send(new RtpPacket(new RtpHeader({ payloadType: 101, sequenceNumber: 100 + i, timestamp: 100 * 160, ssrc: 0xca11, marker: i === 0 }), Buffer.from([11, 0x8a, 0x03, 0x20])), pbxPort);
    }
    const result = await outcome;
    expect(result).toMatchObject({ kind: 'stored', durationMs: 2_000 });
    expect(call.hungUpWith).toBe('message left (#)');
  });

  it('keeps nothing when the caller hangs up during the greeting, or leaves only silence', async () => {
    const { service } = deposits();
    const first = await phoneCall();
    const early = service.take(first.call, alice, 'no-answer');
    await until(() => first.phone.received.length >= 3);
    first.call.callerHangsUp();
    expect(await early).toEqual({ kind: 'hung-up-before-tone' });

    const second = await phoneCall();
    const silent = service.take(second.call, alice, 'no-answer');
    await pastTheTone(second.phone);
    speak(second.phone, second.pbxPort, 3_000, undefined);
    await until(() => second.call.leg.packetsReceived >= 150);
    second.call.callerHangsUp();
    expect(await silent).toEqual({ kind: 'dropped', why: 'silent' });

    expect(await db.selectFrom('voicemails').selectAll().execute()).toEqual([]);
    expect(existsSync(join(dataDir, 'voicemail')) ? readdirSync(join(dataDir, 'voicemail')) : []).toEqual([]);
    expect(lamps).toEqual([]);
  });

  it('ends at the maximum length and keeps what came before it', async () => {
    const { service } = deposits({ maxMessageMs: 2_000 });
    const { call, phone, pbxPort } = await phoneCall();
    const outcome = service.take(call, alice, 'no-answer');
    await pastTheTone(phone);
    speak(phone, pbxPort, 3_000, 1000);
    expect(await outcome).toMatchObject({ kind: 'stored', durationMs: 2_000 });
    expect(call.hungUpWith).toBe('message at its maximum length');
  });

  it('tells the caller the mailbox is full and hangs up, recording nothing', async () => {
    const { service } = deposits({ maxMessages: 1 });
    const old = await writeMessageFile(dataDir, alice.userId, new Date(), Buffer.from('x'));
    await insertVoicemail(db, { ...alice, callerName: 'x', callerNumber: null, callerExtension: null, receivedAt: new Date().toISOString(), durationMs: 2000, file: old.relative, sizeBytes: 1, wideband: false, reason: 'busy' });
    const { call, phone } = await phoneCall();
    expect(await service.take(call, alice, 'no-answer')).toEqual({ kind: 'mailbox-full' });
    expect(call.hungUpWith).toBe('mailbox full');
    expect(toneLevel(heard(phone), 8000, 700)).toBeGreaterThan(4000);
    expect(await db.selectFrom('voicemails').select('id').execute()).toHaveLength(1);
  });

  it('keeps the limit when callers leave messages at once: the message that would go over it is dropped', async () => {
    const { service, mailboxes } = deposits({ maxMessages: 1 });
    const first = await phoneCall();
    const second = await phoneCall();
    // Both find the mailbox empty as they start.
    const outcomes = [service.take(first.call, alice, 'no-answer'), service.take(second.call, alice, 'busy')];
    await Promise.all([pastTheTone(first.phone), pastTheTone(second.phone)]);
    speak(first.phone, first.pbxPort, 2_000, 1000);
    speak(second.phone, second.pbxPort, 2_000, 1000);
    await until(() => first.call.leg.packetsReceived >= 100 && second.call.leg.packetsReceived >= 100);
    first.call.callerHangsUp();
    second.call.callerHangsUp();
    const kinds = (await Promise.all(outcomes)).map((outcome) => outcome.kind).sort();
    expect(kinds).toEqual(['mailbox-full', 'stored']);
    const rows = await db.selectFrom('voicemails').select('file').execute();
    expect(rows).toHaveLength(1);
    // No file is left behind for the dropped message.
    expect(readdirSync(join(mailboxes.dataDir, 'voicemail', String(alice.userId)))).toEqual([basename(rows[0]!.file)]);
    expect(lamps).toHaveLength(1);
  });

  it('at start, removes half-written files and moves complete ones no message names to voicemail/unlisted, keeping the others', async () => {
    const kept = await writeMessageFile(dataDir, alice.userId, new Date(), Buffer.from('kept'));
    await insertVoicemail(db, { ...alice, callerName: 'x', callerNumber: null, callerExtension: null, receivedAt: new Date().toISOString(), durationMs: 2000, file: kept.relative, sizeBytes: 4, wideband: false, reason: 'busy' });
    // Its row lost (a power cut undid the commit): the audio is kept aside, not deleted.
    const unnamed = await writeMessageFile(dataDir, alice.userId, new Date(), Buffer.from('unnamed'));
    mkdirSync(join(dataDir, 'voicemail', '77'), { recursive: true });
    writeFileSync(join(dataDir, 'voicemail', '77', 'x.opus.part'), 'half');
    expect(await removeOrphanMessageFiles(db, dataDir)).toEqual({ removed: 1, unlisted: 1 });
    expect(existsSync(kept.absolute)).toBe(true);
    expect(existsSync(unnamed.absolute)).toBe(false);
    const aside = join(dataDir, 'voicemail', 'unlisted', String(alice.userId), basename(unnamed.absolute));
    expect(readFileSync(aside, 'utf8')).toBe('unnamed');
    expect(readdirSync(join(dataDir, 'voicemail', '77'))).toEqual([]);
    // The next start leaves what was set aside where it is.
    expect(await removeOrphanMessageFiles(db, dataDir)).toEqual({ removed: 0, unlisted: 0 });
    expect(existsSync(aside)).toBe(true);
    expect(await removeOrphanMessageFiles(db, join(dataDir, 'nothing-here'))).toEqual({ removed: 0, unlisted: 0 });
  });
});
