/**
 * The recorded prompts the PBX speaks (voicemail's default greeting, the mailbox menu, call screening), and how
 * a phrase made of several of them is played.
 *
 * The prompts are Allison Smith's recordings from the Asterisk core sounds (CC BY-SA 3.0; see
 * resources/sounds/prompts/README.md), converted to 8 kHz 16-bit mono WAV and shipped in resources/, so a
 * fresh clone speaks with nothing installed. They are read once per process. A prompt that cannot be read is
 * logged and replaced by a moment of silence: a menu that cannot speak one phrase still works by key presses,
 * and a missing file never stops the PBX.
 *
 * A phrase ("you have" "three" "new" "messages") is played as one sound: the prompts of each run of one sample
 * rate are joined into a single Sound, so the caller hears them back to back on one RTP stream, and joined
 * phrases are kept (a few dozen, by the identity of their parts), so the phrase every caller of an extension
 * hears is coded once per codec, as the player codes any sound. Parts of different rates (a greeting recorded
 * in the app, then the 8 kHz tone) play one after the other.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger } from '../../log';
import { loadSound, MAX_SOUND_SECONDS, Sound } from '../../media/player';
import type { MediaPlayer, Playback, PlaybackEnd } from '../../media/player';
import type { MediaLeg } from '../../media/legs/media-leg';

const log = createLogger('voicemail');

export const SHIPPED_PROMPTS = join('resources', 'sounds', 'prompts');

/** Every prompt the PBX ships, by its file name (the Asterisk name) without `.wav`; what it says is beside it. */
export const PROMPT_TEXTS = {
  'vm-theperson': 'The person at extension',
  'vm-isunavail': 'is unavailable',
  'vm-isonphone': 'is on the phone',
  'vm-intro': 'Please leave your message after the tone. When done, hang up or press the pound key.',
  beep: '(a tone)',
  'vm-mailboxfull': "Sorry, but the user's mailbox can't accept more messages.",
  'agent-pass': 'Please enter your password followed by the pound key.',
  'auth-incorrect': 'Password incorrect. Please enter your password followed by the pound key.',
  'confbridge-pin-bad': 'You have entered too many invalid personal identification numbers.',
  'feature-not-avail-line': 'That feature is not available on this line.',
  'vm-goodbye': 'Goodbye',
  'vm-youhave': 'you have',
  'vm-no': 'no',
  'vm-INBOX': 'new',
  'vm-saved': 'saved',
  'vm-and': 'and',
  'vm-message': 'message',
  'vm-messages': 'messages',
  'vm-repeat': 'Press 5 to repeat the current message.',
  'vm-next': 'Press 6 to play the next message.',
  'vm-delete': 'Press 7 to delete this message.',
  'vm-savemessage': 'or 9 to save this message',
  'vm-helpexit': 'Press star for help or pound to exit.',
  'vm-deleted': 'Message deleted.',
  'vm-msgsaved': 'Your message has been saved.',
  'vm-nomore': 'No more messages.',
  'vm-sorry': 'I am sorry, I did not understand your response.',
  // Call screening (features/screening).
  'priv-recordintro': 'At the tone, please say your name.',
  'priv-introsaved': 'Thank you. Please hold, while I attempt to connect you with your party!',
  'priv-callpending': 'I have a caller waiting, who introduces themselves as:',
  'followme/options': 'press 1 to accept this call, or 2 to reject it',
} as const;

export type PromptName = keyof typeof PROMPT_TEXTS;

/** The numbers recorded in digits/: 0 to 19, the tens, and "hundred"; others are said from these. */
const NUMBER_WORDS = [...Array.from({ length: 20 }, (_, n) => String(n)), '20', '30', '40', '50', '60', '70', '80', '90', 'hundred'] as const;

/** What a prompt that could not be read is replaced by. */
const SILENCE_MS = 300;

/** The shipped prompts folder, found in the project folder above this module (source or bundle). */
export function shippedPromptsFolder(): string | undefined {
  let folder = dirname(fileURLToPath(import.meta.url));
  for (let up = 0; up < 6; up++, folder = dirname(folder)) {
    const candidate = join(folder, SHIPPED_PROMPTS);
    if (existsSync(join(candidate, 'vm-intro.wav'))) return candidate;
  }
  return undefined;
}

export interface MailboxCounts {
  new: number;
  saved: number;
}

/** The prompts, read from one folder, and the phrases voicemail makes of them. */
export class Prompts {
  /** Names of the prompts that could not be read (silence plays instead). */
  readonly missing: readonly string[];

  private constructor(
    private readonly sounds: ReadonlyMap<string, Sound>,
    missing: string[],
  ) {
    this.missing = missing;
  }

  /** Reads every prompt in `folder` (undefined: none found); what cannot be read becomes silence. */
  static load(folder: string | undefined): Prompts {
    const sounds = new Map<string, Sound>();
    const missing: string[] = [];
    const files = [...Object.keys(PROMPT_TEXTS), ...NUMBER_WORDS.map((word) => `digits/${word}`)];
    for (const name of files) {
      try {
        if (!folder) throw new Error(`${SHIPPED_PROMPTS} is not in the project folder`);
        sounds.set(name, loadSound(join(folder, `${name}.wav`)));
      } catch (error) {
        missing.push(name);
        sounds.set(name, new Sound(`silence for ${name}`, 8000, new Int16Array((8000 * SILENCE_MS) / 1000)));
        // One line for the lot when the folder itself is missing; one per file otherwise.
        if (folder || missing.length === 1) {
          log.warn('a voicemail prompt cannot be read: silence plays in its place', {
            prompt: folder ? name : 'all',
            folder,
            error: error instanceof Error ? error.message : String(error),
          });
        }
      }
    }
    return new Prompts(sounds, missing);
  }

  /** One prompt. */
  get(name: PromptName): Sound {
    return this.sounds.get(name)!;
  }

  /** The tone a caller hears before speaking (vm-intro does not end with one). */
  get tone(): Sound {
    return this.get('beep');
  }

  /** Said to a caller before hanging up when the mailbox holds as many messages as it may. */
  get mailboxFull(): Sound {
    return this.get('vm-mailboxfull');
  }

  /** `n` spoken as a number ("one hundred twenty three"); from 1000 on, digit by digit. */
  number(n: number): Sound[] {
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`${n} is not a count`);
    if (n >= 1000) return this.digits(String(n));
    const words: string[] = [];
    if (n >= 100) {
      words.push(String(Math.floor(n / 100)), 'hundred');
      n %= 100;
      if (n === 0) return words.map((word) => this.word(word));
    }
    if (n < 20) words.push(String(n));
    else {
      words.push(String(n - (n % 10)));
      if (n % 10 !== 0) words.push(String(n % 10));
    }
    return words.map((word) => this.word(word));
  }

  /** Each digit of `text` one by one ("two oh one" as "two zero one"); anything but a digit is passed over. */
  digits(text: string): Sound[] {
    return [...text].filter((char) => char >= '0' && char <= '9').map((digit) => this.word(digit));
  }

  /**
   * The greeting a mailbox without one of its own plays: "The person at extension 2 0 1 is unavailable"
   * (or "is on the phone" when the call found them busy), "Please leave your message after the tone…".
   * The tone itself is `tone`, played after.
   */
  defaultGreeting(extension: string, busy: boolean): Sound[] {
    return [this.get('vm-theperson'), ...this.digits(extension), this.get(busy ? 'vm-isonphone' : 'vm-isunavail'), this.get('vm-intro')];
  }

  /** "You have no messages", "you have one new message", "you have three new messages and one saved message". */
  messageCounts(counts: MailboxCounts): Sound[] {
    const phrase = [this.get('vm-youhave')];
    if (counts.new === 0 && counts.saved === 0) return [...phrase, this.get('vm-no'), this.get('vm-messages')];
    const box = (count: number, name: 'vm-INBOX' | 'vm-saved'): Sound[] => [
      ...(count === 0 ? [this.get('vm-no')] : this.number(count)),
      this.get(name),
      this.get(count === 1 ? 'vm-message' : 'vm-messages'),
    ];
    phrase.push(...box(counts.new, 'vm-INBOX'));
    if (counts.saved > 0) phrase.push(this.get('vm-and'), ...box(counts.saved, 'vm-saved'));
    return phrase;
  }

  /** "Message three": said before each message the menu plays. */
  messageNumber(position: number): Sound[] {
    return [this.get('vm-message'), ...this.number(position)];
  }

  private word(word: string): Sound {
    return this.sounds.get(`digits/${word}`)!;
  }
}

let shipped: Prompts | undefined;

/** The shipped prompts, read the first time they are asked for. */
export function prompts(): Prompts {
  shipped ??= Prompts.load(shippedPromptsFolder());
  return shipped;
}

/** A phrase playing: stop it (a key pressed over a prompt) and nothing more of it plays. */
export interface SequencePlayback {
  readonly ended: boolean;
  stop(): void;
}

/** Joined phrases kept, most recently used last; each holds its samples and, once played, its coded frames. */
const JOINED_KEPT = 48;
const joined = new Map<string, Sound>();
const soundIds = new WeakMap<Sound, number>();
let nextSoundId = 1;

function idOf(sound: Sound): number {
  let id = soundIds.get(sound);
  if (id === undefined) {
    id = nextSoundId++;
    soundIds.set(sound, id);
  }
  return id;
}

/** The parts as one sound: the kept one for the same parts, else joined now (and kept). */
function joinRun(parts: readonly Sound[]): Sound {
  if (parts.length === 1) return parts[0]!;
  const key = parts.map(idOf).join(',');
  const known = joined.get(key);
  if (known) {
    joined.delete(key);
    joined.set(key, known);
    return known;
  }
  const samples = new Int16Array(parts.reduce((sum, part) => sum + part.samples.length, 0));
  let at = 0;
  for (const part of parts) {
    samples.set(part.samples, at);
    at += part.samples.length;
  }
  const sound = new Sound(parts.map((part) => part.name).join(' + '), parts[0]!.rate, samples);
  joined.set(key, sound);
  if (joined.size > JOINED_KEPT) joined.delete(joined.keys().next().value!);
  return sound;
}

/** The sounds in runs that can each be one sound: one rate, and not longer than the player plays. */
export function runsOf(sounds: readonly Sound[]): Sound[] {
  const runs: Sound[] = [];
  let run: Sound[] = [];
  let length = 0;
  for (const sound of sounds) {
    const first = run[0];
    if (first && (first.rate !== sound.rate || length + sound.samples.length > first.rate * MAX_SOUND_SECONDS)) {
      runs.push(joinRun(run));
      run = [];
      length = 0;
    }
    run.push(sound);
    length += sound.samples.length;
  }
  if (run.length > 0) runs.push(joinRun(run));
  return runs;
}

/**
 * Plays `sounds` into `leg` one after another, then tells `onDone` once: `finished` when all played, else why
 * it ended early (stopped, the leg closed, the player closed). An empty phrase is done at once.
 */
export function playSequence(player: MediaPlayer, leg: MediaLeg, sounds: readonly Sound[], onDone: (why: PlaybackEnd) => void): SequencePlayback {
  const runs = runsOf(sounds);
  let current: Playback | undefined;
  let ended = false;
  const finish = (why: PlaybackEnd): void => {
    if (ended) return;
    ended = true;
    current = undefined;
    onDone(why);
  };
  const playFrom = (index: number): void => {
    const sound = runs[index];
    if (!sound) {
      finish('finished');
      return;
    }
    current = player.play(leg, sound, {
      onEnded: (why) => {
        if (ended) return;
        if (why === 'finished') playFrom(index + 1);
        else finish(why);
      },
    });
  };
  playFrom(0);
  return {
    get ended() {
      return ended;
    },
    stop() {
      if (ended) return;
      const playing = current;
      finish('stopped');
      playing?.stop();
    },
  };
}
