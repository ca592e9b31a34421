/**
 * Debian's Chromium driven by Playwright, with a fake microphone that plays a given WAV file. Each person in
 * a test gets their own browser process, because the fake capture file is a process-wide switch.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';
import type { Browser } from 'playwright-core';

export function findChromium(): string {
  const fromEnv = process.env.CHROMIUM_PATH;
  if (fromEnv && existsSync(fromEnv)) return fromEnv;
  for (const name of ['chromium', 'chromium-browser', 'google-chrome']) {
    try {
      const path = execFileSync('which', [name], { encoding: 'utf8' }).trim();
      if (path) return path;
    } catch {
      // not on PATH; try the next name
    }
  }
  throw new Error('Chromium was not found on PATH. Install Debian\'s chromium (apt-get install chromium) or set CHROMIUM_PATH.');
}

export async function launchBrowser(fakeAudioWav: string): Promise<Browser> {
  return chromium.launch({
    executablePath: findChromium(),
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--use-fake-device-for-media-stream',
      '--use-fake-ui-for-media-stream',
      `--use-file-for-fake-audio-capture=${fakeAudioWav}`,
      '--autoplay-policy=no-user-gesture-required',
      // The PBX's media address in tests is 127.0.0.1; Chromium leaves loopback out of ICE unless told.
      '--allow-loopback-in-peer-connection',
      '--disable-features=WebRtcHideLocalIpsWithMdns',
    ],
  });
}
