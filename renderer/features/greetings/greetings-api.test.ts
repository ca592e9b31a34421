import { describe, expect, it } from 'vitest';
import { RequestError } from '../../api/client';
import { deleteGreeting, fetchGreetings, updateGreeting, uploadGreeting } from './greetings-api';

const account = { server: 'http://127.0.0.1:5080', token: 'abc' };
const greeting = { id: 7, name: 'Office', durationMs: 3000, createdAt: '2026-12-08T10:00:00.000Z', active: false };

function fakeFetch(status: number, body: unknown, seen: Array<{ url: string; init: RequestInit }> = []): typeof fetch {
  return (async (url: string, init: RequestInit) => {
    seen.push({ url, init });
    return new Response(body === undefined ? null : JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
  }) as typeof fetch;
}

describe('greetings API client', () => {
  it('uploads the audio raw with its type and the name in the query, bearer token attached', async () => {
    const seen: Array<{ url: string; init: RequestInit }> = [];
    const saved = await uploadGreeting(account, 'Office & home', new Blob([new Uint8Array([1, 2])], { type: 'audio/wav' }), { fetch: fakeFetch(201, greeting, seen) });
    expect(saved).toEqual(greeting);
    expect(seen[0]!.url).toBe('http://127.0.0.1:5080/api/v1/greetings?name=Office+%26+home');
    expect(seen[0]!.init.method).toBe('POST');
    expect(seen[0]!.init.headers).toEqual({ authorization: 'Bearer abc', 'content-type': 'audio/wav' });
  });

  it("shows the PBX's own sentence when it refuses", async () => {
    const refusal = { error: { code: 'bad_length', message: 'A greeting can be at most 2 minutes; this one is 3 min 5 s.' } };
    await expect(uploadGreeting(account, 'Long', new Blob([]), { fetch: fakeFetch(400, refusal) })).rejects.toThrow(
      new RequestError('A greeting can be at most 2 minutes; this one is 3 min 5 s.'),
    );
    await expect(updateGreeting(account, 7, { active: true }, { fetch: fakeFetch(500, undefined) })).rejects.toThrow('The greeting could not be changed (error 500).');
  });

  it('a session that is over signs out', async () => {
    const failure = await fetchGreetings(account, { fetch: fakeFetch(401, { error: { code: 'not_signed_in', message: 'Sign in to continue.' } }) }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(RequestError);
    expect((failure as RequestError).signedOut).toBe(true);
  });

  it('refuses a reply that is not the contract, and says when the server cannot be reached', async () => {
    await expect(fetchGreetings(account, { fetch: fakeFetch(200, { greetings: [{ id: 'x' }] }) })).rejects.toThrow('The server sent greetings this app does not understand.');
    const unreachable = (async () => {
      throw new TypeError('fetch failed');
    }) as unknown as typeof fetch;
    await expect(deleteGreeting(account, 7, { fetch: unreachable })).rejects.toThrow("Can't reach the server at http://127.0.0.1:5080 to delete the greeting.");
  });
});
