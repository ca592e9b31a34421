/**
 * The header parsers' memory of the values they parsed last. A message's Via, From, To and Contact are
 * parsed where the message is checked and again wherever a layer reads them, and the messages of one dialog
 * repeat them: a parse costs microseconds, a lookup a fraction of one. Two generations of `generation`
 * entries each: when the current one fills it becomes the previous one and the oldest is dropped, so memory
 * stays bounded (values over MAX_KEY_LENGTH are never kept) while recent values stay found; and all is
 * dropped FORGET_AFTER_MS after it began, so an idle PBX keeps no message alive through its parts. Answers are
 * frozen, being shared: a caller that wants a changed value changes a copy. A value that fails to parse is
 * not kept, and throws again the next time.
 */
import { deepFreeze } from '../../util/deep-freeze';

const MAX_KEY_LENGTH = 512;
/** Everything is forgotten this long after the first value kept: a busy PBX keeps finding, an idle one holds nothing. */
const FORGET_AFTER_MS = 1_000;

/** What a memoized parser returns: shared, so the compiler refuses a change as the runtime would. */
export type Frozen<T> = { readonly [K in keyof T]: T[K] extends object ? Frozen<T[K]> : T[K] };

export function memoizeParser<T extends object>(parse: (text: string) => T, generation = 256): (text: string) => Frozen<T> {
  let current = new Map<string, T>();
  let previous = new Map<string, T>();
  let clearing = false;
  const clear = () => {
    current = new Map();
    previous = new Map();
    clearing = false;
  };
  return (text) => {
    const hit = current.get(text);
    if (hit !== undefined) return hit;
    const old = previous.get(text);
    const value = old ?? deepFreeze(parse(text));
    if (text.length > MAX_KEY_LENGTH) return value;
    if (current.size >= generation) {
      previous = current;
      current = new Map();
    }
    current.set(text, value);
    if (!clearing) {
      clearing = true;
      setTimeout(clear, FORGET_AFTER_MS).unref();
    }
    return value;
  };
}
