/**
 * Warms the browser's audio stack while the phone is idle, so that the first call of a session is placed and
 * rings as fast as the ones after it.
 *
 * Measured in Chromium (bench/web-phone.ts): the first AudioContext or getUserMedia of a page costs 40-60 ms
 * more than any later one, because the page first connects to the browser's audio service and reads the
 * hardware's parameters (synchronously, for an AudioContext); the two share that setup. Both sat on the first
 * call's critical path: the caller's getUserMedia before the INVITE, and the callee's ringtone, whose
 * AudioContext is made while JsSIP handles the INVITE, before the 180 goes out and the card shows.
 *
 * One AudioContext, made and closed at once when the phone has first registered, pays that setup beforehand
 * for both directions. The microphone is not opened for this: that would light the recording indicator (or
 * ask for permission) at sign-in with no call in sight, and the AudioContext warms capture as well
 * (getUserMedia after it took 8 ms instead of 43, measured the same way). What stays per call is opening the
 * device itself, which only a microphone held open would avoid.
 */
import { createLogger, describeError } from '../log';

const log = createLogger('phone.warmup');

/** What the warm-up touches, handed in so that tests can give their own. */
export interface AudioWarmupPorts {
  /** A new audio context, or undefined where the page has none (tests under Node, a browser without WebAudio). */
  createContext(): { close(): Promise<void> } | undefined;
  /** Runs `task` once the page has nothing more urgent to do. */
  whenIdle(task: () => void): void;
}

const browserPorts: AudioWarmupPorts = {
  createContext: () => (typeof AudioContext === 'undefined' ? undefined : new AudioContext()),
  whenIdle: (task) => {
    // An upper bound, so that a page that is never idle (a busy tab) still warms before the person dials.
    if (typeof requestIdleCallback === 'function') requestIdleCallback(() => task(), { timeout: 1_000 });
    else setTimeout(task, 0);
  },
};

export class AudioWarmup {
  private asked = false;

  constructor(private readonly ports: AudioWarmupPorts = browserPorts) {}

  /** The phone can take and place calls: warm the audio stack, once. */
  phoneReady(): void {
    if (this.asked) return;
    this.asked = true;
    this.ports.whenIdle(() => this.warm());
  }

  private warm(): void {
    try {
      const context = this.ports.createContext();
      if (!context) return;
      context.close().catch((error: unknown) => log.debug('could not close the warm-up audio context', { error: describeError(error) }));
      log.debug('audio warmed');
    } catch (error) {
      // No audio device, or the browser refused: the first call pays the setup itself, as it did before.
      log.debug('could not warm the audio stack', { error: describeError(error) });
    }
  }
}
