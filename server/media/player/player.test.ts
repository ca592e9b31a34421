import { statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { rtpPayload } from '../legs/media-leg';
import { CODECS, FakeClock, FakeLeg, Party, toneFrame } from '../joins/mixer.test-helper';
import { MediaPlayer } from './player';
import type { PlaybackEnd } from './player';
import { holdMusic, shippedHoldMusicPath } from './hold-music';
import { parseWav, Sound } from './sound';

/** A tone of `hz` lasting `ms`, at 8 kHz. */
function toneSound(hz: number, ms: number): Sound {
  const frames = ms / 20;
  const samples = new Int16Array(frames * 160);
  for (let i = 0; i < frames; i++) samples.set(toneFrame(hz, 8000, i), i * 160);
  return new Sound(`${hz} Hz`, 8000, samples);
}

/** A RIFF/WAVE file around 16-bit samples. */
function wav(samples: Int16Array, rate: number, channels = 1, bits = 16, tag = 1): Buffer {
  const data = Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength);
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'latin1');
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVE', 8, 'latin1');
  header.write('fmt ', 12, 'latin1');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(tag, 20);
  header.writeUInt16LE(channels, 22);
  header.writeUInt32LE(rate, 24);
  header.writeUInt32LE((rate * channels * bits) / 8, 28);
  header.writeUInt16LE((channels * bits) / 8, 32);
  header.writeUInt16LE(bits, 34);
  header.write('data', 36, 'latin1');
  header.writeUInt32LE(data.length, 40);
  return Buffer.concat([header, data]);
}

describe('media player', () => {
  it.each(['pcmu', 'pcma', 'opus'] as const)('plays a sound into a %s leg in its codec, 50 packets a second, one marked stream', (kind) => {
    const clock = new FakeClock();
    const player = new MediaPlayer({ clock });
    const listener = new Party('bob', kind, undefined);
    player.play(listener.leg, toneSound(1000, 2000), { loop: true });
    clock.advance(1000);

    const sent = listener.leg.sent;
    expect(sent).toHaveLength(50);
    expect(sent.every((frame) => frame.payloadType === CODECS[kind].payloadType)).toBe(true);
    expect(sent.map((frame) => frame.marker)).toEqual([true, ...Array<boolean>(49).fill(false)]);
    const ticks = kind === 'opus' ? 960 : 160;
    for (let i = 1; i < sent.length; i++) {
      expect(sent[i]!.sequenceNumber).toBe((sent[0]!.sequenceNumber + i) & 0xffff);
      expect(sent[i]!.timestamp).toBe((sent[0]!.timestamp + i * ticks) >>> 0);
    }
    // Decoded as the phone or the browser would, the tone is there at about the level it was made with.
    expect(listener.levelOf(1000)).toBeGreaterThan(5000);
    expect(listener.levelOf(2000)).toBeLessThan(500);
  });

  it('paces every playback on one timer and codes a sound once per codec, however many hear it', () => {
    const clock = new FakeClock();
    const player = new MediaPlayer({ clock });
    const sound = toneSound(440, 1000);
    const legs = Array.from({ length: 300 }, (_, i) => new FakeLeg(`leg${i}`, CODECS[(['pcmu', 'pcma', 'opus'] as const)[i % 3]!]));
    for (const leg of legs) player.play(leg, sound, { loop: true });
    expect(clock.pending).toBe(1);
    clock.advance(200);
    expect(clock.pending).toBe(1);
    expect(legs.every((leg) => leg.sent.length === 10)).toBe(true);
    // The same payload object goes to every leg of one codec: nothing is encoded per call.
    expect(legs[0]!.sentPayloads[3]).toBe(legs[3]!.sentPayloads[3]);
    expect(legs[2]!.sentPayloads[3]).toBe(legs[299]!.sentPayloads[3]);
    expect(sound.frames('pcmu')).toHaveLength(50);
  });

  it('plays a prompt once and says it finished; a loop starts again at the end', () => {
    const clock = new FakeClock();
    const player = new MediaPlayer({ clock });
    const sound = toneSound(440, 100);
    const once = new FakeLeg('once', CODECS.pcmu);
    const looped = new FakeLeg('looped', CODECS.pcmu);
    const ends: PlaybackEnd[] = [];
    const prompt = player.play(once, sound, { onEnded: (why) => ends.push(why) });
    player.play(looped, sound, { loop: true });
    clock.advance(300);
    expect(once.sent).toHaveLength(5);
    expect(prompt.ended).toBe(true);
    expect(ends).toEqual(['finished']);
    expect(looped.sent).toHaveLength(15);
    expect(rtpPayload(looped.sent[5]!)).toEqual(rtpPayload(looped.sent[0]!));
  });

  it('ends a playback whose leg closes, stops on request, and runs no timer when nothing plays', () => {
    const clock = new FakeClock();
    const player = new MediaPlayer({ clock });
    const sound = toneSound(440, 1000);
    const a = new FakeLeg('a', CODECS.pcma);
    const b = new FakeLeg('b', CODECS.pcma);
    const ends: string[] = [];
    player.play(a, sound, { loop: true, onEnded: (why) => ends.push(`a ${why}`) });
    const playingB = player.play(b, sound, { loop: true, onEnded: (why) => ends.push(`b ${why}`) });
    clock.advance(100);
    a.close();
    playingB.stop();
    playingB.stop();
    expect(ends).toEqual(['a leg-closed', 'b stopped']);
    expect(player.active).toBe(0);
    expect(clock.pending).toBe(0);
    clock.advance(100);
    expect(b.sent).toHaveLength(5);
    // A closed leg is never played to.
    const late = player.play(a, sound);
    expect(late.ended).toBe(true);
    expect(clock.pending).toBe(0);
  });

  it('waits for the leg to connect, follows a codec change, and passes over a codec it cannot code', () => {
    const clock = new FakeClock();
    const player = new MediaPlayer({ clock });
    const leg = new FakeLeg('leg', CODECS.pcmu);
    leg.state = 'connecting';
    player.play(leg, toneSound(440, 1000), { loop: true });
    clock.advance(100);
    expect(leg.sent).toHaveLength(0);
    leg.state = 'connected';
    clock.advance(40);
    expect(leg.sent.map((frame) => frame.marker)).toEqual([true, false]);
    leg.codec = CODECS.opus;
    clock.advance(40);
    expect(leg.sent.slice(2).map((frame) => [frame.payloadType, frame.marker])).toEqual([
      [111, true],
      [111, false],
    ]);
    leg.codec = { mimeType: 'audio/G722', clockRate: 8000, payloadType: 9 };
    clock.advance(40);
    expect(leg.sent).toHaveLength(4);
  });

  it('a playback whose end handler starts the next one keeps one clock', () => {
    const clock = new FakeClock();
    const player = new MediaPlayer({ clock });
    const leg = new FakeLeg('leg', CODECS.pcmu);
    const sound = toneSound(440, 40);
    player.play(leg, sound, { onEnded: () => player.play(leg, sound) });
    clock.advance(200);
    expect(leg.sent).toHaveLength(4);
    expect(clock.pending).toBe(0);
  });
});

describe('sounds', () => {
  it('reads a mono or stereo 16-bit WAV at 8, 16 or 48 kHz, stereo mixed down', () => {
    const stereo = new Int16Array([1000, 3000, -2000, -4000]);
    const sound = parseWav(wav(stereo, 16000, 2), 'stereo.wav');
    expect(sound.rate).toBe(16000);
    expect([...sound.samples]).toEqual([2000, -3000]);
    expect(parseWav(wav(new Int16Array(480), 48000), 'a.wav').durationMs).toBe(10);
  });

  it('refuses what it cannot play with a sentence that says what to do', () => {
    expect(() => parseWav(Buffer.from('ID3 not a wave file'), 'song.mp3')).toThrow('song.mp3: not a WAV file');
    expect(() => parseWav(wav(new Int16Array(100), 44100), 'cd.wav')).toThrow('44100 Hz; convert it to 8000, 16000 or 48000 Hz');
    expect(() => parseWav(wav(new Int16Array(100), 8000, 1, 16, 3), 'float.wav')).toThrow('16-bit PCM');
    expect(() => parseWav(wav(new Int16Array(0), 8000), 'empty.wav')).toThrow('empty');
    expect(() => parseWav(wav(new Int16Array(100), 8000, 6), 'surround.wav')).toThrow('6 channels');
  });

  it('ships a short hold music excerpt that a fresh clone plays, well under 1 MB', () => {
    const path = shippedHoldMusicPath();
    expect(path).toBeDefined();
    expect(statSync(path!).size).toBeLessThan(512 * 1024);
    const music = holdMusic();
    expect(music?.rate).toBe(8000);
    expect(music!.durationMs).toBeGreaterThanOrEqual(10_000);
    // Music, not silence.
    const rms = Math.sqrt(music!.samples.reduce((sum, sample) => sum + sample * sample, 0) / music!.samples.length);
    expect(rms).toBeGreaterThan(500);
  });

  it('says why a named file cannot be used, and the PBX goes on without music', () => {
    expect(holdMusic('/nonexistent/music.wav')).toBeUndefined();
  });
});
