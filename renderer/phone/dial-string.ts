/**
 * What a person may type or paste into the number field, and what we send to the PBX. Formatting characters
 * that people copy along with a number ("(555) 010-0199") are dropped; anything else is refused rather than
 * guessed at.
 */

/** Keys of the dial pad, in the order they are laid out. */
export const DIAL_PAD_KEYS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '0', '#'] as const;
export type DialPadKey = (typeof DIAL_PAD_KEYS)[number];

const FORMATTING = /[\s().\-/]/g;
/** An optional leading + (E.164), then the digits, * and # that feature codes use. */
const DIALABLE = /^\+?[0-9*#]{1,32}$/;

export function isDialPadKey(key: string): key is DialPadKey {
  return (DIAL_PAD_KEYS as readonly string[]).includes(key);
}

export type DialStringResult = { ok: true; target: string } | { ok: false; message: string };

export function parseDialString(input: string): DialStringResult {
  const target = input.replace(FORMATTING, '');
  if (target === '') return { ok: false, message: 'Enter a number to call.' };
  if (!DIALABLE.test(target)) {
    return { ok: false, message: 'A number can hold only digits, *, # and a leading +.' };
  }
  return { ok: true, target };
}
