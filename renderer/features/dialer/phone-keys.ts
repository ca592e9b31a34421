/**
 * What a key pressed on the Phone view means, wherever focus is: digits build the number (or, with a call's
 * dial pad open, are sent to the call as tones), Enter calls, Escape closes the dial pad. Keys typed into a
 * text field, and keys with a modifier (shortcuts), are left alone; so is Enter on a control, which already
 * means "press this".
 */
import { isDialPadKey } from '../../phone/dial-string';
import type { DialPadKey } from '../../phone/dial-string';

export type PhoneKeyIntent = { kind: 'key'; key: DialPadKey } | { kind: 'call' } | { kind: 'close-keypad' };

export interface KeyPress {
  key: string;
  ctrlKey: boolean;
  metaKey: boolean;
  altKey: boolean;
  /** The focused element's tag name, upper case as the DOM gives it, and whether it is editable. */
  targetTag: string;
  targetEditable: boolean;
}

const TEXT_TAGS = new Set(['INPUT', 'TEXTAREA', 'SELECT']);
const CONTROL_TAGS = new Set(['BUTTON', 'A', 'SUMMARY']);

export function phoneKeyIntent(press: KeyPress): PhoneKeyIntent | undefined {
  if (press.ctrlKey || press.metaKey || press.altKey) return undefined;
  if (press.key === 'Escape') return { kind: 'close-keypad' };
  if (TEXT_TAGS.has(press.targetTag) || press.targetEditable) return undefined;
  if (isDialPadKey(press.key)) return { kind: 'key', key: press.key };
  if (press.key === 'Enter' && !CONTROL_TAGS.has(press.targetTag)) return { kind: 'call' };
  return undefined;
}
