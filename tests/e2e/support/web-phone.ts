/// <reference lib="dom" />
/**
 * A person using the web phone, in the words of the screen: sign in, call, answer, decline, hang up.
 * Controls are found by their accessible names, as a keyboard or screen-reader user would find them.
 */
import { expect } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';

export class WebPhone {
  private constructor(
    readonly context: BrowserContext,
    readonly page: Page,
  ) {}

  static async open(browser: Browser, url: string): Promise<WebPhone> {
    const context = await browser.newContext({ permissions: ['microphone'] });
    const page = await context.newPage();
    await page.goto(url);
    return new WebPhone(context, page);
  }

  async signIn(extension: string, password: string): Promise<void> {
    await this.page.getByLabel('Extension').fill(extension);
    await this.page.getByLabel('Password').fill(password);
    await this.page.getByRole('button', { name: 'Sign in' }).click();
  }

  async waitUntilRegistered(): Promise<void> {
    await this.page.getByRole('status', { name: 'Registration' }).filter({ hasText: 'Registered' }).waitFor({ timeout: 15_000 });
  }

  signInError() {
    return this.page.getByRole('alert');
  }

  async call(number: string): Promise<void> {
    await this.page.getByLabel('Number').fill(number);
    await this.page.getByRole('button', { name: 'Call', exact: true }).click();
  }

  incomingCall() {
    return this.page.getByRole('region', { name: 'Incoming call' });
  }

  activeCall() {
    return this.page.getByRole('region', { name: 'Active call' });
  }

  async answer(): Promise<void> {
    await this.incomingCall().getByRole('button', { name: 'Answer' }).click();
  }

  async decline(): Promise<void> {
    await this.incomingCall().getByRole('button', { name: 'Decline' }).click();
  }

  async hangUp(): Promise<void> {
    await this.page.getByRole('button', { name: 'Hang up' }).click();
  }

  /** Call cards of any kind still on the grid. */
  callCards() {
    return this.page.getByRole('region', { name: /call/i });
  }

  /**
   * Listens to what this person hears (the far end's audio) and returns the loudest frequency, with its level,
   * as a median over several readings so a single noisy frame does not decide.
   */
  async dominantFrequency(): Promise<{ hz: number; db: number }> {
    return this.page.evaluate(async () => {
      const audio = document.querySelector<HTMLAudioElement>('[data-testid="remote-audio"]');
      const stream = audio?.srcObject;
      if (!(stream instanceof MediaStream) || stream.getAudioTracks().length === 0) throw new Error('no remote audio stream is playing');
      const ctx = new AudioContext();
      await ctx.resume();
      const source = ctx.createMediaStreamSource(stream);
      const analyser = ctx.createAnalyser();
      analyser.fftSize = 8192;
      analyser.smoothingTimeConstant = 0;
      source.connect(analyser);
      const bins = new Float32Array(analyser.frequencyBinCount);
      const readings: Array<{ hz: number; db: number }> = [];
      await new Promise((r) => setTimeout(r, 500));
      for (let i = 0; i < 7; i++) {
        await new Promise((r) => setTimeout(r, 200));
        analyser.getFloatFrequencyData(bins);
        let peak = 1;
        for (let bin = 2; bin < bins.length; bin++) if ((bins[bin] ?? -Infinity) > (bins[peak] ?? -Infinity)) peak = bin;
        readings.push({ hz: (peak * ctx.sampleRate) / analyser.fftSize, db: bins[peak] ?? -Infinity });
      }
      await ctx.close();
      readings.sort((a, b) => a.hz - b.hz);
      return readings[Math.floor(readings.length / 2)] ?? { hz: 0, db: -Infinity };
    });
  }

  async close(): Promise<void> {
    await this.context.close();
  }
}

/** Waits until the person hears a tone near `hz` (within one FFT bin or two), clearly above silence. */
export async function expectToHear(phone: WebPhone, hz: number): Promise<void> {
  let last = { hz: 0, db: -Infinity };
  for (let attempt = 0; attempt < 8; attempt++) {
    last = await phone.dominantFrequency();
    if (Math.abs(last.hz - hz) <= 15 && last.db > -80) return;
  }
  expect(Math.abs(last.hz - hz), `expected ${hz} Hz, heard ${last.hz.toFixed(1)} Hz at ${last.db.toFixed(1)} dB`).toBeLessThanOrEqual(15);
  expect(last.db, 'the tone is clearly above silence').toBeGreaterThan(-80);
}
