/**
 * Call screening, the `screen` service of the calls layer (calls/ports.ts CallServices): a caller to a user whose
 * rule asks callers their name hears "At the tone, please say your name.", the tone, and is recorded until they
 * stop speaking (a second of silence after their voice), press #, or four seconds pass. What they said, trimmed to
 * their voice, is kept in memory for this call only, never stored. While the user's phones ring, the caller hears "Thank you. Please
 * hold…" and ringback.
 *
 * The user who answers hears "I have a caller waiting, who introduces themselves as:", the name (or, when the
 * caller said nothing, the number they call from, digit by digit), and "press 1 to accept this call, or 2 to
 * reject it", twice at most. 1 takes the call; 2, no key, or hanging up sends it where the rule sends a call not
 * answered (calls/screening.ts). A key pressed over the prompts counts at once.
 */
import type { ScreenedCaller, ServiceCall } from '../../calls';
import type { Clock } from '../../media/joins/mix-clock';
import { systemClock } from '../../media/joins/mix-clock';
import type { MediaLeg } from '../../media/legs/media-leg';
import { Sound } from '../../media/player';
import type { MediaPlayer, Playback, PlaybackEnd } from '../../media/player';
import { MessageRecorder, playSequence, prompts, recordTone, VoiceMeter } from '../voicemail';
import type { SequencePlayback } from '../voicemail';
import { ringbackTone } from './ringback';

export interface ScreeningTiming {
  /** The longest name recorded. */
  nameMaxMs: number;
  /** Silence after the caller's voice that ends their name. */
  endSilenceMs: number;
  /** How long the user who answered has to press a key once the options are said, each round. */
  choiceWaitMs: number;
  /** How many times the user who answered hears who calls and the options before the call is sent on. */
  rounds: number;
}

export const DEFAULT_SCREENING_TIMING: ScreeningTiming = { nameMaxMs: 4_000, endSilenceMs: 1_000, choiceWaitMs: 6_000, rounds: 2 };

/** Less voice than this in what the caller said counts as no name: their number is said instead. */
const MIN_NAME_VOICE_MS = 200;
/** Kept around the caller's voice. */
const NAME_MARGIN_MS = 200;
/** How often the end of the name is looked for. */
const SILENCE_CHECK_MS = 100;

export interface CallScreenerOptions {
  player: MediaPlayer;
  timing?: Partial<ScreeningTiming>;
  clock?: Pick<Clock, 'setTimeout' | 'clearTimeout'>;
}

export class CallScreener {
  private readonly timing: ScreeningTiming;
  private readonly clock: Pick<Clock, 'setTimeout' | 'clearTimeout'>;

  constructor(private readonly options: CallScreenerOptions) {
    this.timing = { ...DEFAULT_SCREENING_TIMING, ...options.timing };
    this.clock = options.clock ?? systemClock;
  }

  /** Asks the caller their name and records it; undefined when the call ends meanwhile. */
  async screen(call: ServiceCall): Promise<ScreenedCaller | undefined> {
    const asked = await this.play(call, [prompts().get('priv-recordintro'), recordTone()]);
    if (asked !== 'finished' || call.ended) return undefined;
    const name = await this.recordName(call);
    if (call.ended) return undefined;
    const spoken = name ? [name] : prompts().digits(call.caller.number ?? '');
    return new Screened(this.options.player, this.clock, this.timing, call, spoken);
  }

  private play(call: ServiceCall, sounds: Sound[]): Promise<PlaybackEnd> {
    return new Promise((resolve) => {
      const offEnded = call.onEnded(() => phrase.stop());
      const phrase = playSequence(this.options.player, call.leg, sounds, (why) => {
        offEnded();
        resolve(why);
      });
    });
  }

  /**
   * What the caller says, from their voice's start to its end; undefined when they said nothing (or hung up).
   * The end is a second of silence after their voice, counted on the clock: a phone that sends nothing while its
   * user is silent (silence suppression, Opus DTX) writes no samples to count.
   */
  private recordName(call: ServiceCall): Promise<Sound | undefined> {
    return new Promise((resolve) => {
      const chunks: Int16Array[] = [];
      let rate = 8000;
      let meter = new VoiceMeter(rate);
      let length = 0;
      /** Samples up to the first and the last voiced window; when the clock last saw voice. */
      let voicedFrom = -1;
      let voicedUntil = 0;
      let lastVoiceAt = 0;
      let elapsed = 0;
      const recorder = new MessageRecorder(call.leg, {
        maxMs: this.timing.nameMaxMs,
        clock: this.clock,
        open: (recordingRate) => {
          rate = recordingRate;
          meter = new VoiceMeter(rate);
          return {
            write: (samples) => {
              chunks.push(Int16Array.from(samples));
              const before = meter.voicedMs;
              meter.add(samples);
              length += samples.length;
              if (meter.voicedMs > before) {
                if (voicedFrom < 0) voicedFrom = length - samples.length;
                voicedUntil = length;
                lastVoiceAt = elapsed;
              }
            },
          };
        },
      });
      const watch = (): void => {
        if (recorder.done) return;
        elapsed += SILENCE_CHECK_MS;
        if (meter.voicedMs >= MIN_NAME_VOICE_MS && elapsed - lastVoiceAt >= this.timing.endSilenceMs) recorder.stop();
        else timer = this.clock.setTimeout(watch, SILENCE_CHECK_MS);
      };
      let timer = this.clock.setTimeout(watch, SILENCE_CHECK_MS);
      const offEnded = call.onEnded(() => recorder.stop());
      recorder.onEnded(() => {
        offEnded();
        this.clock.clearTimeout(timer);
        if (call.ended || meter.voicedMs < MIN_NAME_VOICE_MS) {
          resolve(undefined);
          return;
        }
        resolve(new Sound(`the name of caller ${call.caller.displayName}`, rate as 8000 | 16000, trimmed(chunks, Math.max(0, voicedFrom - margin(rate)), Math.min(length, voicedUntil + margin(rate)))));
      });
    });
  }
}

/** Kept before the caller's first voiced moment and after their last, so the name is not clipped. */
function margin(rate: number): number {
  return (rate * NAME_MARGIN_MS) / 1000;
}

/** Samples `from` to `to` of the chunks, as one array. */
function trimmed(chunks: readonly Int16Array[], from: number, to: number): Int16Array {
  const out = new Int16Array(Math.max(0, to - from));
  let at = 0;
  for (const chunk of chunks) {
    const start = Math.max(from - at, 0);
    const end = Math.min(to - at, chunk.length);
    if (end > start) out.set(chunk.subarray(start, end), at + start - from);
    at += chunk.length;
    if (at >= to) break;
  }
  return out;
}

/** A caller who has said their name (ScreenedCaller). */
class Screened implements ScreenedCaller {
  constructor(
    private readonly player: MediaPlayer,
    private readonly clock: Pick<Clock, 'setTimeout' | 'clearTimeout'>,
    private readonly timing: ScreeningTiming,
    private readonly call: ServiceCall,
    /** The caller's name as they said it, or their number said digit by digit. */
    private readonly name: Sound[],
  ) {}

  ringback(options: { thanks?: boolean } = {}): () => void {
    let stopped = false;
    let tone: Playback | undefined;
    const ring = (): void => {
      if (!stopped) tone = this.player.play(this.call.leg, ringbackTone(), { loop: true });
    };
    const thanks = options.thanks === false ? undefined : playSequence(this.player, this.call.leg, [prompts().get('priv-introsaved')], (why) => why === 'finished' && ring());
    if (!thanks) ring();
    return () => {
      stopped = true;
      thanks?.stop();
      tone?.stop();
    };
  }

  offerTo(leg: MediaLeg): Promise<'accept' | 'decline'> {
    const said = prompts();
    // Three phrases, never joined into one: a phrase of prompts is kept for the next caller (prompts.ts), and the
    // caller's name is theirs and this call's only.
    const introduction = [[said.get('priv-callpending')], this.name, [said.get('followme/options')]];
    return new Promise((resolve) => {
      let phrase: SequencePlayback | undefined;
      let timer: unknown;
      let done = false;
      const finish = (choice: 'accept' | 'decline'): void => {
        if (done) return;
        done = true;
        phrase?.stop();
        this.clock.clearTimeout(timer);
        offKey();
        offState();
        resolve(choice);
      };
      const offKey = leg.on('dtmf', (event) => {
        if (event.digit === '1') finish('accept');
        else if (event.digit === '2') finish('decline');
      });
      const offState = leg.on('stateChanged', (state) => {
        if (state === 'closed') finish('decline');
      });
      const say = (round: number, part: number): void => {
        const sounds = introduction[part];
        if (!sounds) {
          timer = this.clock.setTimeout(() => (round < this.timing.rounds ? say(round + 1, 0) : finish('decline')), this.timing.choiceWaitMs);
          return;
        }
        phrase = playSequence(this.player, leg, sounds, (why) => {
          if (done) return;
          if (why === 'finished') say(round, part + 1);
          else if (why !== 'stopped') finish('decline');
        });
      };
      if (leg.state === 'closed') finish('decline');
      else say(1, 0);
    });
  }
}
