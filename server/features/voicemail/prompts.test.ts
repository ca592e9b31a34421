import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CODECS, FakeClock, FakeLeg, Party, toneFrame, toneLevel } from '../../media/joins/mixer.test-helper';
import { MediaPlayer, Sound } from '../../media/player';
import type { PlaybackEnd } from '../../media/player';
import { playSequence, PROMPT_TEXTS, Prompts, prompts, runsOf, shippedPromptsFolder } from './prompts';

/** What a phrase says, by prompt file name ("vm-youhave", "digits/3"). */
function said(sounds: readonly Sound[]): string[] {
  return sounds.map((sound) => {
    const file = sound.name.replace(/\\/g, '/');
    const name = basename(file, '.wav');
    return file.includes('/digits/') ? `digits/${name}` : name;
  });
}

function tone(hz: number, ms: number, rate: 8000 | 16000 = 8000): Sound {
  const frames = ms / 20;
  const size = rate / 50;
  const samples = new Int16Array(frames * size);
  for (let i = 0; i < frames; i++) samples.set(toneFrame(hz, rate, i), i * size);
  return new Sound(`${hz} Hz ${ms} ms`, rate, samples);
}

describe('voicemail prompts', () => {
  const shipped = prompts();
  const temp = mkdtempSync(join(tmpdir(), 'offhook-prompts-'));
  afterAll(() => rmSync(temp, { recursive: true, force: true }));

  it('ships every prompt it names, as 8 kHz speech, and nothing it does not use', () => {
    const folder = shippedPromptsFolder();
    expect(folder).toBeDefined();
    expect(shipped.missing).toEqual([]);
    for (const name of Object.keys(PROMPT_TEXTS) as (keyof typeof PROMPT_TEXTS)[]) {
      const sound = shipped.get(name);
      expect(sound.rate, name).toBe(8000);
      expect(sound.durationMs, name).toBeGreaterThan(200);
      // Speech, not silence: some frames are loud.
      expect(Math.max(...sound.samples.map(Math.abs)), name).toBeGreaterThan(3000);
    }
    expect(shipped.get('vm-intro').durationMs).toBeGreaterThan(4000);
    const names = Object.keys(PROMPT_TEXTS);
    const top = readdirSync(folder!).filter((file) => file.endsWith('.wav')).map((file) => basename(file, '.wav'));
    expect(top.sort()).toEqual(names.filter((name) => !name.includes('/')).sort());
    // Prompts kept in a folder of the package's (followme/) are there too, and alone there.
    const nested = names.filter((name) => name.includes('/'));
    for (const folderName of new Set(nested.map((name) => name.split('/')[0]!))) {
      const inFolder = readdirSync(join(folder!, folderName)).map((file) => `${folderName}/${basename(file, '.wav')}`);
      expect(inFolder.sort()).toEqual(nested.filter((name) => name.startsWith(`${folderName}/`)).sort());
    }
    expect(readdirSync(join(folder!, 'digits')).length).toBe(29);
    // The README lists each file it ships.
    const readme = readFileSync(join(folder!, 'README.md'), 'utf8');
    for (const name of names) expect(readme, name).toContain(`${name}.wav`);
  });

  it('says numbers from the recorded words', () => {
    expect(said(shipped.number(0))).toEqual(['digits/0']);
    expect(said(shipped.number(7))).toEqual(['digits/7']);
    expect(said(shipped.number(13))).toEqual(['digits/13']);
    expect(said(shipped.number(20))).toEqual(['digits/20']);
    expect(said(shipped.number(42))).toEqual(['digits/40', 'digits/2']);
    expect(said(shipped.number(100))).toEqual(['digits/1', 'digits/hundred']);
    expect(said(shipped.number(115))).toEqual(['digits/1', 'digits/hundred', 'digits/15']);
    expect(said(shipped.number(999))).toEqual(['digits/9', 'digits/hundred', 'digits/90', 'digits/9']);
    expect(said(shipped.number(1205))).toEqual(['digits/1', 'digits/2', 'digits/0', 'digits/5']);
    expect(() => shipped.number(-1)).toThrow(RangeError);
    expect(() => shipped.number(1.5)).toThrow(RangeError);
  });

  it('makes the default greeting from the extension, unavailable or busy, without the tone', () => {
    expect(said(shipped.defaultGreeting('201', false))).toEqual(['vm-theperson', 'digits/2', 'digits/0', 'digits/1', 'vm-isunavail', 'vm-intro']);
    expect(said(shipped.defaultGreeting('1009', true))).toEqual(['vm-theperson', 'digits/1', 'digits/0', 'digits/0', 'digits/9', 'vm-isonphone', 'vm-intro']);
    expect(said([shipped.tone])).toEqual(['beep']);
    expect(said([shipped.mailboxFull])).toEqual(['vm-mailboxfull']);
    // The tone is its own prompt (700 Hz); the intro ends in speech, so the tone is never heard twice.
    const tail = (sound: Sound): Int16Array => sound.samples.subarray(sound.samples.length - 2400);
    expect(toneLevel(shipped.tone.samples, 8000, 700)).toBeGreaterThan(1000);
    expect(toneLevel(tail(shipped.get('vm-intro')), 8000, 700)).toBeLessThan(100);
  });

  it('counts messages in words, singular and plural', () => {
    expect(said(shipped.messageCounts({ new: 0, saved: 0 }))).toEqual(['vm-youhave', 'vm-no', 'vm-messages']);
    expect(said(shipped.messageCounts({ new: 1, saved: 0 }))).toEqual(['vm-youhave', 'digits/1', 'vm-INBOX', 'vm-message']);
    expect(said(shipped.messageCounts({ new: 3, saved: 1 }))).toEqual([
      'vm-youhave', 'digits/3', 'vm-INBOX', 'vm-messages', 'vm-and', 'digits/1', 'vm-saved', 'vm-message',
    ]);
    expect(said(shipped.messageCounts({ new: 0, saved: 21 }))).toEqual([
      'vm-youhave', 'vm-no', 'vm-INBOX', 'vm-messages', 'vm-and', 'digits/20', 'digits/1', 'vm-saved', 'vm-messages',
    ]);
    expect(said(shipped.messageNumber(2))).toEqual(['vm-message', 'digits/2']);
  });

  it('plays silence in place of prompts it cannot read, and says which', () => {
    const empty = Prompts.load(temp);
    expect(empty.missing).toContain('vm-intro');
    expect(empty.missing).toContain('digits/hundred');
    expect(empty.get('vm-intro').samples.every((sample) => sample === 0)).toBe(true);
    expect(empty.defaultGreeting('12', false)).toHaveLength(5);
    expect(Prompts.load(undefined).missing).toHaveLength(Object.keys(PROMPT_TEXTS).length + 29);
  });
});

describe('playSequence', () => {
  it('plays a phrase back to back as one marked stream, then says it finished', () => {
    const clock = new FakeClock();
    const player = new MediaPlayer({ clock });
    const party = new Party('caller', 'pcmu', undefined);
    const ends: PlaybackEnd[] = [];
    playSequence(player, party.leg, [tone(500, 200), tone(1000, 300), tone(500, 100)], (why) => ends.push(why));
    clock.advance(580);
    expect(ends).toEqual([]);
    clock.advance(20);
    expect(ends).toEqual(['finished']);
    const sent = party.leg.sent;
    expect(sent).toHaveLength(30);
    expect(sent.filter((frame) => frame.marker)).toHaveLength(1);
    for (let i = 1; i < sent.length; i++) expect(sent[i]!.timestamp - sent[0]!.timestamp).toBe(i * 160);
    // The phrase ends with its last part, and then nothing more is sent.
    expect(party.levelOf(500, 5)).toBeGreaterThan(4000);
    clock.advance(200);
    expect(party.leg.sent).toHaveLength(30);
  });

  it('hears the parts in order', () => {
    const clock = new FakeClock();
    const player = new MediaPlayer({ clock });
    const party = new Party('caller', 'pcma', undefined);
    playSequence(player, party.leg, [tone(500, 200), tone(1000, 200)], () => {});
    clock.advance(200);
    expect(party.levelOf(500, 10)).toBeGreaterThan(4000);
    expect(party.levelOf(1000, 10)).toBeLessThan(1000);
    clock.advance(200);
    expect(party.levelOf(1000, 10)).toBeGreaterThan(4000);
  });

  it('joins a phrase once: the next caller gets the same coded frames', () => {
    const clock = new FakeClock();
    const player = new MediaPlayer({ clock });
    const a = tone(500, 100);
    const b = tone(700, 100);
    expect(runsOf([a, b])[0]).toBe(runsOf([a, b])[0]);
    expect(runsOf([b, a])[0]).not.toBe(runsOf([a, b])[0]);
    const first = new FakeLeg('first', CODECS.opus);
    const second = new FakeLeg('second', CODECS.opus);
    playSequence(player, first, [a, b], () => {});
    clock.advance(200);
    playSequence(player, second, [a, b], () => {});
    clock.advance(200);
    expect(second.sentPayloads).toHaveLength(10);
    expect(second.sentPayloads[4]).toBe(first.sentPayloads[4]);
  });

  it('plays parts of different rates one after the other', () => {
    const clock = new FakeClock();
    const player = new MediaPlayer({ clock });
    const leg = new FakeLeg('caller', CODECS.opus);
    const ends: PlaybackEnd[] = [];
    const parts = [tone(500, 100, 16000), tone(500, 100, 16000), tone(800, 100)];
    expect(runsOf(parts).map((run) => run.rate)).toEqual([16000, 8000]);
    playSequence(player, leg, parts, (why) => ends.push(why));
    clock.advance(400);
    expect(ends).toEqual(['finished']);
    expect(leg.sent.length).toBeGreaterThanOrEqual(15);
  });

  it('stops when told, once, and sends nothing more', () => {
    const clock = new FakeClock();
    const player = new MediaPlayer({ clock });
    const leg = new FakeLeg('caller', CODECS.pcmu);
    const ends: PlaybackEnd[] = [];
    const phrase = playSequence(player, leg, [tone(500, 1000), tone(500, 1000, 16000)], (why) => ends.push(why));
    clock.advance(100);
    phrase.stop();
    phrase.stop();
    expect(phrase.ended).toBe(true);
    const sent = leg.sent.length;
    clock.advance(3000);
    expect(leg.sent.length).toBe(sent);
    expect(ends).toEqual(['stopped']);
    expect(player.active).toBe(0);
  });

  it('ends when the leg closes, and at once for an empty phrase or a closed leg', () => {
    const clock = new FakeClock();
    const player = new MediaPlayer({ clock });
    const leg = new FakeLeg('caller', CODECS.pcmu);
    const ends: PlaybackEnd[] = [];
    playSequence(player, leg, [tone(500, 1000), tone(500, 1000, 16000)], (why) => ends.push(why));
    clock.advance(100);
    leg.close();
    clock.advance(3000);
    expect(ends).toEqual(['leg-closed']);
    playSequence(player, new FakeLeg('other', CODECS.pcmu), [], (why) => ends.push(why));
    playSequence(player, leg, [tone(500, 100)], (why) => ends.push(why));
    expect(ends).toEqual(['leg-closed', 'finished', 'leg-closed']);
  });
});
