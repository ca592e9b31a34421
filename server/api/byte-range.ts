/** The byte ranges the API serves of a file (voicemail and greeting audio), so a player can seek. */
import { HttpError } from './errors';

/** A satisfiable byte range of a file: first and last byte, inclusive. */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * The one range a `Range` header asks of a file of `size` bytes (RFC 9110 §14.1.2): `bytes=a-b`, `bytes=a-` or
 * `bytes=-n`. Undefined when there is no header or it is not one we serve (another unit, several ranges: the
 * whole file is answered, as §14.2 allows); 'unsatisfiable' when it lies wholly past the end.
 */
export function requestedRange(header: string | undefined, size: number): ByteRange | 'unsatisfiable' | undefined {
  if (!header) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match) return undefined;
  const [, first = '', last = ''] = match;
  if (first === '' && last === '') return undefined;
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  if (last !== '' && Number(last) < start) return undefined;
  if (start >= size) return 'unsatisfiable';
  return { start, end };
}

/**
 * The range a route serves of `what` (a file of `size` bytes, named as people say it: "recording", "greeting"):
 * the whole file when undefined. A range wholly past the end is refused: 416 with a Content-Range giving the size
 * (RFC 9110 §15.5.17), and a sentence, as every API error has.
 */
export function servedRange(header: string | undefined, size: number, what: string): ByteRange | undefined {
  const range = requestedRange(header, size);
  if (range !== 'unsatisfiable') return range;
  throw new HttpError(416, 'range_not_satisfiable', `The ${what} is ${size} bytes long; ask for a range within it.`, undefined, { 'Content-Range': `bytes */${size}` });
}
