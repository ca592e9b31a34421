import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createPinia, setActivePinia } from 'pinia';
import type { SessionResponse } from '../../../shared/api';
import { createWebBridge } from '../../bridge/web-bridge';
import { FakePhoneEngine } from '../../testing/fake-engine';
import { ALICE_SESSION } from '../../testing/fake-session';
import { useSessionStore } from './session-store';
import { useSettingsStore } from '../settings';

// The phone engine is the edge: JsSIP is not started in a unit test.
vi.mock('../../phone/jssip', () => ({ createJsSipEngine: () => new FakePhoneEngine() }));

const CHOICES = [
  { name: 'Demo Company', domain: 'demo.test' },
  { name: 'Second Company', domain: 'second.test' },
];
const CHOOSE = { error: { code: 'organization_required', message: 'This server hosts several organizations: choose yours.', field: 'organization', organizations: CHOICES } };
const SECOND_SESSION: SessionResponse = {
  ...ALICE_SESSION,
  user: { ...ALICE_SESSION.user, organization: { id: 2, name: 'Second Company', domain: 'second.test' } },
};

/** The network edge: the PBX's sign-in, answering each request with the next reply the test queued. */
function fakeServer() {
  const bodies: unknown[] = [];
  const replies: Array<[number, unknown]> = [];
  const fetch = vi.fn(async (_input: RequestInfo | URL, init?: RequestInit) => {
    bodies.push(JSON.parse(String(init?.body)));
    const [status, body] = replies.shift() ?? [500, {}];
    return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
  });
  return { fetch, bodies, reply: (status: number, body: unknown) => replies.push([status, body]) };
}

describe('session store: signing in', () => {
  let server: ReturnType<typeof fakeServer>;
  let session: ReturnType<typeof useSessionStore>;
  const form = (extension: string, organization?: string) => ({ serverUrl: 'http://pbx.test', extension, password: 'secret', organization });

  beforeEach(() => {
    server = fakeServer();
    const items = new Map<string, string>();
    const bridge = createWebBridge({
      storage: { getItem: (key) => items.get(key) ?? null, setItem: (key, value) => void items.set(key, value) },
      setTitle: () => {},
      showNotification: () => {},
      platform: 'test',
    });
    vi.stubGlobal('window', { offhook: bridge });
    vi.stubGlobal('fetch', server.fetch);
    setActivePinia(createPinia());
    session = useSessionStore();
  });

  afterEach(() => {
    session.signOut();
    vi.unstubAllGlobals();
  });

  it('signs in with an extension alone where the server hosts one organization, never asking which, and remembers the extension', async () => {
    server.reply(201, ALICE_SESSION);
    expect(session.asksOrganization('101')).toBe(false);
    expect(await session.signIn(form('101'))).toBe(true);
    expect(server.bodies).toEqual([{ extension: '101', password: 'secret' }]);
    expect(useSettingsStore().settings.lastExtension).toBe('101');
  });

  it('sends a SIP address as typed and remembers it, so the next sign-in names the organization again', async () => {
    server.reply(201, SECOND_SESSION);
    expect(await session.signIn(form(' 101@Second.Test '))).toBe(true);
    expect(server.bodies).toEqual([{ extension: '101@Second.Test', password: 'secret' }]);
    expect(useSettingsStore().settings.lastExtension).toBe('101@second.test');
  });

  it('asks which organization when the server offers a choice, and signs in to the one chosen', async () => {
    server.reply(400, CHOOSE);
    expect(await session.signIn(form('101'))).toBe(false);
    expect(session.organizationChoices).toEqual(CHOICES);
    expect(session.asksOrganization('101')).toBe(true);
    expect([session.signInError, session.signInErrorField]).toEqual(['This server hosts several organizations: choose yours.', 'organization']);

    // Not chosen yet: the server is not asked.
    expect(await session.signIn(form('101'))).toBe(false);
    expect([session.signInError, session.signInErrorField]).toEqual(['Choose your organization.', 'organization']);
    expect(server.fetch).toHaveBeenCalledTimes(1);

    server.reply(201, SECOND_SESSION);
    expect(await session.signIn(form('101', 'second.test'))).toBe(true);
    expect(server.bodies[1]).toEqual({ extension: '101', password: 'secret', organization: 'second.test' });
    expect(useSettingsStore().settings.lastExtension).toBe('101@second.test');
    expect(session.organizationChoices).toEqual([]);
  });

  it('does not ask which organization once a SIP address is typed, and sends no organization with it', async () => {
    server.reply(400, CHOOSE);
    await session.signIn(form('101'));
    expect(session.asksOrganization('101@demo.test')).toBe(false);
    server.reply(201, ALICE_SESSION);
    expect(await session.signIn(form('101@demo.test', 'second.test'))).toBe(true);
    expect(server.bodies[1]).toEqual({ extension: '101@demo.test', password: 'secret' });
  });

  it('asks for the SIP address, with nothing to choose, when the server lists no organizations', async () => {
    const message = "This server hosts several organizations: sign in with your SIP address, your extension followed by @ and your organization's domain (such as 101@example.com).";
    server.reply(400, { error: { code: 'organization_required', message, field: 'extension' } });
    expect(await session.signIn(form('101'))).toBe(false);
    expect([session.signInError, session.signInErrorField]).toEqual([message, 'extension']);
    expect(session.asksOrganization('101')).toBe(false);
  });

  it("forgets one server's organizations when signing in to another", async () => {
    server.reply(400, CHOOSE);
    await session.signIn(form('101'));
    server.reply(201, ALICE_SESSION);
    expect(await session.signIn({ ...form('101', 'second.test'), serverUrl: 'http://other-pbx.test' })).toBe(true);
    expect(server.bodies[1]).toEqual({ extension: '101', password: 'secret' });
  });

  it('remembers the extension alone when the SIP address is too long for the settings', async () => {
    const domain = `${'long'.repeat(8)}.test`;
    server.reply(201, { ...ALICE_SESSION, user: { ...ALICE_SESSION.user, organization: { id: 3, name: 'Long', domain } } });
    expect(await session.signIn(form(`101@${domain}`))).toBe(true);
    expect(useSettingsStore().settings.lastExtension).toBe('101');
  });
});
