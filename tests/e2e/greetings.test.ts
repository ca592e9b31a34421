/**
 * Greetings in the web phone: Alice records a greeting with her microphone (a fake one playing 1 kHz), listens
 * back (the recording holds her tone), saves it with a name, plays the stored copy the PBX made, makes it active
 * (the list says "Active" in words, and the PBX has it as the greeting her callers hear), goes back to the default
 * greeting and makes hers active again, renames it and deletes it after being asked. Uploads the PBX refuses show its sentence. Real PBX process, Chromium.
 */
import type { Locator } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import type { SessionResponse } from '../../shared/api';
import type { GreetingList } from '../../shared/greetings';
import { expectAccessible } from './support/axe';
import { alice, useStage } from './support/setup';
import { WebPhone } from './support/web-phone';

const TONE_HZ = 1000;

/** A WAV file of `ms` of silence, 16-bit mono at 16 kHz. */
function silence(ms: number): Buffer {
  const rate = 16000;
  const bytes = (rate * 2 * ms) / 1000;
  const wav = Buffer.alloc(44 + bytes);
  wav.write('RIFF', 0, 'latin1');
  wav.writeUInt32LE(36 + bytes, 4);
  wav.write('WAVEfmt ', 8, 'latin1');
  wav.writeUInt32LE(16, 16);
  wav.writeUInt16LE(1, 20);
  wav.writeUInt16LE(1, 22);
  wav.writeUInt32LE(rate, 24);
  wav.writeUInt32LE(rate * 2, 28);
  wav.writeUInt16LE(2, 32);
  wav.writeUInt16LE(16, 34);
  wav.write('data', 36, 'latin1');
  wav.writeUInt32LE(bytes, 40);
  return wav;
}

describe('greetings in the web phone', () => {
  const stage = useStage('greetings', [TONE_HZ]);

  /** Alice's greetings as the PBX lists them, over REST with a session of the test's own. */
  async function greetingsOnPbx(): Promise<GreetingList['greetings']> {
    const session = await fetch(`${stage.pbx.url}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ extension: alice.extension, password: alice.password }),
    });
    const { token } = (await session.json()) as SessionResponse;
    const list = await fetch(`${stage.pbx.url}/api/v1/greetings`, { headers: { authorization: `Bearer ${token}` } });
    return ((await list.json()) as GreetingList).greetings;
  }

  it('records, listens back, saves, plays, makes active, renames and deletes a greeting', async () => {
    const a = await WebPhone.signedIn(stage.browsers[0]!, stage.pbx.url, alice);
    try {
      await a.openSection('Greetings');
      const page = a.page;
      await page.getByText('You have no greetings yet.').waitFor();

      // By keyboard: Record gives way to Stop, which takes the focus, so Enter again stops; then the new greeting's
      // Name field has it.
      const focused = (control: Locator) => control.evaluate((element) => element === document.activeElement);
      await page.getByRole('button', { name: 'Record', exact: true }).focus();
      await page.keyboard.press('Enter');
      const timer = page.getByRole('timer');
      await timer.filter({ hasText: 'Recording 00:02' }).waitFor({ timeout: 10_000 });
      await expect.poll(() => focused(page.getByRole('button', { name: 'Stop', exact: true }))).toBe(true);
      await page.keyboard.press('Enter');

      const draft = page.getByRole('region', { name: 'New greeting' });
      await draft.waitFor({ timeout: 10_000 });
      await expect.poll(() => focused(draft.getByRole('textbox', { name: 'Name' }))).toBe(true);
      await expectAccessible(page, 'Greetings with a new recording');
      // Listen back: the audio element plays the recording, and what it holds is Alice's tone.
      // (The page's content security policy lets media, not fetch, read blob: URLs: the tone is measured as it plays.)
      const heard = await draft.locator('audio').evaluate(async (element) => {
        const audio = element as HTMLAudioElement;
        const context = new AudioContext();
        await context.resume();
        const analyser = context.createAnalyser();
        analyser.fftSize = 8192;
        analyser.smoothingTimeConstant = 0;
        context.createMediaElementSource(audio).connect(analyser);
        await audio.play();
        await new Promise((resolve) => setTimeout(resolve, 600));
        const bins = new Float32Array(analyser.frequencyBinCount);
        analyser.getFloatFrequencyData(bins);
        let peak = 2;
        for (let bin = 2; bin < bins.length; bin++) if (bins[bin]! > bins[peak]!) peak = bin;
        const playing = audio.currentTime > 0 && !audio.paused;
        audio.pause();
        await context.close();
        return { hz: (peak * context.sampleRate) / analyser.fftSize, seconds: audio.duration, playing };
      });
      expect(heard.playing, 'the recording plays').toBe(true);
      expect(heard.seconds).toBeGreaterThan(1.5);
      expect(Math.abs(heard.hz - TONE_HZ), `the recording holds the ${TONE_HZ} Hz tone (heard ${heard.hz.toFixed(0)} Hz)`).toBeLessThan(50);

      await draft.getByRole('textbox', { name: 'Name' }).fill('Office hours');
      await draft.getByRole('button', { name: 'Save', exact: true }).click();
      await draft.waitFor({ state: 'detached', timeout: 15_000 });
      const record = page.getByRole('button', { name: 'Record', exact: true });
      // Record has the focus the saved draft took away.
      await expect.poll(() => focused(record)).toBe(true);

      const list = page.getByRole('list', { name: 'Your greetings' });
      const item = list.getByRole('listitem').filter({ hasText: 'Office hours' });
      await item.waitFor();
      await expect(item.getByText('Active', { exact: true }).count()).resolves.toBe(0);

      // The stored copy (Ogg Opus made by the PBX) plays to its end in Chromium: Pause while it plays, Play after.
      await item.getByRole('button', { name: 'Play', exact: true }).click();
      await item.getByRole('button', { name: 'Pause', exact: true }).waitFor({ timeout: 5_000 });
      await item.getByRole('button', { name: 'Play', exact: true }).waitFor({ timeout: 15_000 });

      // Keyboard: Make active is reached and pressed without the mouse.
      await item.getByRole('button', { name: 'Make active', exact: true }).focus();
      await page.keyboard.press('Enter');
      await item.getByText('Active', { exact: true }).waitFor({ timeout: 10_000 });
      await expect(item.getByRole('button', { name: 'Make active', exact: true }).count()).resolves.toBe(0);
      // The button in its place, which undoes it, has the focus.
      await expect.poll(() => focused(item.getByRole('button', { name: 'Use default greeting', exact: true }))).toBe(true);
      await expectAccessible(page, 'Greetings with an active greeting');

      const stored = await greetingsOnPbx();
      expect(stored).toHaveLength(1);
      expect(stored[0]).toMatchObject({ name: 'Office hours', active: true });
      expect(stored[0]!.durationMs).toBeGreaterThan(1500);

      // Back to the default greeting by keyboard, keeping hers: focus goes to Make active, in the pressed button's place.
      await item.getByRole('button', { name: 'Use default greeting', exact: true }).focus();
      await page.keyboard.press('Enter');
      await page.getByText('Callers hear the default greeting.').waitFor({ timeout: 10_000 });
      await expect(item.getByText('Active', { exact: true }).count()).resolves.toBe(0);
      await expect.poll(() => focused(item.getByRole('button', { name: 'Make active', exact: true }))).toBe(true);
      expect((await greetingsOnPbx()).map((g) => g.active)).toEqual([false]);
      await page.keyboard.press('Enter');
      await item.getByText('Active', { exact: true }).waitFor({ timeout: 10_000 });
      await expect(page.getByText('Callers hear the default greeting.').count()).resolves.toBe(0);
      await expect.poll(() => focused(item.getByRole('button', { name: 'Use default greeting', exact: true }))).toBe(true);

      await item.getByRole('button', { name: 'Rename', exact: true }).click();
      await item.getByRole('textbox', { name: 'New name' }).fill('Front desk');
      await item.getByRole('button', { name: 'Save', exact: true }).click();
      const renamed = list.getByRole('listitem').filter({ hasText: 'Front desk' });
      await renamed.getByText('Active', { exact: true }).waitFor({ timeout: 10_000 });

      // A second greeting, uploaded: listed first, as the newest.
      await page.locator('input[type="file"]').setInputFiles({ name: 'Lunch.wav', mimeType: 'audio/wav', buffer: silence(2000) });
      await draft.getByRole('textbox', { name: 'Name' }).waitFor({ timeout: 10_000 });
      await draft.getByRole('textbox', { name: 'Name' }).press('Enter');
      await draft.waitFor({ state: 'detached', timeout: 15_000 });
      await expect.poll(() => focused(record)).toBe(true);
      const lunch = list.getByRole('listitem').filter({ hasText: 'Lunch' });
      await expect(list.getByRole('listitem').allInnerTexts()).resolves.toEqual([expect.stringContaining('Lunch'), expect.stringContaining('Front desk')]);

      // Delete asks first; Cancel keeps it, Delete in the question removes it, and focus goes to the row left.
      await renamed.getByRole('button', { name: 'Delete', exact: true }).click();
      const question = renamed.getByRole('group', { name: 'Delete Front desk?' });
      await question.getByRole('button', { name: 'Cancel', exact: true }).click();
      await renamed.getByRole('button', { name: 'Delete', exact: true }).click();
      await question.getByRole('button', { name: 'Delete', exact: true }).click();
      await renamed.waitFor({ state: 'detached', timeout: 10_000 });
      await page.getByText('Callers hear the default greeting.').waitFor();
      await expect.poll(() => focused(lunch.getByRole('button', { name: 'Play', exact: true }))).toBe(true);

      // The last one deleted by keyboard: the default greeting is back, and Record has the focus.
      await lunch.getByRole('button', { name: 'Delete', exact: true }).focus();
      await page.keyboard.press('Enter');
      await lunch.getByRole('group', { name: 'Delete Lunch?' }).getByRole('button', { name: 'Delete', exact: true }).click();
      await page.getByText('You have no greetings yet.').waitFor({ timeout: 10_000 });
      await expect.poll(() => focused(record)).toBe(true);
      expect(await greetingsOnPbx()).toEqual([]);
    } finally {
      await a.close();
    }
  });

  it("says why an upload cannot be a greeting (the PBX's sentence, or its length checked first) and keeps nothing", async () => {
    const a = await WebPhone.signedIn(stage.browsers[0]!, stage.pbx.url, alice);
    try {
      await a.openSection('Greetings');
      const page = a.page;
      await page.getByRole('heading', { name: 'Greetings', level: 1 }).waitFor();
      const before = (await greetingsOnPbx()).map((g) => g.name);
      // A file the browser cannot decode goes to the PBX as it is, whose sentence is then shown.
      await page.locator('input[type="file"]').setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not a sound at all') });
      const draft = page.getByRole('region', { name: 'New greeting' });
      await draft.getByRole('textbox', { name: 'Name' }).waitFor();
      await expect(draft.getByRole('textbox', { name: 'Name' }).inputValue()).resolves.toBe('notes');
      await draft.getByRole('button', { name: 'Save', exact: true }).click();
      await page.getByRole('alert').filter({ hasText: 'The file is not an audio file the PBX reads: use WAV or Ogg Opus' }).waitFor({ timeout: 10_000 });
      await draft.getByRole('button', { name: 'Discard', exact: true }).click();
      await draft.waitFor({ state: 'detached' });
      // Record has the focus Discard took away.
      await expect.poll(() => page.getByRole('button', { name: 'Record', exact: true }).evaluate((element) => element === document.activeElement)).toBe(true);

      // A sound the browser decodes is checked here first: too short, and Save waits for a longer one.
      await page.locator('input[type="file"]').setInputFiles({ name: 'blip.wav', mimeType: 'audio/wav', buffer: silence(500) });
      await draft.getByRole('alert').filter({ hasText: 'A greeting must be at least 1 second long; this one is 0.5 s.' }).waitFor({ timeout: 10_000 });
      await expect(draft.getByRole('button', { name: 'Save', exact: true }).isDisabled()).resolves.toBe(true);
      await draft.getByRole('button', { name: 'Discard', exact: true }).click();
      expect((await greetingsOnPbx()).map((g) => g.name)).toEqual(before);
    } finally {
      await a.close();
    }
  });
});
