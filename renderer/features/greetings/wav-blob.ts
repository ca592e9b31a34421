/**
 * Audio in the browser to the WAV the PBX reads: any decoded sound (a recording, an MP3 or M4A file the browser
 * can decode) is mixed to mono and resampled to 16 kHz by an OfflineAudioContext, then written as 16-bit PCM.
 * 16 kHz is wideband voice, what the PBX stores greetings at, in a quarter of a 44.1 kHz file's bytes.
 */

export const GREETING_RATE = 16000;

/** 16-bit mono PCM, from samples in -1..1, as WAV bytes. */
export function encodeWav(samples: Float32Array, rate: number): Uint8Array {
  const bytes = new Uint8Array(44 + samples.length * 2);
  const view = new DataView(bytes.buffer);
  const text = (at: number, value: string) => {
    for (let i = 0; i < value.length; i++) bytes[at + i] = value.charCodeAt(i);
  };
  text(0, 'RIFF');
  view.setUint32(4, 36 + samples.length * 2, true);
  text(8, 'WAVEfmt ');
  view.setUint32(16, 16, true);
  view.setUint16(20, 1, true); // PCM
  view.setUint16(22, 1, true); // mono
  view.setUint32(24, rate, true);
  view.setUint32(28, rate * 2, true);
  view.setUint16(32, 2, true);
  view.setUint16(34, 16, true);
  text(36, 'data');
  view.setUint32(40, samples.length * 2, true);
  for (let i = 0; i < samples.length; i++) {
    const clamped = Math.max(-1, Math.min(1, samples[i]!));
    view.setInt16(44 + i * 2, Math.round(clamped < 0 ? clamped * 32768 : clamped * 32767), true);
  }
  return bytes;
}

/** Mono at 16 kHz, as the browser's own resampler renders it. */
async function toMono16k(decoded: AudioBuffer): Promise<Float32Array> {
  const length = Math.max(1, Math.ceil(decoded.duration * GREETING_RATE));
  const context = new OfflineAudioContext(1, length, GREETING_RATE);
  const source = context.createBufferSource();
  source.buffer = decoded;
  source.connect(context.destination);
  source.start();
  const rendered = await context.startRendering();
  return rendered.getChannelData(0);
}

export interface WavAudio {
  wav: Blob;
  durationMs: number;
}

/**
 * Any audio file or recording the browser can decode, as a 16 kHz mono WAV, cut to `maxMs` when given (a recording
 * stopped at the limit runs a few milliseconds past it); rejects when it cannot be decoded.
 */
export async function audioToWav(audio: Blob, maxMs?: number): Promise<WavAudio> {
  const context = new OfflineAudioContext(1, 1, GREETING_RATE);
  const decoded = await context.decodeAudioData(await audio.arrayBuffer());
  const mono = await toMono16k(decoded);
  const samples = maxMs === undefined ? mono : mono.subarray(0, Math.floor((maxMs * GREETING_RATE) / 1000));
  const bytes = encodeWav(samples, GREETING_RATE);
  return { wav: new Blob([bytes.buffer as ArrayBuffer], { type: 'audio/wav' }), durationMs: Math.round((samples.length * 1000) / GREETING_RATE) };
}
