/// <reference lib="dom" />
/**
 * A person using the web phone, in the words of the screen: sign in, call, answer, decline, hang up.
 * Controls are found by their accessible names, as a keyboard or screen-reader user would find them.
 */
import { expect } from 'vitest';
import type { Browser, BrowserContext, BrowserContextOptions, Locator, Page } from 'playwright-core';

export class WebPhone {
  private constructor(
    readonly context: BrowserContext,
    readonly page: Page,
  ) {}

  /** Opens the web phone in a new context; `options` set its window (viewport) and system (colorScheme). */
  static async open(browser: Browser, url: string, options: BrowserContextOptions = {}): Promise<WebPhone> {
    const context = await browser.newContext({ permissions: ['microphone'], ...options });
    const page = await context.newPage();
    await page.goto(url);
    return new WebPhone(context, page);
  }

  /** Opens the web phone and signs `person` in, once it shows "Registered". */
  static async signedIn(browser: Browser, url: string, person: { extension: string; password: string }): Promise<WebPhone> {
    const phone = await WebPhone.open(browser, url);
    await phone.signIn(person.extension, person.password);
    await phone.waitUntilRegistered();
    return phone;
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

  /** Types the number and clicks Call, as a person would: the suggestions that open meanwhile never cover the button. */
  async call(number: string): Promise<void> {
    const field = this.page.getByLabel('Number');
    await field.fill(number);
    await this.page.getByRole('button', { name: 'Call', exact: true }).click();
  }

  /** The number field, a combobox whose list suggests people as their name or number is typed. */
  numberField() {
    return this.page.getByRole('combobox', { name: 'Number' });
  }

  /** A suggestion under the number field, by what it reads ("Bob Brown 102"). */
  suggestion(name: string) {
    return this.page.getByRole('listbox', { name: 'Suggestions' }).getByRole('option', { name, exact: true });
  }

  async redial(): Promise<void> {
    await this.page.getByRole('button', { name: 'Redial', exact: true }).click();
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
  async dominantFrequency(card?: Locator): Promise<{ hz: number; db: number }> {
    const audio = (card ?? this.page).locator('[data-testid="remote-audio"]').first();
    return audio.evaluate(async (element) => {
      const stream = (element as HTMLAudioElement).srcObject;
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

  /**
   * How loud what this person hears from the call on `card` is, in dBFS (RMS over about a second): a tone
   * reads around -10 dB, silence far below -60 dB.
   */
  async level(card?: Locator): Promise<number> {
    const audio = (card ?? this.page).locator('[data-testid="remote-audio"]').first();
    return audio.evaluate(async (element) => {
      const stream = (element as HTMLAudioElement).srcObject;
      if (!(stream instanceof MediaStream) || stream.getAudioTracks().length === 0) throw new Error('no remote audio stream is playing');
      const ctx = new AudioContext();
      await ctx.resume();
      const analyser = ctx.createAnalyser();
      analyser.fftSize = 2048;
      ctx.createMediaStreamSource(stream).connect(analyser);
      const samples = new Float32Array(analyser.fftSize);
      const readings: number[] = [];
      await new Promise((r) => setTimeout(r, 300));
      for (let i = 0; i < 10; i++) {
        await new Promise((r) => setTimeout(r, 100));
        analyser.getFloatTimeDomainData(samples);
        let sum = 0;
        for (const sample of samples) sum += sample * sample;
        readings.push(10 * Math.log10(sum / samples.length + 1e-12));
      }
      await ctx.close();
      readings.sort((a, b) => a - b);
      return readings[Math.floor(readings.length / 2)] ?? -Infinity;
    });
  }

  /**
   * How loud each of the tones `hz` is in what this person hears from the call on `card` (FFT bins within ±12 Hz
   * of each), in dB, each the median of several readings: to tell which of several mixed tones are heard.
   */
  async levelsAt(hz: number[], card?: Locator): Promise<number[]> {
    const audio = (card ?? this.page).locator('[data-testid="remote-audio"]').first();
    return audio.evaluate(async (element, tones) => {
      const stream = (element as HTMLAudioElement).srcObject;
      if (!(stream instanceof MediaStream) || stream.getAudioTracks().length === 0) throw new Error('no remote audio stream is playing');
      const ctx = new AudioContext();
      await ctx.resume();
      const analyser = ctx.createAnalyser();
      analyser.fftSize = 8192;
      analyser.smoothingTimeConstant = 0;
      ctx.createMediaStreamSource(stream).connect(analyser);
      const bins = new Float32Array(analyser.frequencyBinCount);
      const binHz = ctx.sampleRate / analyser.fftSize;
      const readings: number[][] = tones.map(() => []);
      await new Promise((r) => setTimeout(r, 500));
      for (let i = 0; i < 7; i++) {
        await new Promise((r) => setTimeout(r, 200));
        analyser.getFloatFrequencyData(bins);
        tones.forEach((tone, t) => {
          let peak = -Infinity;
          for (let bin = Math.floor((tone - 12) / binHz); bin <= Math.ceil((tone + 12) / binHz); bin++) peak = Math.max(peak, bins[bin] ?? -Infinity);
          readings[t]!.push(peak);
        });
      }
      await ctx.close();
      return readings.map((values) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? -Infinity);
    }, hz);
  }

  /** A call card by what it is now: 'Active call', 'Held call', 'Incoming call'… */
  card(name: string): Locator {
    return this.page.getByRole('region', { name, exact: true });
  }

  /** Presses an in-call option (Mute, Hold, Dial pad, Resume, Back…) on the card given, or the active one. */
  async press(option: string, card: Locator = this.activeCall()): Promise<void> {
    await card.getByRole('button', { name: option, exact: true }).click();
  }

  /** Presses keys on the open in-call dial pad of the active call. */
  async pressKeys(keys: string): Promise<void> {
    const pad = this.activeCall().getByRole('group', { name: 'Dial pad' });
    for (const key of keys) await pad.getByRole('button', { name: key, exact: true }).click();
  }

  /**
   * Presses the keyboard shortcut that `control` announces (its aria-keyshortcuts, the first when it lists
   * several) wherever the focus is, and returns it: the test reads the key from the button as a person reads its
   * tooltip, and proves that the key announced is the key that works.
   */
  async pressShortcutOf(control: Locator): Promise<string> {
    const announced = (await control.getAttribute('aria-keyshortcuts'))?.trim().split(/\s+/)[0] ?? '';
    expect(announced, 'the control announces a keyboard shortcut (aria-keyshortcuts)').not.toBe('');
    const keys = announced.split('+');
    const key = keys.pop()!;
    // A letter pressed without Shift arrives as lower case, as from a real keyboard.
    const pressed = key.length === 1 && !keys.includes('Shift') ? key.toLowerCase() : key;
    await this.page.keyboard.press([...keys, pressed].join('+'));
    return announced;
  }

  async openSection(name: string): Promise<void> {
    await this.page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name, exact: true }).click();
  }

  async toggle(name: 'Do not disturb' | 'Auto-answer'): Promise<void> {
    await this.page.getByRole('group', { name: 'Call handling' }).getByRole('button', { name }).click();
  }

  async close(): Promise<void> {
    await this.context.close();
  }
}

/** Waits until the person hears a tone near `hz` (within one FFT bin or two), clearly above silence. */
export async function expectToHear(phone: WebPhone, hz: number, card?: Locator): Promise<void> {
  let last = { hz: 0, db: -Infinity };
  for (let attempt = 0; attempt < 8; attempt++) {
    try {
      last = await phone.dominantFrequency(card);
    } catch (error) {
      // A card shows a moment before its audio is attached (a call answered or rejoined just now): try again.
      if (!String(error).includes('no remote audio stream is playing')) throw error;
      await phone.page.waitForTimeout(250);
      continue;
    }
    if (Math.abs(last.hz - hz) <= 15 && last.db > -80) return;
  }
  expect(Math.abs(last.hz - hz), `expected ${hz} Hz, heard ${last.hz.toFixed(1)} Hz at ${last.db.toFixed(1)} dB`).toBeLessThanOrEqual(15);
  expect(last.db, 'the tone is clearly above silence').toBeGreaterThan(-80);
}

/** Waits (up to `ms`) until the person hears a tone near `hz`: for sound that comes later (a prompt, then a recording). */
export async function waitToHear(phone: WebPhone, hz: number, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  let last = { hz: 0, db: -Infinity };
  while (Date.now() < deadline) {
    last = await phone.dominantFrequency().catch(() => last);
    if (Math.abs(last.hz - hz) <= 15 && last.db > -80) return;
    await phone.page.waitForTimeout(100);
  }
  expect(last.hz, `expected ${hz} Hz, heard ${last.hz.toFixed(1)} Hz at ${last.db.toFixed(1)} dB`).toBeCloseTo(hz, -2);
}

/** Waits until what the person hears from `card` is silent (at least 30 dB below a tone), or fails. */
export async function expectSilence(phone: WebPhone, card?: Locator): Promise<void> {
  let level = 0;
  for (let attempt = 0; attempt < 8; attempt++) {
    level = await phone.level(card);
    if (level < -45) return;
  }
  expect(level, 'the far end should hear silence').toBeLessThan(-45);
}
