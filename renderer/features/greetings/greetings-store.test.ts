import { createPinia, setActivePinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { SessionResponse } from '../../../shared/api';
import type { Greeting } from '../../../shared/greetings';
import { useSessionStore } from '../sign-in';
import { useGreetingsStore } from './greetings-store';

const office: Greeting = { id: 1, name: 'Office', durationMs: 3000, createdAt: '2026-12-08T10:00:00.000Z', active: false };
const away: Greeting = { id: 2, name: 'Away', durationMs: 1500, createdAt: '2026-12-08T11:00:00.000Z', active: false };

/** The PBX at the fetch edge: what was asked, and a list that the changes act on. */
function fakePbx() {
  const requests: string[] = [];
  let list: Greeting[] = [away, office];
  const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
  const fetch = async (url: string, init: RequestInit = {}) => {
    const path = new URL(url).pathname + new URL(url).search;
    const body = typeof init.body === 'string' ? init.body : init.body ? '<audio>' : '';
    requests.push(`${init.method ?? 'GET'} ${path} ${body}`.trim());
    if (path === '/api/v1/greetings') return json(200, { greetings: list });
    if (init.method === 'POST') return json(400, { error: { code: 'bad_length', message: 'A greeting can be at most 2 minutes; this one is 3 min 5 s.' } });
    if (init.method === 'PATCH' && path === '/api/v1/greetings/1') {
      const active = (JSON.parse(body) as { active?: boolean }).active;
      list = list.map((g) => ({ ...g, active: active ? g.id === 1 : g.active && g.id !== 1 }));
      return json(200, list.find((g) => g.id === 1));
    }
    return json(404, { error: { code: 'not_found', message: 'There is no such greeting.' } });
  };
  return { requests, fetch };
}

describe('greetings store', () => {
  let pbx: ReturnType<typeof fakePbx>;

  beforeEach(() => {
    vi.stubGlobal('window', {});
    setActivePinia(createPinia());
    pbx = fakePbx();
    vi.stubGlobal('fetch', pbx.fetch);
    const session = useSessionStore();
    session.serverUrl = 'http://pbx.test';
    session.session = { token: 'token-1' } as SessionResponse;
  });
  afterEach(() => vi.unstubAllGlobals());

  it('lists what the PBX lists, and after Make active shows the PBX’s list again, one active', async () => {
    const store = useGreetingsStore();
    await store.refresh();
    expect(store.greetings.map((g) => g.name)).toEqual(['Away', 'Office']);
    expect(await store.makeActive(1)).toBe(true);
    expect(pbx.requests).toEqual(['GET /api/v1/greetings', 'PATCH /api/v1/greetings/1 {"active":true}', 'GET /api/v1/greetings']);
    expect(store.greetings.map((g) => [g.name, g.active])).toEqual([
      ['Away', false],
      ['Office', true],
    ]);
  });

  it('goes back to the default greeting by making the active one inactive, keeping it in the list', async () => {
    const store = useGreetingsStore();
    await store.refresh();
    // None active: nothing to change, nothing asked.
    expect(store.active).toBeUndefined();
    expect(await store.switchToDefault()).toBe(true);
    expect(pbx.requests).toEqual(['GET /api/v1/greetings']);

    await store.makeActive(1);
    expect(store.active?.name).toBe('Office');
    expect(await store.switchToDefault()).toBe(true);
    expect(pbx.requests.slice(-2)).toEqual(['PATCH /api/v1/greetings/1 {"active":false}', 'GET /api/v1/greetings']);
    expect(store.active).toBeUndefined();
    expect(store.greetings.map((g) => [g.name, g.active])).toEqual([
      ['Away', false],
      ['Office', false],
    ]);
  });

  it('keeps the PBX’s sentence when it refuses a greeting, and the list as it was', async () => {
    const store = useGreetingsStore();
    await store.refresh();
    expect(await store.save('Long', new Blob([new Uint8Array(4)], { type: 'audio/wav' }))).toBe(false);
    expect(store.error).toBe('A greeting can be at most 2 minutes; this one is 3 min 5 s.');
    expect(pbx.requests.at(-1)).toBe('POST /api/v1/greetings?name=Long <audio>');
    expect(store.greetings).toHaveLength(2);
    // The next thing that works clears it.
    await store.refresh();
    expect(store.error).toBe('');
  });
});
