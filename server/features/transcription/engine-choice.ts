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
    choice = { engine: new HostedEngine({ url: settings.url, key: settings.key }), description: `hosted, at ${new URL(settings.url).origin}` };
  } else {
    const missing = pocketsphinxMissing(install);
    if (missing !== undefined && mode === 'local') throw new Error(`Local transcription cannot run: ${missing}.`);
    choice =
      missing === undefined
        ? { engine: new PocketsphinxEngine(install), description: 'local (pocketsphinx; wideband messages only, narrowband ones are marked so)' }
        : { engine: undefined, description: `off: ${missing}` };
  }
  log.info(`voicemail transcription ${choice.description}`);
  return choice;
}
