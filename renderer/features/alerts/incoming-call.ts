/**
 * What happens the moment a call starts ringing here: it is announced, and its Answer button takes the focus when
 * nothing in particular has it.
 */
import type { RemoteParty } from '../../phone/engine';

/** The sentence a screen reader says: "Incoming call from Alice Adams, 101". */
export function incomingAnnouncement(remote: RemoteParty): string {
  const name = remote.name.trim();
  const number = remote.number.trim();
  if (name && number && name !== number) return `Incoming call from ${name}, ${number}`;
  if (name || number) return `Incoming call from ${name || number}`;
  return 'Incoming call from an unknown caller';
}

/** Where the focus rests when the person is on no control: the page, the main region (skip link) or the app's root. */
const RESTING_FOCUS_IDS = new Set(['main-content', 'app']);

/**
 * May a call that starts ringing put the focus on its Answer button? Only when the focus rests on nothing in
 * particular (the page itself, the main region, the app's root) and no other call is under way: a person on Hang up,
 * the in-call dial pad or any other control, or on a call (a second call rings), would otherwise answer the new call
 * with their next Enter or Space. A second ringing card so never takes the focus from the first one either.
 */
export function mayTakeFocusForRinging(focused: Element | null, otherCalls: number): boolean {
  if (otherCalls > 0) return false;
  if (!focused) return true;
  const tag = focused.tagName.toLowerCase();
  if (tag === 'body' || tag === 'html') return true;
  return RESTING_FOCUS_IDS.has(focused.getAttribute('id') ?? '');
}
