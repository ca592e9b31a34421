/** The media player (sounds into legs: music on hold, prompts) and the sounds it plays. */
export { MediaPlayer } from './player';
export type { MediaPlayerOptions, Playback, PlaybackEnd, PlayOptions } from './player';
export { loadSound, MAX_SOUND_SECONDS, parseWav, Sound, SoundError } from './sound';
export { holdMusic, shippedHoldMusicPath } from './hold-music';
export { toneSound } from './tone';
export type { ToneSpec } from './tone';
