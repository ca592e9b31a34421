import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createPinia, setActivePinia } from 'pinia';
import type { SipCredentials } from '../../../shared/api';
import { SESSION_ENDED } from '../../api/client';
import { createWebBridge, KEPT_SESSION_KEY } from '../../bridge/web-bridge';
import { FakePhoneEngine } from '../../testing/fake-engine';
import { ALICE_SESSION } from '../../testing/fake-session';
import { useSessionStore } from './session-store';
import type { PhoneStart } from './resume';

/** The engines the store started, with the SIP credentials each was given. */
const engines: Array<{ engine: FakePhoneEngine; sip: SipCredentials }> = [];
// The phone engine is the edge: JsSIP is not started in a unit test.
vi.mock('../../phone/jssip', () => ({
  createJsSipEngine: (sip: SipCredentials) => {
    const engine = new FakePhoneEngine();
    engines.push({ engine, sip });
    return engine;
  },
}));

const RENEWED = { ...ALICE_SESSION, sip: { ...ALICE_SESSION.sip, password: 'renewed-sip-password' } };

/** The PBX's sign-in and renewal, answering each path with what the test set. */
function fakeServer() {
  const requests: Array<{ path: string; authorization: string | null }> = [];
  const replies = new Map<string, () => Response>();
  const fetch = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const path = new URL(String(input)).pathname;
    requests.push({ path, authorization: new Headers(init?.headers).get('authorization') });
    const reply = replies.get(`${init?.method ?? 'GET'} ${path}`);
    if (!reply) throw new TypeError('Failed to fetch');
    return reply();
  });
  const json = (status: number, body: unknown) => () => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
  return { fetch, requests, replies, json };
}

describe('session store: staying signed in', () => {
  let server: ReturnType<typeof fakeServer>;
  let items: Map<string, string>;

  beforeEach(() => {
    engines.length = 0;
    server = fakeServer();
    items = new Map();
    const bridge = createWebBridge({
      storage: { getItem: (key) => items.get(key) ?? null, setItem: (key, value) => void items.set(key, value), removeItem: (key) => void items.delete(key) },
      setTitle: () => {},
      showNotification: () => {},
      platform: 'test',
    });
    vi.stubGlobal('window', { offhook: bridge });
    vi.stubGlobal('fetch', server.fetch);
    setActivePinia(createPinia());
  });

  afterEach(() => {
    useSessionStore().signOut();
    vi.unstubAllGlobals();
  });

  const kept = () => (items.has(KEPT_SESSION_KEY) ? JSON.parse(items.get(KEPT_SESSION_KEY) ?? '') : undefined);

  it('keeps the server and the token at sign-in, never a password, and tells that the phone started from a sign-in', async () => {
    const session = useSessionStore();
    const starts: PhoneStart[] = [];
    session.onDidStartPhone((start) => starts.push(start));
    server.replies.set('POST /api/v1/session', server.json(201, ALICE_SESSION));
    expect(await session.signIn({ serverUrl: 'http://pbx.test', extension: '101', password: 'secret' })).toBe(true);
    await vi.waitFor(() => expect(kept()).toEqual({ serverUrl: 'http://pbx.test', token: 'token-1' }));
    expect([...items.values()].join()).not.toMatch(/secret|"x"/);
    expect(starts.map((start) => start.resumed)).toEqual([false]);
  });

  it('after a reload, renews the kept token and starts the phone with the SIP credentials it answers, as a sign-in does', async () => {
    items.set(KEPT_SESSION_KEY, JSON.stringify({ serverUrl: 'http://pbx.test', token: 'token-1' }));
    server.replies.set('POST /api/v1/session/renew', server.json(200, RENEWED));
    const session = useSessionStore();
    const starts: PhoneStart[] = [];
    session.onDidStartPhone((start) => starts.push(start));

    await session.resume();
    expect(server.requests).toEqual([{ path: '/api/v1/session/renew', authorization: 'Bearer token-1' }]);
    expect([session.signedIn, session.serverUrl, session.user?.extension]).toEqual([true, 'http://pbx.test', '101']);
    expect(engines.map(({ sip, engine }) => [sip.password, engine.started])).toEqual([['renewed-sip-password', true]]);
    expect(starts).toEqual([{ session: RENEWED, serverUrl: 'http://pbx.test', resumed: true }]);
    expect(kept()).toEqual({ serverUrl: 'http://pbx.test', token: 'token-1' });
  });

  it('forgets a token the server says is over and shows the sign-in form with the sentence', async () => {
    items.set(KEPT_SESSION_KEY, JSON.stringify({ serverUrl: 'http://pbx.test', token: 'token-1' }));
    server.replies.set('POST /api/v1/session/renew', server.json(401, { error: { code: 'not_signed_in', message: 'Sign in to continue.' } }));
    const session = useSessionStore();
    await session.resume();
    expect([session.signedIn, session.signInError, kept()]).toEqual([false, SESSION_ENDED, undefined]);
    expect(engines).toEqual([]);
  });

  it('keeps the token while the server cannot be reached, and a sign-in meanwhile stops the retrying', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      items.set(KEPT_SESSION_KEY, JSON.stringify({ serverUrl: 'http://pbx.test', token: 'old-token' }));
      const session = useSessionStore();
      await session.resume();
      expect([session.signedIn, session.resuming, kept()?.token]).toEqual([false, true, 'old-token']);
      expect(session.resumeNotice).toBe("Can't reach the server at http://pbx.test. Trying again in 2 seconds.");

      server.replies.set('POST /api/v1/session', server.json(201, ALICE_SESSION));
      expect(await session.signIn({ serverUrl: 'http://pbx.test', extension: '101', password: 'secret' })).toBe(true);
      expect([session.resuming, session.resumeNotice]).toEqual([false, '']);
      server.replies.set('POST /api/v1/session/renew', server.json(200, RENEWED));
      await vi.advanceTimersByTimeAsync(120_000);
      expect(server.requests.filter((request) => request.path === '/api/v1/session/renew')).toHaveLength(1);
      expect(engines).toHaveLength(1);
      expect(kept()?.token).toBe('token-1');
    } finally {
      vi.useRealTimers();
    }
  });

  it('forgets the kept session on sign-out', async () => {
    const session = useSessionStore();
    server.replies.set('POST /api/v1/session', server.json(201, ALICE_SESSION));
    await session.signIn({ serverUrl: 'http://pbx.test', extension: '101', password: 'secret' });
    await vi.waitFor(() => expect(kept()).toBeDefined());
    session.signOut();
    await vi.waitFor(() => expect(kept()).toBeUndefined());
  });
});
