/**
 * Media inactivity: the one sign that a SIP device on plain RTP is gone when it vanished without a BYE (power
 * cut, network dropped, crashed softphone) and runs no session timer. A device in a call sends RTP (or, with
 * voice activity detection, comfort noise) every few tens of milliseconds, and RTCP every few seconds, so a
 * leg that received nothing for `timeoutMs` while the device is meant to be sending has lost its device.
 *
 * Only while the device asked for `sendrecv`: a device that put the call on hold (sendonly, inactive) or
 * only listens (recvonly) may send nothing for as long as it likes. Each change of direction starts the
 * clock again, so a call resumed after a long hold gets the whole timeout before it counts as silent.
 */
import type { MediaLeg } from './media-leg';

export interface MediaTimeoutOptions {
  /** How long a device may send nothing while it should be sending; 0 turns the watch off. */
  timeoutMs: number;
  /** The clock; `Date.now` unless a test hands in its own. */
  now?: () => number;
}

/** How often a watch looks at its leg: often enough to fire within a fifth of the timeout, at most every 5 s. */
export function checkIntervalMs(timeoutMs: number): number {
  return Math.max(50, Math.min(5_000, Math.floor(timeoutMs / 5)));
}

/**
 * A watch over one leg. `check()` reads the leg's received-packet count and calls `onSilent` once the count
 * has not moved for the timeout while the remote side should be sending; after firing, the clock starts
 * again, so `onSilent` comes at most once per timeout. `start()` runs `check()` on an unreferenced timer.
 */
export class MediaTimeout {
  private lastCount: number;
  private lastActivity: number;
  private lastDirection: MediaLeg['remoteDirection'];
  private timer: NodeJS.Timeout | undefined;
  private readonly now: () => number;

  constructor(
    private readonly leg: Pick<MediaLeg, 'packetsReceived' | 'remoteDirection' | 'state'>,
    private readonly options: MediaTimeoutOptions,
    private readonly onSilent: (silentMs: number) => void,
  ) {
    this.now = options.now ?? Date.now;
    this.lastCount = leg.packetsReceived;
    this.lastActivity = this.now();
    this.lastDirection = leg.remoteDirection;
  }

  start(): () => void {
    if (this.options.timeoutMs <= 0 || this.timer) return () => this.stop();
    this.timer = setInterval(() => this.check(), checkIntervalMs(this.options.timeoutMs));
    this.timer.unref();
    return () => this.stop();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  check(): void {
    const now = this.now();
    const count = this.leg.packetsReceived;
    const direction = this.leg.remoteDirection;
    if (count !== this.lastCount || direction !== this.lastDirection || direction !== 'sendrecv' || this.leg.state !== 'connected') {
      this.lastCount = count;
      this.lastDirection = direction;
      this.lastActivity = now;
      return;
    }
    const silentMs = now - this.lastActivity;
    if (this.options.timeoutMs > 0 && silentMs >= this.options.timeoutMs) {
      this.lastActivity = now;
      this.onSilent(silentMs);
    }
  }
}
