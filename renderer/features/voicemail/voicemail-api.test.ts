import { describe, expect, it } from 'vitest';
import { RequestError, SESSION_ENDED } from '../../api/client';
import { deleteVoicemail, fetchVoicemailAudio, listVoicemails, moveVoicemail, setVoicemailPin } from './voicemail-api';

const account = { serverUrl: 'http://127.0.0.1:8088/', token: 'tok' };

interface Sent {
  url: string;
  init: RequestInit | undefined;
}

/** The network edge: answers every request with `reply` and remembers what was sent. */
function fakeFetch(reply: () => Response | Promise<Response>) {
  const sent: Sent[] = [];
  const fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    sent.push({ url: String(input), init });
    return reply();
  }) as typeof globalThis.fetch;
  return { fetch, sent };
}

const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

async function failure(promise: Promise<unknown>): Promise<RequestError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RequestError);
  return error as RequestError;
}

describe('voicemail REST client', () => {
  it('asks for a box with the search trimmed, and leaves out a blank search', async () => {
    const { fetch, sent } = fakeFetch(() => json(200, { items: [], counts: { new: 0, saved: 0 } }));
    await listVoicemails(account, { box: 'saved', q: '  invoice ', limit: 50 }, { fetch });
    await listVoicemails(account, { box: 'new', q: '   ' }, { fetch });
    expect(sent.map((s) => s.url)).toEqual(['http://127.0.0.1:8088/api/v1/voicemails?box=saved&q=invoice&limit=50', 'http://127.0.0.1:8088/api/v1/voicemails?box=new']);
    expect(new Headers(sent[0]?.init?.headers).get('authorization')).toBe('Bearer tok');
  });

  it('refuses a list that is not in the contract', async () => {
    const { fetch } = fakeFetch(() => json(200, { items: [{ id: 'one' }], counts: { new: 1, saved: 0 } }));
    expect((await failure(listVoicemails(account, { box: 'new' }, { fetch }))).message).toBe('The server sent a voicemail list this app does not understand.');
  });

  it('patches the status and deletes by id', async () => {
    const { fetch, sent } = fakeFetch(() => new Response(null, { status: 204 }));
    await moveVoicemail(account, 4, 'new', { fetch });
    await deleteVoicemail(account, 4, { fetch });
    expect(sent.map((s) => [s.init?.method, s.url, s.init?.body])).toEqual([
      ['PATCH', 'http://127.0.0.1:8088/api/v1/voicemails/4', '{"status":"new"}'],
      ['DELETE', 'http://127.0.0.1:8088/api/v1/voicemails/4', undefined],
    ]);
  });

  it('says a message is gone on 404, and that the session ended on 401', async () => {
    const gone = fakeFetch(() => json(404, { error: { code: 'not_found', message: 'voicemail 4 not found' } }));
    expect((await failure(moveVoicemail(account, 4, 'saved', { fetch: gone.fetch }))).message).toBe('That message is no longer in your mailbox.');
    const ended = fakeFetch(() => json(401, { error: { code: 'unauthorized', message: 'no session' } }));
    const error = await failure(fetchVoicemailAudio(account, 4, { fetch: ended.fetch }));
    expect(error.message).toBe(SESSION_ENDED);
    expect(error.signedOut).toBe(true);
  });

  it('says the server cannot be reached when the request fails', async () => {
    const { fetch } = fakeFetch(() => Promise.reject(new TypeError('fetch failed')));
    expect((await failure(deleteVoicemail(account, 4, { fetch }))).message).toBe("Can't reach the server at http://127.0.0.1:8088 to delete the message.");
  });

  it('fetches the audio as a blob with the token', async () => {
    const { fetch, sent } = fakeFetch(() => new Response(new Uint8Array([1, 2, 3]), { status: 200, headers: { 'content-type': 'audio/ogg' } }));
    const blob = await fetchVoicemailAudio(account, 9, { fetch });
    expect(blob.type).toBe('audio/ogg');
    expect(blob.size).toBe(3);
    expect(sent[0]?.url).toBe('http://127.0.0.1:8088/api/v1/voicemails/9/audio');
    expect(new Headers(sent[0]?.init?.headers).get('authorization')).toBe('Bearer tok');
  });

  it('puts the PIN and passes on the server’s sentence for a refused one', async () => {
    const { fetch, sent } = fakeFetch(() => json(400, { error: { code: 'invalid_request', message: 'The PIN must be 4 to 10 digits.', field: 'pin' } }));
    expect((await failure(setVoicemailPin(account, '12', { fetch }))).message).toBe('The PIN must be 4 to 10 digits.');
    expect(sent[0]?.init?.method).toBe('PUT');
    expect(sent[0]?.url).toBe('http://127.0.0.1:8088/api/v1/voicemail/pin');
    expect(sent[0]?.init?.body).toBe('{"pin":"12"}');
  });
});
