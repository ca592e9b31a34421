/**
 * Which engine a PBX transcribes with, from its settings (server/config.ts `--transcription`, `--transcription-url`,
 * `--transcription-key`), and a line saying so for the start-up summary and the log.
 */
import { createLogger } from '../../log';
import type { TranscriptionEngine } from './engine';
import { HostedEngine } from './hosted';
import { DEBIAN_POCKETSPHINX, pocketsphinxMissing, PocketsphinxEngine } from './pocketsphinx';
import type { PocketsphinxInstall } from './pocketsphinx';

const log = createLogger('transcription');

/** Where plain HTTP never leaves the machine (URL.hostname keeps an IPv6 address's brackets). */
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

export interface TranscriptionSettings {
  /** Undefined: hosted when a URL is given, else local when pocketsphinx is installed, else off. */
  mode?: 'off' | 'local' | 'hosted';
  url?: string;
  key?: string;
}

export interface EngineChoice {
  engine: TranscriptionEngine | undefined;
  /** For a person: which engine and why, e.g. "off: /usr/bin/pocketsphinx_continuous is not installed (…)". */
  description: string;
}

/** Throws, with a sentence, when an engine asked for by name cannot run. */
export function chooseEngine(settings: TranscriptionSettings, install: PocketsphinxInstall = DEBIAN_POCKETSPHINX): EngineChoice {
  const mode = settings.mode ?? (settings.url !== undefined ? 'hosted' : undefined);
  let choice: EngineChoice;
  if (mode === 'off') {
    choice = { engine: undefined, description: 'off (--transcription off)' };
  } else if (mode === 'hosted') {
    if (settings.url === undefined || settings.key === undefined) throw new Error('Hosted transcription needs a service URL and key.');
    const url = new URL(settings.url);
    const exposed = url.protocol === 'http:' && !LOOPBACK_HOSTS.has(url.hostname);
    choice = {
      engine: new HostedEngine({ url: settings.url, key: settings.key }),
      description: `hosted, at ${url.origin}${exposed ? ' (plain HTTP: the key and the messages cross the network unencrypted; use https)' : ''}`,
    };
  } else {
    const missing = pocketsphinxMissing(install);
    if (missing !== undefined && mode === 'local') throw new Error(`Local transcription cannot run: ${missing}.`);
    choice =
      missing === undefined
        ? { engine: new PocketsphinxEngine(install), description: 'local (pocketsphinx; wideband messages only, narrowband ones are marked so)' }
        : { engine: undefined, description: `off: ${missing}` };
  }
  if (choice.description.includes('plain HTTP')) log.warn(`voicemail transcription ${choice.description}`);
  else log.info(`voicemail transcription ${choice.description}`);
  return choice;
}
