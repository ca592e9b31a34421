/** Messages are stored as Ogg Opus (media/audio-file), mono, at the rate they were recorded at, coded as they come. */
import { OggOpusWriter } from '../../media/audio-file';
import type { MessageEncoder } from './ports';

export const oggOpusEncoder: MessageEncoder = (rate) => {
  const writer = new OggOpusWriter(rate);
  const pages: Buffer[] = [];
  return {
    write(samples) {
      const bytes = writer.write(samples);
      if (bytes.length > 0) pages.push(bytes);
    },
    finish() {
      pages.push(writer.finish());
      return Buffer.concat(pages);
    },
  };
};
