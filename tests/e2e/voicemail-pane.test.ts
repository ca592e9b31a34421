/// <reference lib="dom" />
/**
 * The Voicemail pane with a real message: Bob (a 1.2 kHz tone on his microphone) calls Alice while she has no
 * registered device, so the PBX takes a message. Alice signs in: the navigation's badge says 1 new, the message is
 * under New, and Play plays Bob's tone (read by an analyser on the pane's own audio element). Playing saves it:
 * it leaves New for Saved, and Alice's other window drops its badge on the live event; Mark as new brings the
 * badge back there; Download saves the Ogg file; Delete (after asking) removes it. The tab's title counts new
 * messages. axe checks the pane in each state. And the Voicemail PIN in Settings, refused and then saved by the PBX.
 * Real PBX, two Chromiums.
 */
import { readFileSync, statSync } from 'node:fs';
import type { Locator, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { expectAccessible } from './support/axe';
import { alice, bob, useStage } from './support/setup';
import { WebPhone } from './support/web-phone';

/** Bob's tone: wideband, well clear of the PBX's prompts and record tone. */
const BOB_HZ = 1_200;

/** The Voicemail pane, in the words of its screen. */
class VoicemailPane {
  constructor(readonly page: Page) {}

  /** The navigation's badge beside Voicemail ("1 new"), found by its text. */
  badge(): Locator {
    return this.page.getByRole('navigation', { name: 'Sections' }).getByRole('status').filter({ hasText: /\d+\s*new/ });
  }

  tab(box: 'New' | 'Saved'): Locator {
    return this.page.getByRole('tablist', { name: 'Mailbox' }).getByRole('tab', { name: new RegExp(`^${box}\\b`) });
  }

  list(box: 'New' | 'Saved'): Locator {
    return this.page.getByRole('list', { name: `${box} messages` });
  }

  message(box: 'New' | 'Saved', caller: string): Locator {
    return this.list(box).getByRole('listitem', { name: `Message from ${caller}` });
  }

  player(): Locator {
    return this.page.getByRole('region', { name: 'Player' });
  }

  /** The count a tab shows beside its name. */
  async count(box: 'New' | 'Saved'): Promise<number> {
    return Number((await this.tab(box).innerText()).replace(/\D+/g, ''));
  }

  /**
   * What the pane's audio element plays, read by an analyser on a capture of it: the loudest frequency and its
   * level (median of several readings), and where playback stands.
   */
  async heard(): Promise<{ hz: number; db: number; seconds: number }> {
    return this.page.getByTestId('voicemail-audio').evaluate(async (element) => {
      const audio = element as HTMLAudioElement & { captureStream(): MediaStream };
      const ctx = new AudioContext();
      await ctx.resume();
      const analyser = ctx.createAnalyser();
      analyser.fftSize = 8192;
      analyser.smoothingTimeConstant = 0;
      ctx.createMediaStreamSource(audio.captureStream()).connect(analyser);
      const bins = new Float32Array(analyser.frequencyBinCount);
      const readings: Array<{ hz: number; db: number }> = [];
      await new Promise((r) => setTimeout(r, 300));
      for (let i = 0; i < 5; i++) {
        await new Promise((r) => setTimeout(r, 150));
        analyser.getFloatFrequencyData(bins);
        let peak = 2;
        for (let bin = 3; bin < bins.length; bin++) if ((bins[bin] ?? -Infinity) > (bins[peak] ?? -Infinity)) peak = bin;
        readings.push({ hz: (peak * ctx.sampleRate) / analyser.fftSize, db: bins[peak] ?? -Infinity });
      }
      await ctx.close();
      readings.sort((a, b) => a.hz - b.hz);
      const middle = readings[Math.floor(readings.length / 2)] ?? { hz: 0, db: -Infinity };
      return { ...middle, seconds: audio.currentTime };
    });
  }
}

describe('the Voicemail pane', () => {
  const stage = useStage('voicemail-pane', [BOB_HZ, 440]);

  it('lists Bob’s message under New with a badge, plays his tone, moves it to Saved and back live, and deletes it', async () => {
    const [bobBrowser, aliceBrowser] = stage.browsers;

    // Alice has no registered device: Bob's call goes to her voicemail. He speaks (his tone) through the default
    // greeting (about ten seconds with the record tone) and for a while after, then hangs up.
    const b = await WebPhone.signedIn(bobBrowser!, stage.pbx.url, bob);
    try {
      await b.call(alice.extension);
      await b.activeCall().waitFor({ timeout: 15_000 });
      await b.page.waitForTimeout(20_000);
      await b.hangUp();
      await expect.poll(() => b.callCards().count(), { timeout: 10_000 }).toBe(0);
    } finally {
      await b.close();
    }

    const a = await WebPhone.signedIn(aliceBrowser!, stage.pbx.url, alice);
    const other = await WebPhone.signedIn(aliceBrowser!, stage.pbx.url, alice);
    try {
      const pane = new VoicemailPane(a.page);
      const elsewhere = new VoicemailPane(other.page);
      // The message is stored once the call has ended; the badge counts it as soon as the app is signed in.
      await pane.badge().filter({ hasText: /^\s*1\s*new/ }).waitFor({ timeout: 15_000 });
      await elsewhere.badge().filter({ hasText: /^\s*1\s*new/ }).waitFor({ timeout: 15_000 });
      // The tab's title counts it too, as the app icon does in the desktop app.
      await expect.poll(() => a.page.title()).toBe('(1) Offhook — Registered');

      await a.openSection('Voicemail');
      const message = pane.message('New', 'Bob Brown');
      await message.waitFor({ timeout: 10_000 });
      expect(await pane.count('New')).toBe(1);
      expect(await pane.count('Saved')).toBe(0);
      // Who called, when and for how long, and the transcription's line (the text, or what stands in for it).
      const shown = await message.innerText();
      expect(shown).toContain(bob.extension);
      expect(shown).toMatch(/\d+ seconds?/);
      await expectAccessible(a.page, 'Voicemail pane, one new message');

      // Download saves the recording under a name that says whose and when.
      const [download] = await Promise.all([a.page.waitForEvent('download'), message.getByRole('button', { name: 'Download', exact: true }).click()]);
      expect(download.suggestedFilename()).toMatch(new RegExp(`^voicemail-${bob.extension}-\\d{4}-\\d\\d-\\d\\d-\\d{6}\\.ogg$`));
      const saved = await download.path();
      expect(statSync(saved).size).toBeGreaterThan(1_000);
      expect(readFileSync(saved).subarray(0, 4).toString('latin1')).toBe('OggS');

      // Play: the audio element plays Bob's tone, and the message moves to Saved.
      await message.getByRole('button', { name: 'Play', exact: true }).click();
      const player = pane.player();
      await player.getByRole('button', { name: 'Pause', exact: true }).waitFor({ timeout: 10_000 });
      let heard = await pane.heard();
      for (let attempt = 0; attempt < 4 && Math.abs(heard.hz - BOB_HZ) > 15; attempt++) heard = await pane.heard();
      expect(Math.abs(heard.hz - BOB_HZ), `expected Bob's ${BOB_HZ} Hz tone, heard ${heard.hz.toFixed(1)} Hz at ${heard.db.toFixed(1)} dB`).toBeLessThanOrEqual(15);
      expect(heard.db, 'the tone is clearly above silence').toBeGreaterThan(-80);
      expect(heard.seconds).toBeGreaterThan(0);

      // The position slider says where playback stands, and the keyboard seeks.
      const slider = player.getByRole('slider', { name: 'Position' });
      expect(await slider.getAttribute('aria-valuetext')).toMatch(/^\d+:\d\d of \d+:\d\d$/);
      await slider.focus();
      await a.page.keyboard.press('Home');
      await expect.poll(() => slider.getAttribute('aria-valuetext')).toMatch(/^0:0[0-1] of /);
      await expectAccessible(a.page, 'Voicemail pane, playing', { themes: 'current' });

      await message.waitFor({ state: 'detached', timeout: 5_000 });
      await expect.poll(() => pane.count('New'), { timeout: 5_000 }).toBe(0);
      await expect.poll(() => pane.count('Saved'), { timeout: 5_000 }).toBe(1);
      await pane.badge().waitFor({ state: 'detached', timeout: 5_000 });
      await expect.poll(() => a.page.title()).toBe('Offhook — Registered');
      // Alice's other window hears of it on the live event stream.
      await elsewhere.badge().waitFor({ state: 'detached', timeout: 3_000 });
      await player.getByRole('button', { name: 'Pause', exact: true }).click();

      // Saved: it is there; Mark as new sends it back, and the other window's badge returns.
      await pane.tab('Saved').click();
      const inSaved = pane.message('Saved', 'Bob Brown');
      await inSaved.waitFor({ timeout: 5_000 });
      // By keyboard; the list is then empty, so focus goes to its tab rather than being lost with the button.
      await inSaved.getByRole('button', { name: 'Mark as new', exact: true }).focus();
      await a.page.keyboard.press('Enter');
      await inSaved.waitFor({ state: 'detached', timeout: 5_000 });
      await expect.poll(() => pane.tab('Saved').evaluate((element) => element === document.activeElement)).toBe(true);
      await elsewhere.badge().filter({ hasText: /^\s*1\s*new/ }).waitFor({ timeout: 3_000 });
      await pane.tab('New').click();
      const again = pane.message('New', 'Bob Brown');
      await again.waitFor({ timeout: 5_000 });

      // Delete asks first; Cancel keeps it, Delete removes it.
      await again.getByRole('button', { name: 'Delete', exact: true }).click();
      const confirm = again.getByRole('group', { name: 'Delete the message from Bob Brown?' });
      await confirm.waitFor();
      await expectAccessible(a.page, 'Voicemail pane, asking before a delete', { themes: 'current' });
      await confirm.getByRole('button', { name: 'Cancel', exact: true }).click();
      await again.getByRole('button', { name: 'Delete', exact: true }).click();
      await confirm.getByRole('button', { name: 'Delete', exact: true }).click();
      await again.waitFor({ state: 'detached', timeout: 5_000 });
      await a.page.getByText('No new messages.', { exact: true }).waitFor({ timeout: 5_000 });
      await expect.poll(() => pane.count('New')).toBe(0);
      await expect.poll(() => pane.count('Saved')).toBe(0);
      await elsewhere.badge().waitFor({ state: 'detached', timeout: 3_000 });
    } finally {
      await a.close();
      await other.close();
    }
  });

  it('sets the Voicemail PIN in Settings: too short is refused with a sentence, 4 to 10 digits are saved', async () => {
    const a = await WebPhone.signedIn(stage.browsers[1]!, stage.pbx.url, alice);
    try {
      await a.openSection('Settings');
      const setting = a.page.getByRole('group', { name: 'Voicemail PIN' });
      const field = setting.getByRole('textbox', { name: 'New PIN' });
      await field.fill('12');
      await setting.getByRole('button', { name: 'Set PIN', exact: true }).click();
      await setting.getByRole('alert').filter({ hasText: 'The PIN must be 4 to 10 digits.' }).waitFor();
      expect(await field.getAttribute('aria-invalid')).toBe('true');
      await field.fill('482913');
      await field.press('Enter');
      await setting.getByRole('status').filter({ hasText: 'Voicemail PIN saved.' }).waitFor({ timeout: 5_000 });
      await expect(field.inputValue()).resolves.toBe('');
      await expectAccessible(a.page, 'Settings, Voicemail PIN saved', { themes: 'current' });
    } finally {
      await a.close();
    }
  });
});
