/** What happens the moment a call starts ringing here: it is announced, and its Answer button takes the focus. */
import type { RemoteParty } from '../../phone/engine';

/** The sentence a screen reader says: "Incoming call from Alice Adams, 101". */
export function incomingAnnouncement(remote: RemoteParty): string {
  const name = remote.name.trim();
  const number = remote.number.trim();
  if (name && number && name !== number) return `Incoming call from ${name}, ${number}`;
  if (name || number) return `Incoming call from ${name || number}`;
  return 'Incoming call from an unknown caller';
}

const TEXT_INPUT_TYPES = new Set(['text', 'search', 'tel', 'url', 'email', 'password', 'number', 'date', 'datetime-local', 'month', 'time', 'week']);

/**
 * The focus is where the person is typing: a text field, a text area, a list box being typed in, or editable text.
 * A ringing call must not take the focus from there, or the next keys would land on Answer.
 */
export function isTypingIn(element: Element | null): boolean {
  if (!element) return false;
  const tag = element.tagName.toLowerCase();
  if (tag === 'textarea') return true;
  if (tag === 'input') return TEXT_INPUT_TYPES.has((element.getAttribute('type') ?? 'text').toLowerCase());
  if (tag === 'select') return true;
  return element.getAttribute('contenteditable') === 'true' || element.getAttribute('contenteditable') === '';
}
