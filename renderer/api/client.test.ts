import { describe, expect, it } from 'vitest';
import { RequestError, SESSION_ENDED, SignInError, normalizeServerUrl, renewSession, searchDirectory, signIn } from './client';
import type { SessionResponse } from '../../shared/api';

const SESSION: SessionResponse = {
  token: 'token-1',
  expiresAt: '2030-01-01T00:00:00.000Z',
  user: {
    id: 7,
    extension: '101',
    displayName: 'Ada Lovelace',
    role: 'user',
    organization: { id: 1, name: 'Example Ltd', domain: 'example.org' },
  },
  sip: {
    uri: 'sip:101@example.org',
    wsUrl: 'ws://127.0.0.1:8088/sip',
    authorizationUser: '101',
    password: 'sip-secret',
    realm: 'example.org',
    displayName: 'Ada Lovelace',
  },
};

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

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

const request = { extension: '101', password: 'correct horse' };

async function failure(promise: Promise<unknown>): Promise<SignInError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SignInError);
  return error as SignInError;
}

describe('signIn', () => {
  it('posts the request as JSON to the session endpoint and returns the session', async () => {
    const { fetch, sent } = fakeFetch(() => json(200, SESSION));
    await expect(signIn('http://127.0.0.1:8088/', request, { fetch })).resolves.toEqual(SESSION);
    expect(sent).toHaveLength(1);
    expect(sent[0]?.url).toBe('http://127.0.0.1:8088/api/v1/session');
    expect(sent[0]?.init?.method).toBe('POST');
    expect(new Headers(sent[0]?.init?.headers).get('content-type')).toBe('application/json');
    expect(JSON.parse(String(sent[0]?.init?.body))).toEqual(request);
  });

  it('uses the server message for wrong credentials', async () => {
    const { fetch } = fakeFetch(() =>
      json(401, { error: { code: 'invalid_credentials', message: 'Wrong extension or password for example.org' } }),
    );
    const error = await failure(signIn('http://pbx.test', request, { fetch }));
    expect(error.message).toBe('Wrong extension or password for example.org.');
  });

  it('says the credentials are wrong when a 401 has no message', async () => {
    const { fetch } = fakeFetch(() => new Response('', { status: 401 }));
    const error = await failure(signIn('http://pbx.test', request, { fetch }));
    expect(error.message).toBe('The extension or password is incorrect.');
  });

  it('explains an unreachable server without the browser error', async () => {
    const { fetch } = fakeFetch(() => Promise.reject(new TypeError('Failed to fetch')));
    const error = await failure(signIn('http://127.0.0.1:9', request, { fetch }));
    expect(error.message).toBe(
      "Can't reach the server at http://127.0.0.1:9. Check the address and that the server is running.",
    );
    expect(error.message).not.toMatch(/TypeError|fetch/);
  });

  it('explains a server that does not answer in time', async () => {
    const { fetch } = fakeFetch(() => Promise.reject(new DOMException('signal timed out', 'TimeoutError')));
    const error = await failure(signIn('http://pbx.test', request, { fetch }));
    expect(error.message).toBe('The server at http://pbx.test did not answer in time. Try again in a moment.');
  });

  it('passes on the message about a field as a sentence', async () => {
    const { fetch } = fakeFetch(() =>
      json(400, { error: { code: 'invalid_request', message: 'extension must be 2 to 10 digits', field: 'extension' } }),
    );
    const error = await failure(signIn('http://pbx.test', { ...request, extension: '1' }, { fetch }));
    expect(error.message).toBe('Extension must be 2 to 10 digits.');
    expect(error.field).toBe('extension');
  });

  it('tells a server that is not Offhook from a wrong password', async () => {
    const { fetch } = fakeFetch(() => new Response('<html>Not Found</html>', { status: 404 }));
    const error = await failure(signIn('http://example.com', request, { fetch }));
    expect(error.message).toBe('There is no Offhook server at http://example.com. Check the address.');
  });

  it('refuses a success reply that does not match the contract', async () => {
    const { fetch } = fakeFetch(() => json(200, { token: 'x' }));
    const error = await failure(signIn('http://pbx.test', request, { fetch }));
    expect(error.message).toBe(
      'The server at http://pbx.test is not an Offhook server, or runs a version this app does not understand.',
    );
  });

  it('reports a server fault with its status and no details', async () => {
    const { fetch } = fakeFetch(() => new Response('Error: SQLITE_BUSY\n    at Database.prepare', { status: 500 }));
    const error = await failure(signIn('http://pbx.test', request, { fetch }));
    expect(error.message).toBe(
      'The server at http://pbx.test could not sign you in right now (error 500). Try again in a moment.',
    );
  });

  it('asks the person to wait after too many attempts', async () => {
    const { fetch } = fakeFetch(() => new Response('', { status: 429 }));
    const error = await failure(signIn('http://pbx.test', request, { fetch }));
    expect(error.message).toBe('Too many sign-in attempts. Wait a minute and try again.');
  });

  it('hands on the organizations to choose from when the server hosts several', async () => {
    const organizations = [
      { name: 'Demo Company', domain: 'demo.offhook.test' },
      { name: 'Second Company', domain: 'second.offhook.test' },
    ];
    const { fetch } = fakeFetch(() =>
      json(400, { error: { code: 'organization_required', message: 'This server hosts several organizations: choose yours.', field: 'organization', organizations } }),
    );
    const error = await failure(signIn('http://pbx.test', request, { fetch }));
    expect([error.message, error.field, error.organizations]).toEqual(['This server hosts several organizations: choose yours.', 'organization', organizations]);
  });

  it('passes on a request for the SIP address from a server that lists no organizations, with nothing to choose from', async () => {
    const message = "This server hosts several organizations: sign in with your SIP address, your extension followed by @ and your organization's domain (such as 101@example.com).";
    const { fetch } = fakeFetch(() => json(400, { error: { code: 'organization_required', message, field: 'extension' } }));
    const error = await failure(signIn('http://pbx.test', request, { fetch }));
    expect([error.message, error.field, error.organizations]).toEqual([message, 'extension', undefined]);
  });
});

describe('normalizeServerUrl', () => {
  it.each([
    ['http://127.0.0.1:8088', 'http://127.0.0.1:8088'],
    ['http://127.0.0.1:8088/', 'http://127.0.0.1:8088'],
    ['  https://pbx.example.com//  ', 'https://pbx.example.com'],
    ['pbx.example.com', 'https://pbx.example.com'],
    ['https://example.com/phone/?x=1#top', 'https://example.com/phone'],
  ])('reads %j as %s', (input, expected) => {
    expect(normalizeServerUrl(input)).toBe(expected);
  });

  it('asks for an address when there is none', () => {
    expect(() => normalizeServerUrl(' ')).toThrow('Enter the server address, for example https://pbx.example.com.');
  });

  it('refuses other schemes', () => {
    expect(() => normalizeServerUrl('ftp://pbx.example.com')).toThrow(
      'The server address must start with https:// or http://.',
    );
  });

  it('refuses what is not an address', () => {
    expect(() => normalizeServerUrl('http://exa mple')).toThrow(SignInError);
  });
});

describe('searchDirectory', () => {
  it('asks for the text and limit with the bearer token, and reads the page', async () => {
    const { fetch, sent } = fakeFetch(() => json(200, { entries: [{ extension: '102', displayName: 'Bob Brown' }], more: false }));
    const page = await searchDirectory('http://pbx.test/', 'token-1', { q: 'bo b', limit: 5 }, { fetch });
    expect(page.entries).toEqual([{ extension: '102', displayName: 'Bob Brown' }]);
    expect(sent[0]?.url).toBe('http://pbx.test/api/v1/directory?q=bo+b&limit=5');
    expect(new Headers(sent[0]?.init?.headers).get('authorization')).toBe('Bearer token-1');
  });

  it('turns every failure into a sentence, and an ended session into a sign-out', async () => {
    const down = (async () => {
      throw new TypeError('fetch failed');
    }) as typeof globalThis.fetch;
    await expect(searchDirectory('http://pbx.test', 't', { q: 'bo' }, { fetch: down })).rejects.toThrow("Can't reach the server at http://pbx.test to search the directory.");
    const signedOut = await searchDirectory('http://pbx.test', 't', { q: 'bo' }, { fetch: fakeFetch(() => json(401, {})).fetch }).catch((e: unknown) => e);
    expect(signedOut).toBeInstanceOf(RequestError);
    expect((signedOut as RequestError).signedOut).toBe(true);
    await expect(searchDirectory('http://pbx.test', 't', { q: 'bo' }, { fetch: fakeFetch(() => json(200, { people: [] })).fetch })).rejects.toThrow(
      'The server sent a directory this app does not understand.',
    );
    await expect(
      searchDirectory('http://pbx.test', 't', { q: 'bo' }, { fetch: fakeFetch(() => json(500, { error: { code: 'internal', message: 'Something went wrong on the server. Try again.' } })).fetch }),
    ).rejects.toThrow('Something went wrong on the server. Try again.');
  });
});

describe('renewSession', () => {
  const renewFailure = (reply: () => Response | Promise<Response>) =>
    renewSession('http://pbx.test', 'token-1', { fetch: fakeFetch(reply).fetch }).then(
      () => undefined,
      (error: unknown) => error as RequestError,
    );

  it('posts the bearer token alone and reads the session it answers', async () => {
    const { fetch, sent } = fakeFetch(() => json(200, SESSION));
    await expect(renewSession('http://pbx.test/', 'token-1', { fetch })).resolves.toEqual(SESSION);
    expect(sent[0]?.url).toBe('http://pbx.test/api/v1/session/renew');
    expect(sent[0]?.init?.method).toBe('POST');
    expect(new Headers(sent[0]?.init?.headers).get('authorization')).toBe('Bearer token-1');
    expect(sent[0]?.init?.body).toBeUndefined();
  });

  it.each([401, 404, 405])('says the session has ended on %i, for the app to forget it', async (status) => {
    const error = await renewFailure(() => json(status, { error: { code: 'not_signed_in', message: 'Sign in to continue.' } }));
    expect(error).toBeInstanceOf(RequestError);
    expect([error?.message, error?.signedOut]).toEqual([SESSION_ENDED, true]);
  });

  it('keeps the session on a failure that may pass: no answer, a busy or failing server, a reply it cannot read', async () => {
    for (const reply of [
      () => Promise.reject(new TypeError('Failed to fetch')),
      () => new Response('', { status: 503 }),
      () => new Response('', { status: 429 }),
      () => json(200, { token: 'x' }),
    ]) {
      const error = await renewFailure(reply);
      expect(error).toBeInstanceOf(RequestError);
      expect(error?.signedOut).toBe(false);
    }
    expect((await renewFailure(() => Promise.reject(new TypeError('Failed to fetch'))))?.message).toBe("Can't reach the server at http://pbx.test.");
  });

  it('gives up after the timeout it is given on a server that does not answer, keeping the session', async () => {
    // The request is sent and never answered: only its timeout signal ends it.
    const silent = (_url: string | URL | Request, init?: RequestInit) =>
      new Promise<Response>((_resolve, reject) => init?.signal?.addEventListener('abort', () => reject(init.signal?.reason)));
    const error = await renewSession('http://pbx.test', 'token-1', { fetch: silent as typeof fetch, timeoutMs: 20 }).then(
      () => undefined,
      (failure: unknown) => failure as RequestError,
    );
    expect(error).toBeInstanceOf(RequestError);
    expect([error?.message, error?.signedOut]).toEqual(['The server at http://pbx.test did not answer in time.', false]);
  });
});
