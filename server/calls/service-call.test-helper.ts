/**
 * A call the PBX answered, as a service sees it (ports.ts ServiceCall), for the tests of the services: the
 * caller's leg is a fake whose far end sends audio and presses keys.
 */
import { FakeLeg } from '../media/joins/mixer.test-helper';
import type { ServiceCall, ServiceCaller } from './ports';

/** A leg whose far end presses keys. */
export class KeyLeg extends FakeLeg {
  press(...digits: string[]): void {
    for (const digit of digits) this.emit('dtmf', { digit, durationMs: 100 });
  }
}

/** The caller's side of a call the PBX answered. */
export class FakeServiceCall implements ServiceCall {
  ended = false;
  readonly hungUp: string[] = [];
  private readonly listeners = new Set<(why: string) => void>();

  constructor(
    readonly leg: KeyLeg,
    readonly caller: ServiceCaller,
    readonly id = 'service-call',
  ) {}

  hangUp(why: string): void {
    if (this.ended) return;
    this.hungUp.push(why);
    this.finish(why);
  }

  onEnded(listener: (why: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Either side ended it (the caller hanging up, or `hangUp`). */
  finish(why: string): void {
    if (this.ended) return;
    this.ended = true;
    this.leg.close();
    for (const listener of [...this.listeners]) listener(why);
  }
}
