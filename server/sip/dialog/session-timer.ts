/**
 * Session timers (RFC 4028): negotiation of Session-Expires and Min-SE on the INVITE, re-INVITE and UPDATE
 * the PBX answers, and the timer that either refreshes the session (when we are the refresher) or ends it
 * when no refresh arrives in time. Where the PBX was the UAC, the call engine takes the timer a device's
 * 2xx grants (RFC 4028 §7.2).
 */
import type { SipRequest } from '../syntax/message';

export type Refresher = 'uac' | 'uas';

/** RFC 4028 §4: Min-SE is never below 90 seconds on the wire. */
export const RFC_MIN_SE_S = 90;

export interface SessionTimerSettings {
  /** The smallest session interval we accept (our Min-SE). Tests lower it to keep runs short. */
  minSeconds: number;
}

export type SessionTimerNegotiation =
  /** The request asks for no session timer. */
  | { kind: 'none' }
  /** RFC 4028 §9: too small an interval from a UAC that supports timers is refused with 422 and our Min-SE. */
  | { kind: 'reject'; minSe: number }
  | { kind: 'use'; seconds: number; refresher: Refresher; uacSupportsTimer: boolean };

/** Parses `Session-Expires: 1800;refresher=uac`; undefined when absent or not a number. */
export function parseSessionExpires(value: string | undefined): { seconds: number; refresher?: Refresher } | undefined {
  if (value === undefined) return undefined;
  const [delta = '', ...params] = value.split(';').map((part) => part.trim());
  if (!/^[0-9]{1,10}$/.test(delta)) return undefined;
  const refresherParam = params.map((p) => p.split('=')).find(([name]) => name?.toLowerCase() === 'refresher')?.[1]?.toLowerCase();
  const refresher = refresherParam === 'uac' || refresherParam === 'uas' ? refresherParam : undefined;
  return { seconds: Number(delta), ...(refresher ? { refresher } : {}) };
}

function supportsTimer(request: SipRequest): boolean {
  return request.headers.getAll('Supported').some((tag) => tag.trim().toLowerCase() === 'timer');
}

/** RFC 4028 §9: what the UAS does with a request's Session-Expires and Min-SE. */
export function negotiateSessionTimer(request: SipRequest, settings: SessionTimerSettings): SessionTimerNegotiation {
  const requested = parseSessionExpires(request.headers.get('Session-Expires'));
  if (!requested) return { kind: 'none' };
  const uacSupportsTimer = supportsTimer(request);
  const minSe = Math.max(settings.minSeconds, Number.parseInt(request.headers.get('Min-SE') ?? '0', 10) || 0);
  let seconds = requested.seconds;
  if (seconds < settings.minSeconds) {
    if (uacSupportsTimer) return { kind: 'reject', minSe: settings.minSeconds };
    // A UAC without timer support could not retry after a 422, so the interval is raised instead.
    seconds = minSe;
  }
  // §9: with no refresher chosen, a UAC that supports timers refreshes; otherwise we must.
  const refresher = requested.refresher ?? (uacSupportsTimer ? 'uac' : 'uas');
  return { kind: 'use', seconds: Math.max(seconds, minSe), refresher: uacSupportsTimer ? refresher : 'uas', uacSupportsTimer };
}

/** Headers for our 2xx to a request that negotiated a session timer (RFC 4028 §9). */
export function sessionTimerResponseHeaders(negotiation: SessionTimerNegotiation): Array<[string, string]> {
  if (negotiation.kind !== 'use') return [];
  const headers: Array<[string, string]> = [['Session-Expires', `${negotiation.seconds};refresher=${negotiation.refresher}`]];
  if (negotiation.uacSupportsTimer) headers.push(['Require', 'timer']);
  return headers;
}

/**
 * The running timer of one dialog. The refresher refreshes at half the interval (RFC 4028 §10); the other
 * side ends the session if nothing arrives by the interval minus a third or 32 seconds, whichever is less.
 */
export class SessionTimer {
  private refreshTimer: NodeJS.Timeout | undefined;
  private expiryTimer: NodeJS.Timeout | undefined;
  seconds = 0;
  weRefresh = false;

  constructor(
    private readonly onRefreshDue: () => void,
    private readonly onExpired: () => void,
  ) {}

  get running(): boolean {
    return this.expiryTimer !== undefined;
  }

  start(seconds: number, weRefresh: boolean): void {
    this.stop();
    this.seconds = seconds;
    this.weRefresh = weRefresh;
    const ms = seconds * 1000;
    if (weRefresh) {
      this.refreshTimer = setTimeout(() => this.onRefreshDue(), ms / 2);
      this.expiryTimer = setTimeout(() => this.onExpired(), ms);
    } else {
      this.expiryTimer = setTimeout(() => this.onExpired(), ms - Math.min(32_000, ms / 3));
    }
  }

  /** A refresh succeeded: the same interval starts over. */
  restart(): void {
    if (this.running) this.start(this.seconds, this.weRefresh);
  }

  /** Tries a failed refresh again after `ms` (RFC 3261 §14.1 after a 491), keeping the expiry where it is. */
  retryRefresh(ms: number): void {
    if (!this.running) return;
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(() => this.onRefreshDue(), ms);
  }

  stop(): void {
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    this.refreshTimer = undefined;
    this.expiryTimer = undefined;
  }
}
