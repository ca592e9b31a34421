/** An audio file the PBX cannot read, and why, in a sentence a person can act on. */
export class AudioFileError extends Error {
  override name = 'AudioFileError';
}
