/// <reference lib="dom" />
/**
 * The web phone in Chromium over loopback, against the built PBX, timed the way a person feels it:
 *
 * - page load to "Registered": from navigation start (sign-in typed and sent by Playwright at once) until the
 *   header says Registered, read in the page as `performance.now()`;
 * - Call clicked to the callee's incoming card: A's click on Call (a capturing listener in A's page) to the
 *   moment B's card is in B's DOM (a MutationObserver in B's page), both on the wall clock
 *   (`performance.timeOrigin + performance.now()`), since they are two browser processes on one machine;
 * - Answer clicked to audio both ways: B's click on Answer until the remote audio level crosses AUDIO_THRESHOLD_DB
 *   on both sides (an analyser on each page's remote audio, read every few milliseconds);
 * - JS heap of each page after the first call and after CALLS calls in a row, each after a forced GC
 *   (CDP HeapProfiler.collectGarbage, then Runtime.getHeapUsage).
 *
 * BENCH_WEBPHONE_CALLS (default 200) shortens the run; BENCH_LOADS (default 10) sets the page loads timed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { DEMO_USERS } from '../server/store/demo';
import { launchBrowser } from '../tests/e2e/support/browser';
import { startPbxProcess } from '../tests/e2e/support/pbx-process';
import { writeToneWav } from '../tests/e2e/support/tone';

export const TARGETS = {
  loadToRegisteredMs: 1_000,
  callToIncomingCardMs: 150,
  answerToAudioMs: 400,
  heapGrowthMb: 5,
} as const;

/** The tones play at about -9 dBFS; anything above this is the far end's tone, not silence or comfort noise. */
const AUDIO_THRESHOLD_DB = -35;
/** Cards of ended calls stay on screen this long (ENDED_CARD_MS) and a little more before the heap is read. */
const CARD_GONE_MS = 2_500;

export interface WebPhoneFigures {
  calls: number;
  loads: number;
  medians: { loadToRegisteredMs: number; callToIncomingCardMs: number; answerToAudioMs: number };
  heap: { callerAfterFirstMb: number; callerAfterAllMb: number; calleeAfterFirstMb: number; calleeAfterAllMb: number; growthMb: number };
  targets: typeof TARGETS;
  raw: { loadToRegisteredMs: number[]; callToIncomingCardMs: number[]; answerToAudioMs: number[] };
  wallSeconds: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

const round = (value: number, places = 1) => Number(value.toFixed(places));

/**
 * Put in every page before the app loads: records button clicks, the moment an incoming card appears, and the
 * first moment remote audio is heard after `arm()`, all on the wall clock.
 */
function instrumentPage(threshold: number): void {
  const wall = () => performance.timeOrigin + performance.now();
  const bench = {
    clicks: {} as Record<string, number>,
    incomingAt: 0,
    heardAt: 0,
    armedAt: 0,
    arm() {
      bench.heardAt = 0;
      bench.incomingAt = 0;
      bench.armedAt = wall();
    },
  };
  Object.assign(window, { __bench: bench });
  document.addEventListener(
    'click',
    (event) => {
      const button = (event.target as Element | null)?.closest('button');
      if (button) bench.clicks[(button.getAttribute('aria-label') ?? button.textContent ?? '').trim()] = wall();
    },
    true,
  );
  new MutationObserver(() => {
    if (!bench.incomingAt && document.querySelector('section[aria-label="Incoming call"]')) bench.incomingAt = wall();
  }).observe(document, { childList: true, subtree: true, attributes: true, attributeFilter: ['aria-label'] });

  let context: AudioContext | undefined;
  const analysers = new Map<MediaStream, AnalyserNode>();
  const samples = new Float32Array(256);
  setInterval(() => {
    if (!bench.armedAt || bench.heardAt) return;
    for (const element of Array.from(document.querySelectorAll<HTMLAudioElement>('[data-testid="remote-audio"]'))) {
      const stream = element.srcObject;
      if (!(stream instanceof MediaStream) || stream.getAudioTracks().length === 0) continue;
      let analyser = analysers.get(stream);
      if (!analyser) {
        context ??= new AudioContext();
        analyser = context.createAnalyser();
        analyser.fftSize = samples.length;
        context.createMediaStreamSource(stream).connect(analyser);
        analysers.set(stream, analyser);
      }
      analyser.getFloatTimeDomainData(samples);
      let sum = 0;
      for (const sample of samples) sum += sample * sample;
      if (10 * Math.log10(sum / samples.length + 1e-12) > threshold) {
        bench.heardAt = wall();
        return;
      }
    }
    // Streams of ended calls are let go so the heap figures are the app's, not the benchmark's.
    for (const stream of analysers.keys()) if (stream.getAudioTracks().every((track) => track.readyState === 'ended')) analysers.delete(stream);
  }, 2);
}

interface BenchState {
  clicks: Record<string, number>;
  incomingAt: number;
  heardAt: number;
  armedAt: number;
  arm(): void;
}

const readBench = (page: Page) => page.evaluate(() => (window as unknown as { __bench: BenchState }).__bench);

async function waitFor<T>(page: Page, fn: () => T | false, timeoutMs = 15_000): Promise<T> {
  const handle = await page.waitForFunction(fn, undefined, { timeout: timeoutMs, polling: 5 });
  return (await handle.jsonValue()) as T;
}

async function openPhone(browser: Browser) {
  const context = await browser.newContext({ permissions: ['microphone'] });
  const page = await context.newPage();
  // tsx (esbuild with keepNames) wraps named functions in __name(); functions sent into the page need it there.
  await page.addInitScript({ content: 'globalThis.__name ??= (fn) => fn;' });
  await page.addInitScript(instrumentPage, AUDIO_THRESHOLD_DB);
  return { context, page };
}

/** Signs in on a fresh page and returns the milliseconds from navigation start to "Registered". */
async function loadAndRegister(page: Page, url: string, user: { extension: string; password: string }): Promise<number> {
  await page.goto(url);
  await page.getByLabel('Extension').fill(user.extension);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  return waitFor(page, () => (document.querySelector('.registration')?.getAttribute('data-state') === 'registered' ? performance.now() : false));
}

async function heapMb(page: Page): Promise<number> {
  const cdp = await page.context().newCDPSession(page);
  try {
    await cdp.send('HeapProfiler.collectGarbage');
    await cdp.send('HeapProfiler.collectGarbage');
    const usage = await cdp.send('Runtime.getHeapUsage');
    return usage.usedSize / (1024 * 1024);
  } finally {
    await cdp.detach();
  }
}

export async function webPhoneBench(): Promise<WebPhoneFigures> {
  const calls = Number(process.env.BENCH_WEBPHONE_CALLS ?? 200);
  const loads = Number(process.env.BENCH_LOADS ?? 10);
  const started = Date.now();
  const alice = DEMO_USERS.find((u) => u.extension === '101');
  const bob = DEMO_USERS.find((u) => u.extension === '102');
  if (!alice || !bob) throw new Error('the demo organization has no 101 and 102');

  const workDir = mkdtempSync(join(tmpdir(), 'offhook-bench-webphone-'));
  writeToneWav(join(workDir, 'a-440.wav'), 440);
  writeToneWav(join(workDir, 'b-880.wav'), 880);
  const pbx = await startPbxProcess();
  const [browserA, browserB] = await Promise.all([launchBrowser(join(workDir, 'a-440.wav')), launchBrowser(join(workDir, 'b-880.wav'))]);
  try {
    const loadTimes: number[] = [];
    for (let i = 0; i < loads; i++) {
      const { context, page } = await openPhone(browserA);
      loadTimes.push(await loadAndRegister(page, pbx.url, alice));
      await context.close();
    }

    const a = await openPhone(browserA);
    const b = await openPhone(browserB);
    await loadAndRegister(a.page, pbx.url, alice);
    await loadAndRegister(b.page, pbx.url, bob);

    const ringTimes: number[] = [];
    const audioTimes: number[] = [];
    let firstHeap = { caller: 0, callee: 0 };
    for (let i = 0; i < calls; i++) {
      await Promise.all([a.page, b.page].map((page) => page.evaluate(() => (window as unknown as { __bench: BenchState }).__bench.arm())));
      await a.page.getByLabel('Number').fill(bob.extension);
      await a.page.getByRole('button', { name: 'Call', exact: true }).click();
      await waitFor(b.page, () => (window as unknown as { __bench: BenchState }).__bench.incomingAt || false);
      const aBench = await readBench(a.page);
      const ringBench = await readBench(b.page);
      ringTimes.push(ringBench.incomingAt - (aBench.clicks.Call ?? NaN));

      // Heard only from here on: nothing flows before the answer, and what came before does not count.
      await Promise.all([a.page, b.page].map((page) => page.evaluate(() => (window as unknown as { __bench: BenchState }).__bench.arm())));
      await b.page.getByRole('region', { name: 'Incoming call' }).getByRole('button', { name: 'Answer' }).click();
      const [aHeard, bHeard] = await Promise.all(
        [a.page, b.page].map((page) => waitFor(page, () => (window as unknown as { __bench: BenchState }).__bench.heardAt || false)),
      );
      const answered = (await readBench(b.page)).clicks.Answer ?? NaN;
      audioTimes.push(Math.max(aHeard ?? NaN, bHeard ?? NaN) - answered);

      await a.page.getByRole('region', { name: 'Active call' }).getByRole('button', { name: 'Hang up' }).click();
      await Promise.all(
        [a.page, b.page].map((page) =>
          waitFor(page, () => (document.querySelector('section[aria-label="Active call"], section[aria-label="Incoming call"]') ? false : true)),
        ),
      );
      if (i === 0) {
        await new Promise((resolve) => setTimeout(resolve, CARD_GONE_MS));
        firstHeap = { caller: await heapMb(a.page), callee: await heapMb(b.page) };
      }
      if ((i + 1) % 50 === 0) process.stdout.write(`  ${i + 1}/${calls} calls\n`);
    }
    await new Promise((resolve) => setTimeout(resolve, CARD_GONE_MS));
    const lastHeap = { caller: await heapMb(a.page), callee: await heapMb(b.page) };
    await a.context.close();
    await b.context.close();

    return {
      calls,
      loads,
      medians: {
        loadToRegisteredMs: round(median(loadTimes)),
        callToIncomingCardMs: round(median(ringTimes)),
        answerToAudioMs: round(median(audioTimes)),
      },
      heap: {
        callerAfterFirstMb: round(firstHeap.caller, 2),
        callerAfterAllMb: round(lastHeap.caller, 2),
        calleeAfterFirstMb: round(firstHeap.callee, 2),
        calleeAfterAllMb: round(lastHeap.callee, 2),
        growthMb: round(Math.max(lastHeap.caller - firstHeap.caller, lastHeap.callee - firstHeap.callee), 2),
      },
      targets: TARGETS,
      raw: { loadToRegisteredMs: loadTimes.map((t) => round(t)), callToIncomingCardMs: ringTimes.map((t) => round(t)), answerToAudioMs: audioTimes.map((t) => round(t)) },
      wallSeconds: round((Date.now() - started) / 1000),
    };
  } finally {
    await browserA.close();
    await browserB.close();
    await pbx.dispose();
    rmSync(workDir, { recursive: true, force: true });
  }
}

/** The table `npm run bench` prints: each median with its target beside it. */
export function webPhoneTable(figures: WebPhoneFigures): Array<Record<string, string | number>> {
  const row = (measure: string, value: number, target: number, unit: string) => ({
    measure,
    median: `${value} ${unit}`,
    target: `< ${target} ${unit}`,
    met: value < target ? 'yes' : 'no',
  });
  return [
    row('page load to Registered', figures.medians.loadToRegisteredMs, TARGETS.loadToRegisteredMs, 'ms'),
    row('Call clicked to callee ringing (card shown)', figures.medians.callToIncomingCardMs, TARGETS.callToIncomingCardMs, 'ms'),
    row('Answer clicked to audio both ways', figures.medians.answerToAudioMs, TARGETS.answerToAudioMs, 'ms'),
    row(`JS heap growth, ${figures.calls} calls vs 1 (larger of caller, callee)`, figures.heap.growthMb, TARGETS.heapGrowthMb, 'MB'),
  ];
}
