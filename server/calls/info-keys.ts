/**
 * Key presses sent in SIP INFO (RFC 6086, the de facto application/dtmf-relay body "Signal=5\r\nDuration=160",
 * or application/dtmf with the key alone) to a call the PBX answered for a service: given to the service as the
 * caller's leg's own `dtmf` events, so a menu hears a phone that sends keys by INFO as one that sends RFC 4733.
 */
import type { DtmfEvent, MediaLeg, MediaLegEvents } from '../media/legs/media-leg';

const KEYS = /^[0-9*#A-D]$/;
/** What a key press lasts when the INFO does not say (ms). */
const DEFAULT_DURATION_MS = 100;

/** The key an INFO carries, if it carries one. */
export function keyFromInfo(contentType: string | undefined, body: string): DtmfEvent | undefined {
  const type = contentType?.split(';')[0]?.trim().toLowerCase();
  if (type === 'application/dtmf') {
    const digit = body.trim().toUpperCase();
    return KEYS.test(digit) ? { digit, durationMs: DEFAULT_DURATION_MS } : undefined;
  }
  if (type !== 'application/dtmf-relay') return undefined;
  const fields = new Map<string, string>();
  for (const line of body.split(/\r?\n/)) {
    const at = line.indexOf('=');
    if (at > 0) fields.set(line.slice(0, at).trim().toLowerCase(), line.slice(at + 1).trim());
  }
  const digit = (fields.get('signal') ?? '').toUpperCase();
  if (!KEYS.test(digit)) return undefined;
  const duration = Number(fields.get('duration'));
  return { digit, durationMs: Number.isInteger(duration) && duration > 0 && duration <= 10_000 ? duration : DEFAULT_DURATION_MS };
}

/**
 * The leg as a service sees it: the leg itself in every respect, but its `dtmf` listeners also hear the keys that
 * `keys` reports (the call's INFO key presses).
 */
export function legWithInfoKeys(leg: MediaLeg, keys: Set<(event: DtmfEvent) => void>): MediaLeg {
  const on = <K extends keyof MediaLegEvents>(event: K, listener: (...args: MediaLegEvents[K]) => void): (() => void) => {
    const off = leg.on(event, listener);
    if (event !== 'dtmf') return off;
    const relay = (key: DtmfEvent) => (listener as (key: DtmfEvent) => void)(key);
    keys.add(relay);
    return () => {
      off();
      keys.delete(relay);
    };
  };
  return new Proxy(leg, {
    get(target, property) {
      if (property === 'on') return on;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}
