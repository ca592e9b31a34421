/** A media player that notes what it plays, for the tests of what the PBX says (voicemail, its menu, screening). */
import type { MediaLeg } from '../legs/media-leg';
import { MediaPlayer } from './player';
import type { Playback, PlayOptions } from './player';
import type { Sound } from './sound';

/**
 * Records what was played, phrase by phrase: a prompt read from a file by its path in the prompts folder without
 * `.wav` ("vm-youhave", "digits/2", "followme/options"), any other sound by its name.
 */
export class RecordingPlayer extends MediaPlayer {
  readonly phrases: string[][] = [];

  override play(leg: MediaLeg, sound: Sound, options?: PlayOptions): Playback {
    this.phrases.push(
      sound.name.split(' + ').map((name) => {
        const file = name.replace(/\\/g, '/');
        if (!file.endsWith('.wav')) return name;
        const at = file.lastIndexOf('/prompts/');
        return (at >= 0 ? file.slice(at + '/prompts/'.length) : file.slice(file.lastIndexOf('/') + 1)).replace(/\.wav$/, '');
      }),
    );
    return super.play(leg, sound, options);
  }

  get said(): string[] {
    return this.phrases.flat();
  }
}
