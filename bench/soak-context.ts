/**
 * What every traffic generator of the soak shares: the settings, the counters, the sockets, where the PBX
 * listens, and the run's clock. A run stops for one of two reasons, the time being up or the PBX having
 * exited; every wait in a generator ends early on either, so nothing outlives the run.
 */
import { DEMO_ORGANIZATION } from '../server/store/demo';
import type { SoakCounters } from './soak-counters';
import type { SoakOptions } from './soak-options';
import type { PbxAddress, SocketRegistry } from './soak-wire';

/** The soak's users are added to the demo organization (bench/sip-rates.ts prepareDataDir). */
export const DOMAIN = DEMO_ORGANIZATION.domain;

/** Longer than a dead child's exit takes to reach its parent after its sockets have closed. */
const EXIT_NOTICE_MS = 1_000;

export class SoakContext {
  private stopping = false;
  private gone = false;
  private readonly wakers = new Set<() => void>();
  private markStopped!: () => void;
  readonly startedAt = Date.now();
  /** Resolves when the run stops. */
  readonly stopped = new Promise<void>((resolve) => (this.markStopped = resolve));

  constructor(
    readonly options: SoakOptions,
    readonly counters: SoakCounters,
    readonly registry: SocketRegistry,
    readonly pbx: PbxAddress,
  ) {}

  /** Whether new traffic may start. */
  get running(): boolean {
    return !this.stopping;
  }

  get pbxGone(): boolean {
    return this.gone;
  }

  get elapsedS(): number {
    return (Date.now() - this.startedAt) / 1000;
  }

  /**
   * Whether the PBX has exited, waiting up to `graceMs` to learn it: the kernel closes a dead process's
   * connections before its parent hears of the exit, so a close or a failure is blamed on the PBX's behaviour
   * only once the exit would have been seen.
   */
  async pbxGoneSoon(graceMs = EXIT_NOTICE_MS): Promise<boolean> {
    if (!this.gone) await this.hold(graceMs);
    return this.gone;
  }

  /** No new traffic from now on; what is under way finishes (a call is hung up). */
  stop(): void {
    this.stopping = true;
    this.markStopped();
    this.wake();
  }

  /** The PBX exited: stop at once, waits included. */
  markPbxGone(): void {
    this.gone = true;
    this.stop();
  }

  /** Waits `ms`, or less when the run stops. */
  pause(ms: number): Promise<void> {
    return this.wait(ms, () => this.stopping);
  }

  /** Waits `ms`, or less when the PBX exits (a call under way is held to its end when only the time is up). */
  hold(ms: number): Promise<void> {
    return this.wait(ms, () => this.gone);
  }

  private wait(ms: number, over: () => boolean): Promise<void> {
    if (over()) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakers.delete(check);
        resolve();
      };
      const check = () => {
        if (over()) done();
      };
      const timer = setTimeout(done, ms);
      this.wakers.add(check);
    });
  }

  private wake(): void {
    for (const check of [...this.wakers]) check();
  }
}

/**
 * Calls `send` `perSecond` times a second on average until the run stops, catching up after a late timer
 * but never by more than a second's worth at once.
 */
export async function paced(context: SoakContext, perSecond: number, send: () => void): Promise<void> {
  if (perSecond <= 0) return;
  const tickMs = Math.max(5, Math.min(100, 1000 / perSecond));
  const started = Date.now();
  let done = 0;
  while (context.running) {
    const due = Math.floor(((Date.now() - started) / 1000) * perSecond) - done;
    const now = Math.min(due, Math.ceil(perSecond));
    for (let i = 0; i < now; i++) send();
    done += Math.max(due, 0);
    await context.pause(tickMs);
  }
}

export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
