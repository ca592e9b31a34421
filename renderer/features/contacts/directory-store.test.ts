import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createPinia, setActivePinia } from 'pinia';
import type { DirectoryPage } from '../../../shared/api';
import { createWebBridge } from '../../bridge/web-bridge';
import { ALICE_SESSION } from '../../testing/fake-session';
import { DIRECTORY_DEBOUNCE_MS, useDirectoryStore } from './directory-store';
import { useSessionStore } from '../sign-in';

/** The network edge: the PBX's directory, answering each request when the test says so. */
function fakeDirectory() {
  const requests: Array<{ url: URL; headers: Headers; signal: AbortSignal | undefined; answer: (status: number, body: unknown) => void }> = [];
  const fetch = vi.fn((input: RequestInfo | URL, init?: RequestInit) => {
    return new Promise<Response>((resolve, reject) => {
      init?.signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')));
      requests.push({
        url: new URL(String(input)),
        headers: new Headers(init?.headers),
        signal: init?.signal ?? undefined,
        answer: (status, body) => resolve(new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } })),
      });
    });
  });
  return { fetch, requests };
}

const page = (...names: Array<[string, string]>): DirectoryPage => ({
  entries: names.map(([displayName, extension]) => ({ displayName, extension })),
  more: false,
});

describe('directory store', () => {
  let net: ReturnType<typeof fakeDirectory>;
  let directory: ReturnType<typeof useDirectoryStore>;

  beforeEach(() => {
    vi.useFakeTimers();
    net = fakeDirectory();
    const items = new Map<string, string>();
    const bridge = createWebBridge({
      storage: { getItem: (key) => items.get(key) ?? null, setItem: (key, value) => void items.set(key, value) },
      setTitle: () => {},
      showNotification: () => {},
      platform: 'test',
    });
    vi.stubGlobal('window', { offhook: bridge });
    vi.stubGlobal('fetch', net.fetch);
    setActivePinia(createPinia());
    const session = useSessionStore();
    session.session = ALICE_SESSION;
    session.serverUrl = 'http://pbx.test';
    directory = useDirectoryStore();
  });

  afterEach(() => {
    vi.unstubAllGlobals();
    vi.useRealTimers();
  });

  it('asks the PBX once typing pauses, with the session token', async () => {
    directory.search('b');
    directory.search('bo');
    await vi.advanceTimersByTimeAsync(DIRECTORY_DEBOUNCE_MS - 1);
    expect(net.requests).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(net.requests).toHaveLength(1);
    const [request] = net.requests;
    expect(request?.url.pathname).toBe('/api/v1/directory');
    expect(request?.url.searchParams.get('q')).toBe('bo');
    expect(request?.headers.get('authorization')).toBe('Bearer token-1');

    request?.answer(200, page(['Bob Brown', '102']));
    await vi.waitFor(() => expect(directory.entries).toEqual([{ displayName: 'Bob Brown', extension: '102' }]));
    expect(directory.query).toBe('bo');
  });

  it('keeps only the answer to the latest text, abandoning a search overtaken by newer text', async () => {
    directory.search('b');
    await vi.advanceTimersByTimeAsync(DIRECTORY_DEBOUNCE_MS);
    directory.search('bon');
    await vi.advanceTimersByTimeAsync(DIRECTORY_DEBOUNCE_MS);
    expect(net.requests).toHaveLength(2);
    expect(net.requests[0]?.signal?.aborted).toBe(true);

    net.requests[1]?.answer(200, page(['Bonnie Blue', '110']));
    await vi.waitFor(() => expect(directory.query).toBe('bon'));
    expect(directory.entries.map((e) => e.displayName)).toEqual(['Bonnie Blue']);
  });

  it('clears for an empty field and does not ask about outside numbers or feature codes', async () => {
    directory.search('bo');
    await vi.advanceTimersByTimeAsync(DIRECTORY_DEBOUNCE_MS);
    net.requests[0]?.answer(200, page(['Bob Brown', '102']));
    await vi.waitFor(() => expect(directory.entries).toHaveLength(1));

    directory.search('');
    expect(directory.entries).toEqual([]);
    directory.search('+44 20');
    directory.search('*72');
    await vi.advanceTimersByTimeAsync(DIRECTORY_DEBOUNCE_MS * 2);
    expect(net.requests).toHaveLength(1);
  });

  it("never shows one account's answers after signing in as someone else", async () => {
    directory.search('bo');
    await vi.advanceTimersByTimeAsync(DIRECTORY_DEBOUNCE_MS);
    net.requests[0]?.answer(200, page(['Bob Brown', '102']));
    await vi.waitFor(() => expect(directory.entries).toHaveLength(1));
    useSessionStore().session = { ...ALICE_SESSION, user: { ...ALICE_SESSION.user, extension: '103' } };
    expect(directory.entries).toEqual([]);
  });

  it('says when the search failed, and signs out when the session has ended', async () => {
    directory.search('bo');
    await vi.advanceTimersByTimeAsync(DIRECTORY_DEBOUNCE_MS);
    net.requests[0]?.answer(500, { error: { code: 'internal', message: 'Something went wrong on the server. Try again.' } });
    await vi.waitFor(() => expect(directory.error).toBe('Something went wrong on the server. Try again.'));

    directory.search('bob');
    await vi.advanceTimersByTimeAsync(DIRECTORY_DEBOUNCE_MS);
    net.requests[1]?.answer(401, { error: { code: 'not_signed_in', message: 'Sign in to continue.' } });
    await vi.waitFor(() => expect(useSessionStore().signedIn).toBe(false));
  });
});
