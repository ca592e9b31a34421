/**
 * Audio files: what voicemail records, greetings people upload and transcription reads. Ogg Opus is how the PBX
 * stores speech (a minute of voice in about 240 KB, and browsers play it); WAV and Ogg Opus are what it reads.
 */
export { AudioFileError } from './errors';
export { audioFileKind, decodeAudio, decodeAudioAsync, soundFromAudio } from './decode';
export type { AudioFileKind, DecodedAudio, DecodeOptions } from './decode';
export { decodeOggOpus, encodeOggOpus, OggOpusWriter, OPUS_PRE_SKIP } from './ogg-opus';
export type { OggOpusRate } from './ogg-opus';
export { resample, resampleAsync } from './resample';
export { decodeWav, encodeWav, readWavLayout } from './wav';
export type { WavLayout } from './wav';
