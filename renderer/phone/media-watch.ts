/**
 * Watches one call's media path and decides when to repair it and when to give up on it. A Wi-Fi hand-over or
 * a short drop takes ICE to `disconnected` (or `failed`); the browser may recover by itself within a second or
 * two, so a restart (a re-INVITE with fresh ICE credentials, RFC 8445 §9) is asked for only once media has been
 * down for ICE_RESTART_AFTER_MS, and again every ICE_RESTART_RETRY_MS while it stays down. A call whose media
 * has been down for MEDIA_GIVE_UP_MS is over: nobody stays on a silent line that long, and the card must go.
 */

export const ICE_RESTART_AFTER_MS = 2_000;
export const ICE_RESTART_RETRY_MS = 5_000;
export const MEDIA_GIVE_UP_MS = 15_000;

export interface MediaWatchActions {
  /** Starts an ICE restart; false when it cannot be started now (no connection to the PBX, a re-offer in flight). */
  restartIce(): boolean;
  /** The media stayed down too long: end the call. */
  giveUp(): void;
}

export interface MediaWatchClock {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realClock: MediaWatchClock = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** When a restart could not start, how soon to try again. */
const RESTART_NOT_READY_RETRY_MS = 1_000;

export class MediaWatch {
  private restartTimer: unknown;
  private giveUpTimer: unknown;
  private disposed = false;

  constructor(
    private readonly actions: MediaWatchActions,
    private readonly clock: MediaWatchClock = realClock,
  ) {}

  get isDown(): boolean {
    return this.giveUpTimer !== undefined;
  }

  /** Every `iceconnectionstatechange` of the call's peer connection. */
  update(state: RTCIceConnectionState): void {
    if (this.disposed) return;
    switch (state) {
      case 'connected':
      case 'completed':
        this.recovered();
        return;
      case 'disconnected':
      case 'failed':
        this.down();
        return;
      case 'closed':
        this.dispose();
        return;
      default:
        // `new` and `checking` come during a restart; the clocks already running keep running.
        return;
    }
  }

  dispose(): void {
    this.disposed = true;
    this.recovered();
  }

  private down(): void {
    if (this.isDown) return;
    this.giveUpTimer = this.clock.setTimeout(() => {
      this.recovered();
      this.disposed = true;
      this.actions.giveUp();
    }, MEDIA_GIVE_UP_MS);
    this.scheduleRestart(ICE_RESTART_AFTER_MS);
  }

  private scheduleRestart(ms: number): void {
    this.clock.clearTimeout(this.restartTimer);
    this.restartTimer = this.clock.setTimeout(() => {
      this.restartTimer = undefined;
      if (!this.isDown) return;
      const started = this.actions.restartIce();
      this.scheduleRestart(started ? ICE_RESTART_RETRY_MS : RESTART_NOT_READY_RETRY_MS);
    }, ms);
  }

  private recovered(): void {
    this.clock.clearTimeout(this.restartTimer);
    this.clock.clearTimeout(this.giveUpTimer);
    this.restartTimer = undefined;
    this.giveUpTimer = undefined;
  }
}
