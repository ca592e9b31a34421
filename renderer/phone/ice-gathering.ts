/**
 * How long a call waits for its own addresses. JsSIP sends the INVITE (or the 200 to one) only once ICE
 * gathering completes, which can take seconds when an interface is slow to give up (a VPN, a dead Wi-Fi);
 * every address after the first usable one is wasted time here. Media is anchored at the PBX, an ICE-lite
 * agent that answers our checks from any of our addresses (RFC 8445 §7.3.1.3: unknown sources become
 * peer-reflexive), so the first host candidate is enough to start the call, and waiting is capped at
 * GATHERING_DEADLINE_MS even when no host candidate comes.
 */

export const GATHERING_DEADLINE_MS = 300;

/** What JsSIP's `icecandidate` event on a session carries: the candidate, and the function that stops waiting. */
export interface GatheredCandidate {
  candidate: { type?: string | null; candidate: string };
  ready: () => void;
}

export interface GatheringClock {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realClock: GatheringClock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** `host`, `srflx`, `prflx` or `relay`, from the candidate or, where the browser leaves `type` out, its SDP line. */
export function candidateType(candidate: GatheredCandidate['candidate']): string | undefined {
  return candidate.type ?? /\styp\s+(\S+)/.exec(candidate.candidate)?.[1];
}

/**
 * The gathering cap for one session. Each offer or answer JsSIP prepares (the call itself, then any ICE
 * restart) is a round with its own `ready`; a round ends at its first host candidate or at the deadline,
 * counted from when gathering began (`began`) or, failing that, from its first candidate.
 */
export class GatheringCap {
  private round: (() => void) | undefined;
  private startedAt: number | undefined;
  private deadline: unknown;
  private done = false;

  constructor(
    private readonly deadlineMs = GATHERING_DEADLINE_MS,
    private readonly clock: GatheringClock = realClock,
  ) {}

  /** The peer connection started gathering (its icegatheringstatechange to `gathering`). */
  began(): void {
    this.startedAt = this.clock.now();
  }

  candidate({ candidate, ready }: GatheredCandidate): void {
    if (ready !== this.round) this.startRound(ready);
    if (this.done) return;
    if (candidateType(candidate) === 'host') this.finish();
  }

  dispose(): void {
    this.clock.clearTimeout(this.deadline);
    this.deadline = undefined;
    this.round = undefined;
  }

  private startRound(ready: () => void): void {
    this.clock.clearTimeout(this.deadline);
    this.round = ready;
    this.done = false;
    const elapsed = this.startedAt === undefined ? 0 : this.clock.now() - this.startedAt;
    this.startedAt = undefined;
    const left = this.deadlineMs - elapsed;
    if (left <= 0) {
      this.finish();
      return;
    }
    this.deadline = this.clock.setTimeout(() => this.finish(), left);
  }

  private finish(): void {
    this.clock.clearTimeout(this.deadline);
    this.deadline = undefined;
    if (this.done) return;
    this.done = true;
    this.round?.();
  }
}
