/**
 * Sounds the app makes itself with WebAudio (no audio files ship with Offhook): the ringtones, the test tone,
 * and the microphone level. Each sound plays on a chosen output device: WebAudio renders into a MediaStream,
 * which an <audio> element routes with HTMLMediaElement.setSinkId, so the ringer can be a different device
 * from the speaker that carries the call.
 */
import type { Ringtone } from '../../shared/bridge';
import { createLogger } from '../log';

const log = createLogger('tones');

/** One burst of a ringtone: tone frequencies (played together) for a time, then a pause. */
interface Burst {
  hz: readonly number[];
  onMs: number;
  offMs: number;
}

/**
 * The cadences, written as data. `classic` uses the tone pair and rhythm of the North American ringback
 * (ANSI T1.401: 440 + 480 Hz, 2 s on, 4 s off), shortened so it is heard sooner; the others are gentler.
 */
export const RINGTONE_PATTERNS: Record<Ringtone, readonly Burst[]> = {
  classic: [{ hz: [440, 480], onMs: 1_600, offMs: 2_400 }],
  chirp: [
    { hz: [1_200], onMs: 120, offMs: 80 },
    { hz: [1_500], onMs: 120, offMs: 80 },
    { hz: [1_200], onMs: 120, offMs: 1_800 },
  ],
  soft: [
    { hz: [660], onMs: 400, offMs: 100 },
    { hz: [550], onMs: 600, offMs: 2_300 },
  ],
};

export const RINGTONE_LABELS: Record<Ringtone, string> = { classic: 'Classic', chirp: 'Chirp', soft: 'Soft' };

export function ringtoneLength(ringtone: Ringtone): number {
  return RINGTONE_PATTERNS[ringtone].reduce((total, burst) => total + burst.onMs + burst.offMs, 0);
}

/** A sound playing on a device; stop() ends it and releases the audio resources, and may be called twice. */
export interface PlayingSound {
  stop(): void;
}

export interface RingOptions {
  ringtone: Ringtone;
  /** 0 to 1. */
  volume: number;
  /** An audio output's deviceId; undefined plays on the system default. */
  deviceId?: string;
}

/** What the phone store uses to ring; tests give their own. */
export interface Ringer {
  start(options: RingOptions): void;
  stop(): void;
  readonly ringing: boolean;
}

/** An AudioContext whose output goes to `deviceId` through an <audio> element. */
function deviceOutput(deviceId: string | undefined): { context: AudioContext; input: AudioNode; close(): void } {
  const context = new AudioContext();
  const destination = context.createMediaStreamDestination();
  const element = new Audio();
  element.srcObject = destination.stream;
  const route = deviceId && typeof element.setSinkId === 'function' ? element.setSinkId(deviceId) : Promise.resolve();
  route
    .catch((error: unknown) => log.warn('could not route the sound to the chosen device; it plays on the default', { error: String(error) }))
    .then(() => element.play())
    .catch((error: unknown) => log.warn('the sound did not start', { error: String(error) }));
  void context.resume();
  return {
    context,
    input: destination,
    close() {
      element.pause();
      element.srcObject = null;
      void context.close();
    },
  };
}

/** Schedules `pattern` from `start` until `until`, on oscillators feeding `gain`. */
function schedule(context: AudioContext, gain: GainNode, pattern: readonly Burst[], start: number, until: number): void {
  let at = start;
  while (at < until) {
    for (const burst of pattern) {
      for (const hz of burst.hz) {
        const oscillator = context.createOscillator();
        oscillator.frequency.value = hz;
        oscillator.connect(gain);
        oscillator.start(at);
        oscillator.stop(at + burst.onMs / 1000);
      }
      at += (burst.onMs + burst.offMs) / 1000;
    }
  }
}

/** Plays a ringtone once through (or for `seconds`), e.g. to preview it in Settings. */
export function playRingtone(options: RingOptions, seconds = ringtoneLength(options.ringtone) / 1000): PlayingSound {
  const output = deviceOutput(options.deviceId);
  const gain = output.context.createGain();
  // Two summed tones would clip at full volume; each is scaled so the sum stays below 1.
  gain.gain.value = options.volume * 0.4;
  gain.connect(output.input);
  const now = output.context.currentTime;
  schedule(output.context, gain, RINGTONE_PATTERNS[options.ringtone], now, now + seconds);
  const timer = setTimeout(() => sound.stop(), seconds * 1000 + 200);
  let stopped = false;
  const sound: PlayingSound = {
    stop() {
      if (stopped) return;
      stopped = true;
      clearTimeout(timer);
      output.close();
    },
  };
  return sound;
}

/** A 1 kHz tone for two seconds: what the Play test tone buttons play. */
export function playTestTone(deviceId: string | undefined, volume = 0.5): PlayingSound {
  const output = deviceOutput(deviceId);
  const gain = output.context.createGain();
  gain.gain.value = volume * 0.5;
  gain.connect(output.input);
  const oscillator = output.context.createOscillator();
  oscillator.frequency.value = 1_000;
  oscillator.connect(gain);
  oscillator.start();
  oscillator.stop(output.context.currentTime + 2);
  let stopped = false;
  const timer = setTimeout(() => sound.stop(), 2_200);
  const sound: PlayingSound = {
    stop() {
      if (stopped) return;
      stopped = true;
      clearTimeout(timer);
      output.close();
    },
  };
  return sound;
}

/** Rings in a loop until stopped, by scheduling ahead one cadence at a time. */
export function createWebAudioRinger(): Ringer {
  let sound: PlayingSound | undefined;
  let loop: ReturnType<typeof setInterval> | undefined;
  return {
    get ringing() {
      return sound !== undefined;
    },
    start(options) {
      if (sound) return;
      log.debug('ring', { ringtone: options.ringtone, device: options.deviceId ?? 'default' });
      // A long scheduled run, renewed before it ends: one AudioContext for the whole ring.
      const runSeconds = 60;
      const begin = () => playRingtone(options, runSeconds);
      sound = begin();
      loop = setInterval(() => {
        sound?.stop();
        sound = begin();
      }, runSeconds * 1000);
    },
    stop() {
      if (!sound) return;
      log.debug('ring stopped');
      clearInterval(loop);
      loop = undefined;
      sound.stop();
      sound = undefined;
    },
  };
}

/**
 * Measures the level of a microphone, 0 (silence) to 1 (full scale), and reports it about 20 times a second
 * until stopped.
 */
export async function watchMicrophoneLevel(deviceId: string | undefined, report: (level: number) => void): Promise<PlayingSound> {
  const stream = await navigator.mediaDevices.getUserMedia({
    audio: deviceId ? { deviceId: { exact: deviceId } } : true,
    video: false,
  });
  const context = new AudioContext();
  const analyser = context.createAnalyser();
  analyser.fftSize = 1024;
  context.createMediaStreamSource(stream).connect(analyser);
  const samples = new Float32Array(analyser.fftSize);
  const timer = setInterval(() => {
    analyser.getFloatTimeDomainData(samples);
    let sum = 0;
    for (const sample of samples) sum += sample * sample;
    // RMS, on a scale where a full-scale sine reads about 1: speech peaks show well without saturating.
    report(Math.min(1, Math.sqrt(sum / samples.length) * Math.SQRT2));
  }, 50);
  let stopped = false;
  return {
    stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      for (const track of stream.getTracks()) track.stop();
      void context.close();
    },
  };
}
