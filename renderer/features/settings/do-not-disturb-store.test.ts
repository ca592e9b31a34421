import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { FakePhoneEngine } from '../../testing/fake-engine';
import { refusal, signedInPhone } from '../../testing/fake-pbx';
import type { fakePbx } from '../../testing/fake-pbx';
import { useEventsStore } from '../events';
import type { usePhoneStore } from '../calls';
import { useDoNotDisturbStore } from './do-not-disturb-store';
import { useSettingsStore } from './settings-store';

/** The events WebSocket at the edge: opened and fed by the test. */
class FakeSocket {
  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: ((event: { code: number; reason: string }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  close(): void {}
  send(data: unknown): void {
    this.onmessage?.({ data: JSON.stringify(data) });
  }
}

describe('do not disturb as a PBX setting', () => {
  let pbx: ReturnType<typeof fakePbx>;
  let phone: ReturnType<typeof usePhoneStore>;
  let engine: FakePhoneEngine;
  let stop: () => void;

  beforeEach(() => {
    vi.useFakeTimers();
    ({ pbx, phone, engine, stop } = signedInPhone());
  });
  afterEach(() => {
    useEventsStore().stop();
    stop();
    vi.useRealTimers();
  });

  it('reads the PBX at sign-in; then the PBX, not the app, keeps calls away, and its value is kept for later', async () => {
    pbx.answers.push({ status: 200, body: { enabled: true } });
    const dnd = useDoNotDisturbStore();
    dnd.follow();
    await vi.waitFor(() => expect(dnd.atPbx).toBe(true));
    expect(pbx.requests).toEqual([{ url: 'http://pbx.test/api/v1/me/do-not-disturb', method: 'GET', body: undefined }]);
    expect(pbx.headers[0]?.get('authorization')).toBe('Bearer token-1');
    expect(dnd.enabled).toBe(true);
    expect(dnd.silencesLocally).toBe(false);
    await vi.waitFor(() => expect(useSettingsStore().settings.doNotDisturb).toBe(true));
    // A call that still reaches the app (the PBX put it through) rings: the app does not second-guess the PBX.
    const id = engine.ring({ name: '', number: '102' });
    expect(engine.requests).toEqual([]);
    expect(phone.callList.map((call) => call.id)).toEqual([id]);
  });

  it('turns calls away in the app while the PBX setting cannot be read', async () => {
    useSettingsStore().settings = { doNotDisturb: true };
    pbx.answers.push(refusal(404, 'not_found', 'Not found'));
    const dnd = useDoNotDisturbStore();
    await dnd.load();
    expect(pbx.requests).toHaveLength(1);
    expect(dnd.atPbx).toBeUndefined();
    expect(dnd.enabled).toBe(true);
    expect(dnd.silencesLocally).toBe(true);
    const id = engine.ring({ name: '', number: '102' });
    expect(engine.requests).toEqual([`busy ${id}`]);
  });

  it('changes the PBX setting and shows what the PBX answered', async () => {
    pbx.answers.push({ status: 200, body: { enabled: false } }, { status: 200, body: { enabled: true } });
    const dnd = useDoNotDisturbStore();
    dnd.follow();
    await vi.waitFor(() => expect(dnd.atPbx).toBe(false));
    await dnd.set(true);
    expect(pbx.requests[1]).toEqual({ url: 'http://pbx.test/api/v1/me/do-not-disturb', method: 'PUT', body: { enabled: true } });
    expect(dnd.enabled).toBe(true);
    expect(dnd.error).toBe('');
  });

  it('says so when the PBX refuses a change, and shows what it still has', async () => {
    pbx.answers.push({ status: 200, body: { enabled: false } }, { status: 500, body: { error: { code: 'internal', message: 'The server failed.' } } });
    const dnd = useDoNotDisturbStore();
    dnd.follow();
    await vi.waitFor(() => expect(dnd.atPbx).toBe(false));
    await dnd.set(true);
    expect(dnd.enabled).toBe(false);
    expect(dnd.error).toBe('Do not disturb was not changed: The server failed.');
  });

  it('follows a change made on another device, from the live event', async () => {
    pbx.answers.push({ status: 200, body: { enabled: false } });
    const dnd = useDoNotDisturbStore();
    dnd.follow();
    await vi.waitFor(() => expect(dnd.atPbx).toBe(false));
    const socket = new FakeSocket();
    useEventsStore().start({ serverUrl: 'http://pbx.test', token: 'token-1', userId: 2 }, { socket: () => socket });
    socket.onopen?.({});
    socket.send({ kind: 'ready', seq: 0 });
    socket.send({ kind: 'event', seq: 1, at: '2026-12-08T10:00:00.000Z', event: { type: 'do-not-disturb', enabled: true } });
    expect(dnd.enabled).toBe(true);
    socket.send({ kind: 'event', seq: 2, at: '2026-12-08T10:00:01.000Z', event: { type: 'do-not-disturb', enabled: false } });
    expect(dnd.enabled).toBe(false);
  });
});
