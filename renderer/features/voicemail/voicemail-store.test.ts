import { createPinia, setActivePinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { SessionResponse } from '../../../shared/api';
import type { Voicemail, VoicemailCounts, VoicemailEvent } from '../../../shared/voicemail';
import { createWebBridge } from '../../bridge/web-bridge';
import { useEventsStore } from '../events';
import { useSessionStore } from '../sign-in';
import { FakeEventSocket } from '../../testing/fake-event-socket';
import { useVoicemailStore } from './voicemail-store';

const SERVER = 'http://127.0.0.1:8088';
/** Node's own fetch, which reads blob: URLs; the global one is the fake mailbox's during the tests. */
const nodeFetch = globalThis.fetch;

const SESSION: SessionResponse = {
  token: 'token-1',
  expiresAt: '2030-01-01T00:00:00.000Z',
  user: { id: 7, extension: '101', displayName: 'Alice Adams', role: 'user', organization: { id: 1, name: 'Example Ltd', domain: 'example.org' } },
  sip: { uri: 'sip:101@example.org', wsUrl: 'ws://127.0.0.1:8088/sip', authorizationUser: '101', password: 'x', realm: 'example.org', displayName: 'Alice Adams' },
};

function message(id: number, status: Voicemail['status'], minute: number): Voicemail {
  return {
    id,
    callerName: `Caller ${id}`,
    callerNumber: `10${id}`,
    receivedAt: new Date(Date.UTC(2026, 11, 7, 10, minute)).toISOString(),
    durationMs: 12_000,
    status,
    transcript: { status: 'pending' },
  };
}

interface Sent {
  method: string;
  url: URL;
  body: unknown;
  authorization: string | null;
}

/**
 * The PBX's side of the contract, at the network edge: a mailbox in memory that answers the REST calls the
 * store makes, and remembers each request.
 */
class FakeMailbox {
  messages: Voicemail[] = [];
  sent: Sent[] = [];
  /** Answers for the next requests instead of the mailbox's own (a refusal, a network failure). */
  next: Array<() => Response> = [];

  counts(): VoicemailCounts {
    return { new: this.messages.filter((m) => m.status === 'new').length, saved: this.messages.filter((m) => m.status === 'saved').length };
  }

  readonly fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = new URL(String(input));
    const headers = new Headers(init?.headers);
    const method = init?.method ?? 'GET';
    this.sent.push({ method, url, body: init?.body ? JSON.parse(String(init.body)) : undefined, authorization: headers.get('authorization') });
    const forced = this.next.shift();
    if (forced) return forced();
    const id = Number(/\/voicemails\/(\d+)/.exec(url.pathname)?.[1]);
    const found = this.messages.find((m) => m.id === id);
    if (method === 'GET' && url.pathname === '/api/v1/voicemails') {
      const box = url.searchParams.get('box');
      const q = url.searchParams.get('q')?.toLowerCase();
      const items = this.messages
        .filter((m) => (!box || m.status === box) && (!q || m.callerName.toLowerCase().includes(q) || (m.transcript.text ?? '').toLowerCase().includes(q)))
        .sort((a, b) => b.receivedAt.localeCompare(a.receivedAt))
        .slice(0, Number(url.searchParams.get('limit') ?? 100));
      return json(200, { items, counts: this.counts() });
    }
    if (!found) return json(404, { error: { code: 'not_found', message: 'No such voicemail' } });
    if (method === 'PATCH') {
      found.status = (JSON.parse(String(init?.body)) as { status: Voicemail['status'] }).status;
      return json(200, found);
    }
    if (method === 'DELETE') {
      this.messages = this.messages.filter((m) => m !== found);
      return new Response(null, { status: 204 });
    }
    if (method === 'GET' && url.pathname.endsWith('/audio')) return new Response(new Uint8Array([79, 103, 103, 83, id]), { status: 200, headers: { 'content-type': 'audio/ogg' } });
    return json(405, { error: { code: 'method', message: 'Not allowed' } });
  }) as typeof globalThis.fetch;
}

const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

describe('voicemail store', () => {
  let mailbox: FakeMailbox;
  let socket: FakeEventSocket;
  let seq: number;

  function publish(event: VoicemailEvent | { type: 'resync'; reason: 'expired' }): void {
    socket.deliver({ kind: 'event', seq: ++seq, at: '2026-12-07T10:00:00.000Z', event });
  }

  function signIn(): void {
    const session = useSessionStore();
    session.serverUrl = SERVER;
    session.session = SESSION;
  }

  beforeEach(() => {
    const bridge = createWebBridge({ storage: undefined, setTitle: () => {}, showNotification: () => {}, platform: 'test' });
    vi.stubGlobal('window', { offhook: bridge });
    setActivePinia(createPinia());
    mailbox = new FakeMailbox();
    mailbox.messages = [message(1, 'new', 1), message(2, 'saved', 2), message(3, 'new', 3)];
    vi.stubGlobal('fetch', mailbox.fetch);
    socket = new FakeEventSocket();
    seq = 0;
    useEventsStore().start({ serverUrl: SERVER, token: SESSION.token, userId: SESSION.user.id }, { socket: () => socket });
    socket.onopen?.({});
    socket.deliver({ kind: 'ready', seq: 0 });
  });
  afterEach(() => {
    useEventsStore().stop();
    vi.unstubAllGlobals();
  });

  it('loads the counts for the badge once signed in, before any pane opens', async () => {
    const store = useVoicemailStore();
    expect(store.newCount).toBe(0);
    signIn();
    await vi.waitFor(() => expect(store.newCount).toBe(2));
    expect(store.counts).toEqual({ new: 2, saved: 1 });
    expect(mailbox.sent[0]?.authorization).toBe('Bearer token-1');
  });

  it('lists the box shown newest first, and the other box when switched', async () => {
    signIn();
    const store = useVoicemailStore();
    const close = store.open();
    await vi.waitFor(() => expect(store.items.map((m) => m.id)).toEqual([3, 1]));
    store.showBox('saved');
    await vi.waitFor(() => expect(store.items.map((m) => m.id)).toEqual([2]));
    expect(mailbox.sent.at(-1)?.url.searchParams.get('box')).toBe('saved');
    close();
  });

  it('asks the server to search, with what was typed, once typing pauses', async () => {
    signIn();
    mailbox.messages[0]!.transcript = { status: 'done', text: 'Call me about the invoice' };
    const store = useVoicemailStore();
    store.open();
    await vi.waitFor(() => expect(store.items).toHaveLength(2));
    store.search = 'inv';
    store.search = 'invoice';
    await vi.waitFor(() => expect(store.items.map((m) => m.id)).toEqual([1]));
    const searches = mailbox.sent.filter((s) => s.url.searchParams.has('q')).map((s) => s.url.searchParams.get('q'));
    expect(searches).toEqual(['invoice']);
  });

  it('follows a voicemail event: the counts at once, the list right after', async () => {
    signIn();
    const store = useVoicemailStore();
    store.open();
    await vi.waitFor(() => expect(store.items).toHaveLength(2));
    mailbox.messages.push(message(4, 'new', 4));
    publish({ type: 'voicemail', change: 'added', id: 4, counts: mailbox.counts() });
    expect(store.newCount).toBe(3);
    await vi.waitFor(() => expect(store.items.map((m) => m.id)).toEqual([4, 3, 1]), { timeout: 1_000 });
  });

  it('updates only the counts on an event while no pane shows the list, and reloads them on a resync', async () => {
    signIn();
    const store = useVoicemailStore();
    await vi.waitFor(() => expect(store.newCount).toBe(2));
    publish({ type: 'voicemail', change: 'added', id: 9, counts: { new: 5, saved: 1 } });
    expect(store.newCount).toBe(5);
    await vi.waitFor(() => expect(store.newCount).toBe(2), { timeout: 1_000 });
    expect(store.items).toHaveLength(0);
    mailbox.messages.push(message(5, 'new', 5));
    publish({ type: 'resync', reason: 'expired' });
    await vi.waitFor(() => expect(store.newCount).toBe(3), { timeout: 1_000 });
  });

  it('moves a message between New and Saved', async () => {
    signIn();
    const store = useVoicemailStore();
    store.open();
    await vi.waitFor(() => expect(store.items).toHaveLength(2));
    await expect(store.move(3, 'saved')).resolves.toBe(true);
    expect(store.items.map((m) => m.id)).toEqual([1]);
    expect(mailbox.sent.at(-1)).toMatchObject({ method: 'PATCH', body: { status: 'saved' } });
    expect(mailbox.sent.at(-1)?.url.pathname).toBe('/api/v1/voicemails/3');
    await vi.waitFor(() => expect(store.counts).toEqual({ new: 1, saved: 2 }), { timeout: 1_000 });
    store.showBox('saved');
    await vi.waitFor(() => expect(store.items.map((m) => m.id)).toEqual([3, 2]));
    await expect(store.move(3, 'new')).resolves.toBe(true);
    expect(store.items.map((m) => m.id)).toEqual([2]);
    expect(store.notice).toBe('Message marked as new.');
  });

  it('says why a move failed and keeps the message where it was', async () => {
    signIn();
    const store = useVoicemailStore();
    store.open();
    await vi.waitFor(() => expect(store.items).toHaveLength(2));
    mailbox.next.push(() => json(500, { error: { code: 'internal', message: 'the database is busy' } }));
    await expect(store.move(3, 'saved')).resolves.toBe(false);
    expect(store.actionError).toBe('The database is busy.');
    expect(store.items.map((m) => m.id)).toEqual([3, 1]);
  });

  it('deletes a message, and stops the player when it was the one loaded', async () => {
    signIn();
    const store = useVoicemailStore();
    store.open();
    await vi.waitFor(() => expect(store.items).toHaveLength(2));
    const url = await store.load(store.items[0]!);
    expect(url).toMatch(/^blob:/);
    await expect(store.remove(3)).resolves.toBe(true);
    expect(store.current).toBeUndefined();
    expect(store.currentUrl).toBeUndefined();
    expect(mailbox.messages.map((m) => m.id)).toEqual([1, 2]);
    expect(store.items.map((m) => m.id)).toEqual([1]);
  });

  it('says so when a message to delete is already gone', async () => {
    signIn();
    const store = useVoicemailStore();
    await expect(store.remove(99)).resolves.toBe(false);
    expect(store.actionError).toBe('That message is no longer in your mailbox.');
  });

  it('plays from the audio fetched with the token, and playing a new message saves it', async () => {
    signIn();
    const store = useVoicemailStore();
    store.open();
    await vi.waitFor(() => expect(store.items).toHaveLength(2));
    const url = await store.load(store.items[0]!);
    const audio = mailbox.sent.find((s) => s.url.pathname === '/api/v1/voicemails/3/audio');
    expect(audio?.authorization).toBe('Bearer token-1');
    const blob = await (await nodeFetch(url!)).blob();
    expect([...new Uint8Array(await blob.arrayBuffer())]).toEqual([79, 103, 103, 83, 3]);
    await vi.waitFor(() => expect(mailbox.messages.find((m) => m.id === 3)?.status).toBe('saved'));
    // The player keeps its message though it left the New list.
    expect(store.current?.id).toBe(3);
    expect(store.current?.status).toBe('saved');
    expect(store.items.map((m) => m.id)).toEqual([1]);
    await vi.waitFor(() => expect(store.notice).toBe('Played, so it moved to Saved.'));
  });

  it('does not save a saved message again when it plays, and revokes the last audio when another is loaded', async () => {
    signIn();
    const store = useVoicemailStore();
    store.showBox('saved');
    store.open();
    await vi.waitFor(() => expect(store.items).toHaveLength(1));
    const first = await store.load(store.items[0]!);
    const patches = mailbox.sent.filter((s) => s.method === 'PATCH').length;
    expect(patches).toBe(0);
    const second = await store.load(message(1, 'new', 1));
    expect(second).not.toBe(first);
    await expect(nodeFetch(first!)).rejects.toThrow();
  });

  it('signs out when the server says the session is over', async () => {
    signIn();
    const store = useVoicemailStore();
    await vi.waitFor(() => expect(store.newCount).toBe(2));
    store.open();
    mailbox.next.push(() => json(401, { error: { code: 'unauthorized', message: 'Session expired' } }));
    await vi.waitFor(() => expect(useSessionStore().signedIn).toBe(false));
    expect(store.newCount).toBe(0);
  });

  it('shows the server’s sentence when the list cannot be loaded', async () => {
    signIn();
    const store = useVoicemailStore();
    await vi.waitFor(() => expect(store.newCount).toBe(2));
    mailbox.next.push(() => new Response('<html>bad gateway</html>', { status: 502 }));
    await store.refresh();
    expect(store.error).toBe('Loading your voicemail failed (error 502).');
  });
});

describe('voicemail PIN', () => {
  let sent: Array<{ method: string; url: string; body: unknown }>;
  let reply: () => Response;

  beforeEach(() => {
    vi.stubGlobal('window', { offhook: createWebBridge({ storage: undefined, setTitle: () => {}, showNotification: () => {}, platform: 'test' }) });
    setActivePinia(createPinia());
    sent = [];
    reply = () => new Response(null, { status: 204 });
    vi.stubGlobal('fetch', (async (input: RequestInfo | URL, init?: RequestInit) => {
      const url = String(input);
      sent.push({ method: init?.method ?? 'GET', url, body: init?.body ? JSON.parse(String(init.body)) : undefined });
      return url.includes('/voicemails') ? json(200, { items: [], counts: { new: 0, saved: 0 } }) : reply();
    }) as typeof globalThis.fetch);
    const session = useSessionStore();
    session.serverUrl = SERVER;
    session.session = SESSION;
  });
  afterEach(() => vi.unstubAllGlobals());

  it('puts a PIN of 4 to 10 digits to the PBX', async () => {
    const store = useVoicemailStore();
    await expect(store.setPin('482913')).resolves.toBe('');
    expect(sent.filter((s) => s.method === 'PUT')).toEqual([{ method: 'PUT', url: `${SERVER}/api/v1/voicemail/pin`, body: { pin: '482913' } }]);
  });

  it('refuses a PIN that is not 4 to 10 digits without asking the PBX', async () => {
    const store = useVoicemailStore();
    for (const pin of ['123', '12345678901', '12a4', '']) await expect(store.setPin(pin)).resolves.toBe('The PIN must be 4 to 10 digits.');
    expect(sent.filter((s) => s.method === 'PUT')).toHaveLength(0);
  });

  it('shows the PBX’s sentence when it refuses the PIN', async () => {
    reply = () => json(400, { error: { code: 'invalid', message: 'that PIN is too easy to guess', field: 'pin' } });
    const store = useVoicemailStore();
    await expect(store.setPin('1111')).resolves.toBe('That PIN is too easy to guess.');
  });
});
