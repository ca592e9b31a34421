/**
 * What the web phone does before the first call: the first screen (sign-in, then the phone) loads without the
 * other panes, which are fetched when first opened; and once registered, the phone pays the audio stack's
 * first-use cost while idle (renderer/phone/audio-warmup.ts) without opening the microphone.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { alice, useStage } from './support/setup';
import { WebPhone } from './support/web-phone';

/** Counts, in the page, the audio contexts made and closed and the microphones asked for. */
function countAudio(): void {
  const counts = { contextsMade: 0, contextsClosed: 0, microphoneRequests: 0 };
  Object.assign(window, { __audioCounts: counts });
  const Native = window.AudioContext;
  window.AudioContext = class extends Native {
    constructor(options?: AudioContextOptions) {
      super(options);
      counts.contextsMade++;
    }
    override close(): Promise<void> {
      counts.contextsClosed++;
      return super.close();
    }
  };
  const devices = navigator.mediaDevices;
  const getUserMedia = devices.getUserMedia.bind(devices);
  devices.getUserMedia = (constraints) => {
    counts.microphoneRequests++;
    return getUserMedia(constraints);
  };
}

describe('before the first call', () => {
  const stage = useStage('first-screen', [440]);
  const phones: WebPhone[] = [];

  afterEach(async () => {
    for (const phone of phones.splice(0)) await phone.close();
  });

  it('loads the sign-in and phone screens first, and Call History and Settings only when they are opened', async () => {
    const phone = await WebPhone.open(stage.browsers[0]!, 'about:blank');
    phones.push(phone);
    const scripts: string[] = [];
    phone.page.on('request', (request) => {
      if (request.resourceType() === 'script') scripts.push(new URL(request.url()).pathname);
    });
    await phone.page.goto(stage.pbx.url);
    await phone.signIn(alice.extension, alice.password);
    await phone.waitUntilRegistered();
    expect(scripts.length, 'the app itself was loaded').toBeGreaterThan(0);
    expect(scripts.filter((path) => /CallHistoryView|SettingsView/.test(path)), 'no other pane with the first screen').toEqual([]);

    await phone.openSection('Call History');
    await expect.poll(() => scripts.some((path) => path.includes('CallHistoryView'))).toBe(true);
    await phone.page.getByRole('heading', { name: 'Call History' }).waitFor();
    expect(scripts.some((path) => path.includes('SettingsView')), 'Settings still waits to be opened').toBe(false);

    await phone.openSection('Settings');
    await phone.page.getByRole('heading', { name: 'Settings' }).waitFor();
    expect(scripts.some((path) => path.includes('SettingsView'))).toBe(true);
  });

  it('warms the audio stack once registered, with no call and without opening the microphone', async () => {
    const phone = await WebPhone.open(stage.browsers[0]!, 'about:blank');
    phones.push(phone);
    await phone.page.addInitScript({ content: 'globalThis.__name ??= (fn) => fn;' });
    await phone.page.addInitScript(countAudio);
    await phone.page.goto(stage.pbx.url);
    const counts = () => phone.page.evaluate(() => (window as unknown as { __audioCounts: Record<string, number> }).__audioCounts);
    expect((await counts()).contextsMade, 'nothing is warmed before signing in').toBe(0);

    await phone.signIn(alice.extension, alice.password);
    await phone.waitUntilRegistered();
    await expect.poll(async () => (await counts()).contextsClosed, { timeout: 5_000 }).toBe(1);
    expect(await counts()).toEqual({ contextsMade: 1, contextsClosed: 1, microphoneRequests: 0 });
  });
});
