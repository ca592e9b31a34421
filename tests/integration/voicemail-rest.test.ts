/**
 * The voicemail REST API on a running PBX (desk phones over UDP): the owner lists, plays with byte ranges, marks
 * and deletes messages and sets the mailbox PIN; each change reaches the owner's apps (the `voicemail` event)
 * and the desk phone watching the mailbox's lamp (message-summary NOTIFY). Another user's, or another
 * organization's, message answers 404; bad input a clear error, with nothing lost.
 */
import { existsSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ApiError, SessionResponse } from '../../shared/api';
import type { Voicemail, VoicemailList } from '../../shared/voicemail';
import { writeMessageFile } from '../../server/features/voicemail';
import { ensureOrganization } from '../../server/store/organizations';
import { createUser, findUserByExtension } from '../../server/store/users';
import { getMailboxPinHash, getVoicemail, insertVoicemail } from '../../server/store/voicemails';
import { verifyPassword } from '../../server/auth/password';
import { TestEventStream } from '../support/events-client';
import { DOMAIN, udpPbxSuite } from '../support/udp-pbx';
import type { UdpDeskPhone } from '../support/udp-desk-phone';
import { deskPassword } from '../support/udp-pbx';

describe('voicemail over REST', () => {
  // Transcription off: the messages here are written straight into the store, and say so in their transcript.
  const suite = udpPbxSuite('int-voicemail-rest', ['--transcription', 'off']);
  let alice: string;
  let bob: string;
  let stranger: string;
  let aliceId: number;
  let organizationId: number;
  /** 4 KB of bytes whose value is their position modulo 251, so any range can be checked. */
  const audio = Buffer.from(Array.from({ length: 4096 }, (_, i) => i % 251));

  async function signIn(extension: string, password: string, organization: string): Promise<string> {
    const response = await fetch(`${suite.pbx.httpUrl}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ extension, password, organization }),
    });
    expect(response.status).toBe(201);
    return ((await response.json()) as SessionResponse).token;
  }

  function request(token: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> {
    return fetch(`${suite.pbx.httpUrl}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
  }

  async function json<T>(token: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
    const response = await request(token, method, path, body);
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
  }

  let minute = 0;
  async function leave(userId: number, callerName: string, callerNumber: string | null = '102'): Promise<number> {
    const receivedAt = new Date(Date.UTC(2026, 11, 7, 9, minute++));
    const file = await writeMessageFile(dataDir(), userId, receivedAt, audio);
    return insertVoicemail(suite.pbx.db, {
      organizationId,
      userId,
      callerName,
      callerNumber,
      callerExtension: callerNumber,
      receivedAt: receivedAt.toISOString(),
      durationMs: 4000,
      file: file.relative,
      sizeBytes: audio.length,
      wideband: true,
      reason: 'no-answer',
    });
  }

  const dataDir = () => suite.pbx.voicemailDataDir;

  beforeAll(async () => {
    const other = await ensureOrganization(suite.pbx.db, { name: 'Other', domain: 'other.test' });
    await createUser(suite.pbx.db, { organizationId: other.id, extension: '101', displayName: 'Other Alice', password: 'other-101-pw' });
    [alice, bob, stranger] = await Promise.all([signIn('101', 'alice-101', DOMAIN), signIn('102', 'bob-102', DOMAIN), signIn('101', 'other-101-pw', 'other.test')]);
    const user = await findUserByExtension(suite.pbx.db, (await ensureOrganization(suite.pbx.db, { name: 'Demo Company', domain: DOMAIN })).id, '101');
    aliceId = user!.id;
    organizationId = user!.organization_id;
  });

  /** Alice's desk phone watching her mailbox: the NOTIFY bodies it gets, each answered 200. */
  async function watchLamp(): Promise<{ desk: UdpDeskPhone; next: () => Promise<string> }> {
    const desk = await suite.deskPhone('101');
    const ok = await desk.authenticated('SUBSCRIBE', '101', deskPassword('101'), { 'Event': 'message-summary', 'Accept': 'application/simple-message-summary', 'Expires': '600' });
    expect(ok.status).toBe(200);
    const next = async () => {
      const notify = await desk.request('NOTIFY', 3_000);
      desk.reply(notify, 200, 'OK');
      return notify.body;
    };
    return { desk, next };
  }

  it('lists the owner’s messages newest first with counts, by box and by caller, and nobody else’s', async () => {
    const older = await leave(aliceId, 'Carol Chen', '103');
    const newer = await leave(aliceId, 'Dan Outside', '+4930123456');
    const list = await json<VoicemailList>(alice, 'GET', '/voicemails');
    expect(list.status).toBe(200);
    expect(list.body.items.map((item) => item.id).slice(0, 2)).toEqual([newer, older]);
    expect(list.body.items[0]).toMatchObject({ id: newer, callerName: 'Dan Outside', callerNumber: '+4930123456', durationMs: 4000, status: 'new' });
    expect(list.body.items[0]!.transcript).toEqual({ status: 'off' });
    expect(list.body.counts.new).toBeGreaterThanOrEqual(2);
    expect((await json<VoicemailList>(alice, 'GET', '/voicemails?q=carol')).body.items.map((item) => item.id)).toEqual([older]);
    expect((await json<VoicemailList>(alice, 'GET', '/voicemails?box=saved')).body.items).toEqual([]);
    expect((await json<VoicemailList>(bob, 'GET', '/voicemails')).body).toEqual({ items: [], counts: { new: 0, saved: 0 } });
    expect((await json<VoicemailList>(stranger, 'GET', '/voicemails')).body.items).toEqual([]);
    expect((await json<ApiError>(alice, 'GET', '/voicemails?box=old')).body.error).toMatchObject({ code: 'invalid_request', field: 'box' });
    expect((await json<ApiError>(alice, 'GET', '/voicemails?limit=zero')).body.error.message).toMatch(/limit must be a number/);
    expect((await request('', 'GET', '/voicemails')).status).toBe(401);
  });

  it('plays the audio whole or by byte ranges, as audio/ogg, to the owner only', async () => {
    const id = await leave(aliceId, 'Carol Chen');
    const whole = await request(alice, 'GET', `/voicemails/${id}/audio`);
    expect(whole.status).toBe(200);
    expect(whole.headers.get('content-type')).toBe('audio/ogg');
    expect(whole.headers.get('accept-ranges')).toBe('bytes');
    expect(Buffer.from(await whole.arrayBuffer())).toEqual(audio);

    const part = await request(alice, 'GET', `/voicemails/${id}/audio`, undefined, { range: 'bytes=100-199' });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 100-199/${audio.length}`);
    expect(part.headers.get('content-length')).toBe('100');
    expect(Buffer.from(await part.arrayBuffer())).toEqual(audio.subarray(100, 200));

    const tail = await request(alice, 'GET', `/voicemails/${id}/audio`, undefined, { range: 'bytes=-10' });
    expect(tail.status).toBe(206);
    expect(Buffer.from(await tail.arrayBuffer())).toEqual(audio.subarray(audio.length - 10));
    const open = await request(alice, 'GET', `/voicemails/${id}/audio`, undefined, { range: 'bytes=4000-' });
    expect(open.headers.get('content-range')).toBe(`bytes 4000-4095/${audio.length}`);
    expect(Buffer.from(await open.arrayBuffer())).toEqual(audio.subarray(4000));

    const past = await request(alice, 'GET', `/voicemails/${id}/audio`, undefined, { range: 'bytes=5000-' });
    expect(past.status).toBe(416);
    expect(past.headers.get('content-range')).toBe(`bytes */${audio.length}`);
    expect(((await past.json()) as ApiError).error.code).toBe('range_not_satisfiable');

    expect((await request(bob, 'GET', `/voicemails/${id}/audio`)).status).toBe(404);
    expect((await request(stranger, 'GET', `/voicemails/${id}/audio`)).status).toBe(404);
    expect((await request(alice, 'GET', `/voicemails/abc/audio`)).status).toBe(404);
  });

  it('marks a message saved and new again, telling the apps and the desk phone’s lamp', async () => {
    await leave(aliceId, 'Earlier Caller');
    const { next } = await watchLamp();
    const first = await next();
    const unheard = Number(/Voice-Message: (\d+)\/(\d+)/.exec(first)![1]);
    expect(first).toContain('Messages-Waiting: yes');
    const id = await leave(aliceId, 'Carol Chen');
    const stream = await TestEventStream.open(suite.pbx.httpUrl, alice);
    suite.cleanups.push(() => stream.close());
    await stream.ready();

    const saved = await json<Voicemail>(alice, 'PATCH', `/voicemails/${id}`, { status: 'saved' });
    expect(saved.status).toBe(200);
    expect(saved.body).toMatchObject({ id, status: 'saved' });
    expect(await next()).toContain(`Voice-Message: ${unheard}/1`);
    await stream.until(() => stream.events().some((m) => m.event.type === 'voicemail' && m.event.id === id), 'the voicemail event');
    const event = stream.events().find((m) => m.event.type === 'voicemail')!.event;
    expect(event).toEqual({ type: 'voicemail', change: 'updated', id, counts: { new: unheard, saved: 1 } });

    expect((await json<Voicemail>(alice, 'PATCH', `/voicemails/${id}`, { status: 'new' })).body.status).toBe('new');
    expect(await next()).toContain(`Voice-Message: ${unheard + 1}/0`);

    expect((await json<ApiError>(alice, 'PATCH', `/voicemails/${id}`, { status: 'heard' })).body.error).toMatchObject({ code: 'invalid_request', field: 'status' });
    expect((await json<ApiError>(alice, 'PATCH', `/voicemails/${id}`, 'not json')).status).toBe(400);
    expect((await json<ApiError>(bob, 'PATCH', `/voicemails/${id}`, { status: 'saved' })).status).toBe(404);
    expect((await json<ApiError>(stranger, 'PATCH', `/voicemails/${id}`, { status: 'saved' })).status).toBe(404);
    expect((await getVoicemail(suite.pbx.db, { organizationId, userId: aliceId }, id))?.status).toBe('new');
  });

  it('deletes a message and its audio; another user cannot', async () => {
    const id = await leave(aliceId, 'Carol Chen');
    const row = await getVoicemail(suite.pbx.db, { organizationId, userId: aliceId }, id);
    const path = `${dataDir()}/${row!.file}`;
    expect((await request(bob, 'DELETE', `/voicemails/${id}`)).status).toBe(404);
    expect((await request(stranger, 'DELETE', `/voicemails/${id}`)).status).toBe(404);
    expect(existsSync(path)).toBe(true);
    expect((await request(alice, 'DELETE', `/voicemails/${id}`)).status).toBe(204);
    expect(existsSync(path)).toBe(false);
    expect((await request(alice, 'DELETE', `/voicemails/${id}`)).status).toBe(404);
    expect((await request(alice, 'GET', `/voicemails/${id}/audio`)).status).toBe(404);
  });

  it('sets the mailbox PIN as a hash, refusing one that is not 4 to 10 digits', async () => {
    const refused = await json<ApiError>(alice, 'PUT', '/voicemail/pin', { pin: '12a4' });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({ field: 'pin', message: 'pin: The PIN must be 4 to 10 digits.' });
    expect((await json<ApiError>(alice, 'PUT', '/voicemail/pin', { pin: '123' })).status).toBe(400);
    expect((await request(alice, 'PUT', '/voicemail/pin', { pin: '424242' })).status).toBe(204);
    const hash = await getMailboxPinHash(suite.pbx.db, aliceId);
    expect(hash).toMatch(/^scrypt\$/);
    expect(await verifyPassword('424242', hash!)).toBe(true);
    expect((await json<ApiError>(alice, 'PUT', '/voicemail/pin', { pin: '12345678901' })).status).toBe(400);
    expect(await verifyPassword('424242', (await getMailboxPinHash(suite.pbx.db, aliceId))!)).toBe(true);
  });
});
