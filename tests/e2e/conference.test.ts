/**
 * Add Call, Merge and Remove in the app, through a real PBX that mixes the conference: Alice and Bob each in their
 * own Chromium (Opus over WebRTC), Carol on a desk phone (baresip, G.711 over plain RTP), each playing their own
 * tone. Alice calls Bob, adds Carol and merges: each must hear both others' tones and never their own, whichever
 * codec they speak. The tones (1150, 1430 and 1990 Hz) are chosen so that no sum or difference of two or three of
 * them (the distortion a codec or the mix may add) lands near a third, so a tone heard is a tone sent.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Locator } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { baresipMissing, levelDbfs, startBaresip, toneShare } from '../interop/support/baresip';
import type { Baresip } from '../interop/support/baresip';
import { expectAccessible } from './support/axe';
import { alice, bob, carol, useStage } from './support/setup';
import { writeToneWav } from './support/tone';
import { expectToHear, WebPhone } from './support/web-phone';

const TONE = { alice: 1150, bob: 1430, carol: 1990 } as const;
const DOMAIN = 'demo.offhook.test';
/** Carol as the name search suggests her. */
const CAROL = 'Carol Chen 103';

const missing = baresipMissing();
if (missing) console.log(`e2e: the conference with a desk phone skipped: ${missing}`);

/** Between the tones and their sums and differences (all 280 Hz or more apart), where nothing was sent. */
const FLOOR_HZ = [1290, 1570, 1850];
/** A tone heard stands this far above the floor… */
const HEARD_ABOVE_FLOOR_DB = 20;
/** …and one not heard no further than this. */
const NOT_HEARD_ABOVE_FLOOR_DB = 10;

describe.skipIf(missing !== undefined)('a conference built in the app, mixed at the PBX', () => {
  const stage = useStage('conference', [TONE.alice, TONE.bob]);
  const phones: WebPhone[] = [];
  let dir: string;
  let desk: Baresip;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'offhook-conference-desk-'));
    // aufile ends baresip's call when its file runs out: this one outlasts every call.
    writeToneWav(join(dir, 'carol.wav'), TONE.carol, 120, 8_000);
    const udp = /SIP over UDP\s+sip:127\.0\.0\.1:(\d+);transport=udp/.exec(stage.pbx.output());
    if (!udp?.[1]) throw new Error(`the PBX printed no UDP SIP address:\n${stage.pbx.output()}`);
    desk = await startBaresip({
      dir,
      extension: carol.extension,
      domain: DOMAIN,
      password: carol.sipPassword,
      registrar: { host: '127.0.0.1', port: Number(udp[1]) },
      sourceWav: join(dir, 'carol.wav'),
    });
  });

  afterEach(async () => {
    for (const phone of phones.splice(0)) await phone.close();
    await desk?.hangUp().catch(() => undefined);
  });

  afterAll(async () => {
    await desk?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function signedIn(index: number, user: { extension: string; password: string }): Promise<WebPhone> {
    const phone = await WebPhone.open(stage.browsers[index]!, stage.pbx.url);
    phones.push(phone);
    await phone.signIn(user.extension, user.password);
    await phone.waitUntilRegistered();
    return phone;
  }

  /**
   * Waits until `phone` hears every tone of `heard` from `card`, and none of `absent`. Heard: the tone stands
   * HEARD_ABOVE_FLOOR_DB over the floor, read between the tones where neither they nor their sums and
   * differences fall (Chromium's noise suppression turns a steady tone down, so levels alone say little).
   * Not heard: no more than NOT_HEARD_ABOVE_FLOOR_DB over that floor.
   */
  async function expectMix(phone: WebPhone, heard: number[], absent: number[], card?: Locator): Promise<void> {
    const tones = [...heard, ...absent];
    let levels: number[] = [];
    let floor = 0;
    let ok = false;
    for (let attempt = 0; attempt < 8 && !ok; attempt++) {
      levels = await phone.levelsAt([...tones, ...FLOOR_HZ], card);
      floor = Math.max(...levels.slice(tones.length));
      ok = levels.slice(0, heard.length).every((db) => db > floor + HEARD_ABOVE_FLOOR_DB) && levels.slice(heard.length, tones.length).every((db) => db < floor + NOT_HEARD_ABOVE_FLOOR_DB);
    }
    const figures = `${tones.map((hz, i) => `${hz} Hz ${levels[i]?.toFixed(1)} dB`).join(', ')}; floor ${floor.toFixed(1)} dB`;
    heard.forEach((hz, i) => expect(levels[i], `hears ${hz} Hz (${figures})`).toBeGreaterThan(floor + HEARD_ABOVE_FLOOR_DB));
    absent.forEach((hz, i) => expect(levels[heard.length + i], `does not hear ${hz} Hz (${figures})`).toBeLessThan(floor + NOT_HEARD_ABOVE_FLOOR_DB));
  }

  /**
   * What the desk phone heard over the last 1.5 s of its one call since `before` (baresip writes the call's
   * decoded audio as it goes): every tone of `heard` a fair share of it, none of `absent`.
   */
  async function expectDeskHears(before: string[], heard: number[], absent: number[]): Promise<void> {
    let figures = '';
    let ok = false;
    for (let attempt = 0; attempt < 10 && !ok; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      const recording = desk.heardSince(before);
      if (!recording || recording.samples.length < 2 * recording.sampleRate) continue;
      const recent = recording.samples.subarray(recording.samples.length - Math.round(1.5 * recording.sampleRate));
      const shares = [...heard, ...absent].map((hz) => toneShare(recent, recording.sampleRate, hz));
      figures = `${levelDbfs(recent).toFixed(1)} dBFS; ${[...heard, ...absent].map((hz, i) => `${(shares[i]! * 100).toFixed(1)}% at ${hz} Hz`).join(', ')}`;
      // Two tones mixed evenly hold about half the power each; one alone nearly all.
      ok = shares.slice(0, heard.length).every((share) => share > 0.6 / heard.length) && shares.slice(heard.length).every((share) => share < 0.02);
    }
    expect(ok, `the desk phone hears ${heard.join(' and ')} Hz and not ${absent.join(' or ')} Hz (${figures || `no recording yet:\n${desk.output()}`})`).toBe(true);
  }

  /**
   * Alice calls Bob, presses Add Call and calls Carol by name; Carol's desk phone answers by itself; Alice
   * presses Merge. Returns Alice's and Bob's phones and the desk phone's recordings before the call.
   */
  async function aliceMergesBobAndCarol(): Promise<{ a: WebPhone; b: WebPhone; deskBefore: string[] }> {
    const deskBefore = desk.recordings();
    const a = await signedIn(0, alice);
    const b = await signedIn(1, bob);
    await a.call(bob.extension);
    await b.answer();
    await b.activeCall().waitFor();
    await expectToHear(b, TONE.alice);
    await expectToHear(a, TONE.bob);

    await a.press('Add Call');
    const panel = a.activeCall().getByRole('group', { name: 'Add Call' });
    const field = panel.getByRole('combobox', { name: 'Number' });
    await expect.poll(() => field.evaluate((element) => element === document.activeElement)).toBe(true);
    await field.fill('Carol');
    const carolSuggestion = panel.getByRole('listbox', { name: 'Suggestions' }).getByRole('option', { name: CAROL, exact: true });
    await carolSuggestion.waitFor();
    await expectAccessible(a.page, 'add-call panel with suggestions');
    await carolSuggestion.click();
    await panel.getByRole('button', { name: 'Call', exact: true }).click();

    // Bob waits on hold while Alice talks to Carol.
    const held = a.card('Held call');
    await held.waitFor({ timeout: 10_000 });
    await expect.poll(() => a.activeCall().textContent(), { timeout: 15_000 }).toContain('Added call');
    await expectToHear(a, TONE.carol, a.activeCall());

    const merge = held.getByRole('button', { name: 'Merge', exact: true });
    await expect.poll(() => merge.isEnabled(), { timeout: 10_000 }).toBe(true);
    await expectAccessible(a.page, 'added call, first call held, Merge offered');
    await merge.click();
    // The added call's card ends; the first becomes the conference's, taken off hold.
    await a.page.getByText('Merged into the conference').waitFor({ timeout: 10_000 });
    await expect.poll(() => a.callCards().count(), { timeout: 10_000 }).toBe(1);
    await a.activeCall().waitFor({ timeout: 10_000 });
    return { a, b, deskBefore };
  }

  function participant(a: WebPhone, name: string): Locator {
    return a.activeCall().getByRole('list', { name: 'Participants' }).getByRole('listitem').filter({ hasText: name });
  }

  it('Add Call, then Merge: everyone hears both others and not themselves; Remove takes Bob out of everyone\'s hearing', async () => {
    const { a, b, deskBefore } = await aliceMergesBobAndCarol();
    await expect(a.activeCall().getByRole('heading').textContent()).resolves.toBe('Conference');
    await expect(participant(a, bob.extension).count()).resolves.toBe(1);
    await expect(participant(a, carol.extension).count()).resolves.toBe(1);
    await expectAccessible(a.page, 'conference');
    await expectAccessible(b.page, 'in a conference (participant)');

    await expectMix(a, [TONE.bob, TONE.carol], [TONE.alice], a.activeCall());
    await expectMix(b, [TONE.alice, TONE.carol], [TONE.bob]);
    await expectDeskHears(deskBefore, [TONE.alice, TONE.bob], [TONE.carol]);

    await participant(a, bob.extension).getByRole('button', { name: 'Remove', exact: true }).click();
    await expect.poll(() => b.callCards().count(), { timeout: 10_000 }).toBe(0);
    await expect.poll(() => participant(a, bob.extension).count(), { timeout: 10_000 }).toBe(0);
    await expectMix(a, [TONE.carol], [TONE.bob, TONE.alice], a.activeCall());
    await expectDeskHears(deskBefore, [TONE.alice], [TONE.bob, TONE.carol]);
  });

  it('Alice hangs up the conference: Bob and Carol stay connected and hear each other', async () => {
    const { a, b, deskBefore } = await aliceMergesBobAndCarol();
    await expectMix(b, [TONE.alice, TONE.carol], [TONE.bob]);

    await a.hangUp();
    await expect.poll(() => a.callCards().count(), { timeout: 10_000 }).toBe(0);
    await expectMix(b, [TONE.carol], [TONE.alice, TONE.bob]);
    await expectDeskHears(deskBefore, [TONE.bob], [TONE.alice, TONE.carol]);
    await expect(b.activeCall().count()).resolves.toBe(1);
  });
});
