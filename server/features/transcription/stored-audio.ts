/**
 * A stored voicemail as samples: the Ogg Opus file the voicemail feature wrote (or a WAV), decoded at the rate it
 * was recorded at (8 or 16 kHz) rather than Opus's 48 kHz, which spares a third to a sixth of the decoding and
 * most of the resampling, and a second at a time, so the calls' media in the same thread never wait long.
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { decodeAudioAsync } from '../../media/audio-file';
import type { SpeechAudio } from './engine';

export async function readStoredAudio(path: string): Promise<SpeechAudio> {
  const decoded = await decodeAudioAsync(await readFile(path), basename(path), { opusAtInputRate: true });
  return { samples: decoded.samples, rate: decoded.rate };
}
