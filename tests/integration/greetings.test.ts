/**
 * Greetings over the running PBX's REST API: uploads checked and stored as Ogg Opus, renamed, made active,
 * listened to with byte ranges, deleted; and what is refused, with the sentence the app shows, leaving no file
 * and no row behind: not audio, too short, too long, too big, a name too long, another user's greeting.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiError, SessionResponse } from '../../shared/api';
import type { Greeting, GreetingList } from '../../shared/greetings';
import { activeGreeting } from '../../server/features/greetings';
import { decodeAudio, encodeWav } from '../../server/media/audio-file';
import { startPbx } from '../../server/pbx';
import type { RunningPbx } from '../../server/pbx';
import { ensureOrganization } from '../../server/store/organizations';
import { createUser, findUserByExtension } from '../../server/store/users';

const DEMO = 'demo.offhook.test';

function tone(rate: number, ms: number): Int16Array {
  const samples = new Int16Array(Math.round((rate * ms) / 1000));
  for (let i = 0; i < samples.length; i++) samples[i] = Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / rate));
  return samples;
}

describe('greetings on a running PBX', () => {
  let pbx: RunningPbx;
  let dataDir: string;
  let alice: string;
  let bob: string;
  let stranger: string;
  let aliceId: number;

  async function signIn(extension: string, password: string, organization?: string): Promise<string> {
    const response = await fetch(`${pbx.httpUrl}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ extension, password, organization }),
    });
    expect(response.status).toBe(201);
    return ((await response.json()) as SessionResponse).token;
  }

  async function send(token: string | undefined, method: string, path: string, body?: unknown, contentType?: string): Promise<Response> {
    const raw = Buffer.isBuffer(body) || typeof body === 'string';
    return fetch(`${pbx.httpUrl}/api/v1${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body === undefined ? {} : { 'content-type': contentType ?? 'application/json' }),
      },
      body: body === undefined ? undefined : raw ? (body as BodyInit) : JSON.stringify(body),
    });
  }

  const upload = (token: string | undefined, name: string | undefined, bytes: Buffer | string, type = 'audio/wav') =>
    send(token, 'POST', `/greetings${name === undefined ? '' : `?name=${encodeURIComponent(name)}`}`, bytes, type);

  async function ok<T>(response: Promise<Response>, status = 200): Promise<T> {
    const result = await response;
    const text = await result.text();
    expect(result.status, text).toBe(status);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  async function refused(response: Promise<Response>): Promise<{ status: number; code: string; message: string }> {
    const result = await response;
    const body = (await result.json()) as ApiError;
    return { status: result.status, code: body.error.code, message: body.error.message };
  }

  const list = async (token: string) => (await ok<GreetingList>(send(token, 'GET', '/greetings'))).greetings;
  const storedFiles = () => {
    const folder = join(dataDir, 'greetings');
    return existsSync(folder) ? readdirSync(folder, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile()).map((entry) => entry.name) : [];
  };

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'offhook-int-greetings-'));
    pbx = await startPbx({ httpPort: 0, bind: '127.0.0.1', dataDir, mediaAddress: '127.0.0.1', sipHost: '127.0.0.1', demo: true, webRoot: join(dataDir, 'no-web-phone') });
    const other = await ensureOrganization(pbx.db, { name: 'Other', domain: 'other.test' });
    await createUser(pbx.db, { organizationId: other.id, extension: '101', displayName: 'Other Alice', password: 'other-101-pw' });
    [alice, bob, stranger] = await Promise.all([signIn('101', 'alice-101', DEMO), signIn('102', 'bob-102', DEMO), signIn('101', 'other-101-pw', 'other.test')]);
    const demo = await ensureOrganization(pbx.db, { name: 'Demo', domain: DEMO });
    aliceId = (await findUserByExtension(pbx.db, demo.id, '101'))!.id;
  });

  afterAll(async () => {
    await pbx?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('uploads, lists, plays back with byte ranges, renames, makes active; deleting the active one falls back to the default', async () => {
    expect(await list(alice)).toEqual([]);
    const office = await ok<Greeting>(upload(alice, 'Office hours', encodeWav(tone(16000, 3000), 16000)), 201);
    expect(office).toMatchObject({ name: 'Office hours', durationMs: 3000, active: false });
    const away = await ok<Greeting>(upload(alice, 'Away', encodeWav(tone(8000, 1500), 8000), 'audio/x-wav'), 201);
    expect((await list(alice)).map((g) => g.name)).toEqual(['Away', 'Office hours']);
    expect(await list(bob)).toEqual([]);

    const audio = await send(alice, 'GET', `/greetings/${office.id}/audio`);
    expect(audio.status).toBe(200);
    expect(audio.headers.get('content-type')).toBe('audio/ogg');
    expect(audio.headers.get('accept-ranges')).toBe('bytes');
    const whole = Buffer.from(await audio.arrayBuffer());
    expect(decodeAudio(whole, 'office').durationMs).toBe(3000);
    const part = await fetch(`${pbx.httpUrl}/api/v1/greetings/${office.id}/audio`, { headers: { authorization: `Bearer ${alice}`, range: 'bytes=0-99' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 0-99/${whole.length}`);
    expect(Buffer.from(await part.arrayBuffer())).toEqual(whole.subarray(0, 100));
    const tail = await fetch(`${pbx.httpUrl}/api/v1/greetings/${office.id}/audio`, { headers: { authorization: `Bearer ${alice}`, range: `bytes=${whole.length}-` } });
    expect(tail.status).toBe(416);
    expect(tail.headers.get('content-range')).toBe(`bytes */${whole.length}`);
    expect(((await tail.json()) as ApiError).error).toEqual({
      code: 'range_not_satisfiable',
      message: `The greeting is ${whole.length} bytes long; ask for a range within it.`,
    });

    expect(await ok<Greeting>(send(alice, 'PATCH', `/greetings/${office.id}`, { name: '  Front desk ' }))).toMatchObject({ name: 'Front desk', active: false });
    expect(await ok<Greeting>(send(alice, 'PATCH', `/greetings/${office.id}`, { active: true }))).toMatchObject({ active: true });
    expect((await activeGreeting(pbx.db, dataDir, aliceId))?.durationMs).toBe(3000);
    await ok<Greeting>(send(alice, 'PATCH', `/greetings/${away.id}`, { active: true }));
    expect((await list(alice)).map((g) => [g.name, g.active])).toEqual([
      ['Away', true],
      ['Front desk', false],
    ]);
    expect((await activeGreeting(pbx.db, dataDir, aliceId))?.durationMs).toBe(1500);

    expect(storedFiles()).toHaveLength(2);
    await ok(send(alice, 'DELETE', `/greetings/${away.id}`), 204);
    expect((await list(alice)).map((g) => [g.name, g.active])).toEqual([['Front desk', false]]);
    expect(await activeGreeting(pbx.db, dataDir, aliceId)).toBeUndefined();
    expect(storedFiles()).toHaveLength(1);
    expect(await refused(send(alice, 'GET', `/greetings/${away.id}/audio`))).toMatchObject({ status: 404, code: 'not_found' });
    await ok(send(alice, 'DELETE', `/greetings/${office.id}`), 204);
    expect(storedFiles()).toEqual([]);
  });

  it('refuses what is not audio, too short, too long or too big with the sentence to show, storing nothing', async () => {
    expect(await refused(upload(alice, 'Song', 'ID3\x04 this is no greeting', 'audio/mpeg'))).toEqual({
      status: 415,
      code: 'not_audio',
      message: 'The file is not an audio file the PBX reads: use WAV or Ogg Opus',
    });
    expect(await refused(upload(alice, 'JSON', '{"not":"audio"}', 'application/json'))).toMatchObject({ status: 415, code: 'not_audio' });
    expect(await refused(send(alice, 'POST', '/greetings?name=Nothing'))).toMatchObject({ status: 415, code: 'not_audio' });
    expect(await refused(upload(alice, 'Blip', encodeWav(tone(8000, 400), 8000)))).toEqual({
      status: 400,
      code: 'bad_length',
      message: 'A greeting must be at least 1 second long; this one is 0.4 s.',
    });
    expect(await refused(upload(alice, 'Speech', encodeWav(tone(8000, 185_000), 8000)))).toEqual({
      status: 400,
      code: 'bad_length',
      message: 'A greeting can be at most 2 minutes; this one is 3 min 5 s.',
    });
    expect(await refused(upload(alice, 'Huge', Buffer.alloc(11 * 1024 * 1024, 1)))).toEqual({
      status: 413,
      code: 'too_large',
      message: 'A greeting file can be at most 10 MB; this one is 11 MB.',
    });
    expect(await refused(upload(alice, undefined, encodeWav(tone(8000, 1000), 8000)))).toMatchObject({ status: 400, message: 'Give the greeting a name.' });
    expect(await refused(upload(alice, 'x'.repeat(61), encodeWav(tone(8000, 1000), 8000)))).toMatchObject({ status: 400, message: "A greeting's name can be at most 60 characters." });
    expect(await refused(upload(undefined, 'Anonymous', encodeWav(tone(8000, 1000), 8000)))).toMatchObject({ status: 401 });
    expect(await list(alice)).toEqual([]);
    expect(storedFiles()).toEqual([]);
  });

  it("answers 404 for another user's or organization's greeting and changes nothing", async () => {
    const mine = await ok<Greeting>(upload(alice, 'Mine', encodeWav(tone(8000, 1000), 8000)), 201);
    for (const other of [bob, stranger]) {
      expect(await refused(send(other, 'PATCH', `/greetings/${mine.id}`, { active: true }))).toMatchObject({ status: 404, code: 'not_found' });
      expect(await refused(send(other, 'PATCH', `/greetings/${mine.id}`, { name: 'Taken' }))).toMatchObject({ status: 404 });
      expect(await refused(send(other, 'DELETE', `/greetings/${mine.id}`))).toMatchObject({ status: 404 });
      expect(await refused(send(other, 'GET', `/greetings/${mine.id}/audio`))).toMatchObject({ status: 404 });
    }
    expect(await refused(send(alice, 'PATCH', '/greetings/not-a-number', { name: 'x' }))).toMatchObject({ status: 404 });
    expect(await refused(send(alice, 'PATCH', `/greetings/${mine.id}`, { name: '' }))).toMatchObject({ status: 400, message: 'Give the greeting a name.' });
    expect(await refused(send(alice, 'PATCH', `/greetings/${mine.id}`, {}))).toMatchObject({ status: 400, message: 'Send a new name, or active: true or false.' });
    expect(await list(alice)).toEqual([mine]);
    await ok(send(alice, 'DELETE', `/greetings/${mine.id}`), 204);
  });
});
