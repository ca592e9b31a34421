/**
 * Character classes and small scanners shared by the SIP parsers (RFC 3261 §25.1). Everything works on
 * char codes with lookup tables: no regular expressions, so no backtracking, and no per-character string
 * building on the hot path.
 */
import { SipParseError } from './parse-error';

function table(chars: string, alphanumeric = true): Uint8Array {
  const t = new Uint8Array(128);
  if (alphanumeric) {
    for (let c = 0x30; c <= 0x39; c++) t[c] = 1;
    for (let c = 0x41; c <= 0x5a; c++) t[c] = 1;
    for (let c = 0x61; c <= 0x7a; c++) t[c] = 1;
  }
  for (let i = 0; i < chars.length; i++) t[chars.charCodeAt(i)] = 1;
  return t;
}

/** token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~") */
export const TOKEN = table("-.!%*_+`'~");
/** word: token characters plus the separators RFC 3261 allows in a Call-ID. */
export const WORD = table("-.!%*_+`'~()<>:\\\"/[]?{}");
/** unreserved = alphanum / mark */
export const UNRESERVED = table("-_.!~*'()");
/** user = 1*( unreserved / escaped / user-unreserved ) */
export const USER = table("-_.!~*'()&=+$,;?/");
/** password = *( unreserved / escaped / "&" / "=" / "+" / "$" / "," ) */
export const PASSWORD = table("-_.!~*'()&=+$,");
/** paramchar = param-unreserved / unreserved / escaped */
export const PARAM = table("-_.!~*'()[]/:&+$");
/** hname / hvalue characters: hnv-unreserved / unreserved / escaped */
export const HNV = table("-_.!~*'()[]/?:+$");
/** uric = reserved / unreserved / escaped ('%' checked apart), plus '[' ']' of an IPv6 authority (RFC 2732). */
export const URIC = table(";/?:@&=+$,-_.!~*'()[]");
/** hostname and IPv4 characters; '_' is not in the grammar but real deployments use it. */
export const HOST = table('-._');
/** IPv6 reference contents, between the brackets. */
export const IPV6 = table(':.', false);
for (let c = 0x30; c <= 0x39; c++) IPV6[c] = 1;
for (let c = 0x41; c <= 0x46; c++) IPV6[c] = 1;
for (let c = 0x61; c <= 0x66; c++) IPV6[c] = 1;
/** A generic-param value without quotes: token or host (which adds ':' '[' ']' for IPv6). */
export const GEN_VALUE = table("-.!%*_+`'~:[]");

export const SP = 0x20;
export const HTAB = 0x09;
export const CR = 0x0d;
export const LF = 0x0a;
export const DQUOTE = 0x22;
export const BACKSLASH = 0x5c;

export function isWs(c: number): boolean {
  return c === SP || c === HTAB || c === CR || c === LF;
}

/** Trims SP, HTAB, CR and LF only: String.prototype.trim would also eat U+FEFF and other content. */
export function trimWs(s: string): string {
  let from = 0;
  let to = s.length;
  while (from < to && isWs(s.charCodeAt(from))) from++;
  while (to > from && isWs(s.charCodeAt(to - 1))) to--;
  return from === 0 && to === s.length ? s : s.slice(from, to);
}

export function inClass(t: Uint8Array, c: number): boolean {
  return c < 128 && t[c] === 1;
}

export function skipWs(s: string, i: number, end = s.length): number {
  while (i < end && isWs(s.charCodeAt(i))) i++;
  return i;
}

/** Index just past a run of characters of class `t` starting at `i`. */
export function scan(s: string, i: number, t: Uint8Array, end = s.length): number {
  while (i < end) {
    const c = s.charCodeAt(i);
    if (c >= 128 || t[c] !== 1) break;
    i++;
  }
  return i;
}

export function isAll(s: string, t: Uint8Array): boolean {
  return s.length > 0 && scan(s, 0, t) === s.length;
}

/**
 * RFC 3261 §25.1 quoted-string: `s[i]` is the opening quote. Returns the index just past the closing
 * quote, or -1 if the string is unterminated. quoted-pair may escape any octet but CR and LF.
 */
export function scanQuoted(s: string, i: number, end = s.length): number {
  i++;
  while (i < end) {
    const c = s.charCodeAt(i);
    if (c === DQUOTE) return i + 1;
    if (c === BACKSLASH) {
      const next = s.charCodeAt(i + 1);
      if (i + 1 >= end || next === CR || next === LF) return -1;
      i += 2;
      continue;
    }
    if (c === CR || c === LF) return -1;
    i++;
  }
  return -1;
}

/** The text of a quoted-string without its quotes and with quoted-pairs undone. */
export function unquote(quoted: string): string {
  const inner = quoted.slice(1, -1);
  if (inner.indexOf('\\') < 0) return inner;
  const parts: string[] = [];
  let from = 0;
  for (let i = 0; i < inner.length; i++) {
    if (inner.charCodeAt(i) === BACKSLASH) {
      parts.push(inner.slice(from, i));
      i++;
      from = i;
    }
  }
  parts.push(inner.slice(from));
  return parts.join('');
}

/** A quoted-string for `text`, escaping the characters that quoted-string cannot hold literally. */
export function quote(text: string): string {
  let needs = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === DQUOTE || c === BACKSLASH || c < 0x20 || c === 0x7f) {
      needs = true;
      break;
    }
  }
  if (!needs) return `"${text}"`;
  const parts: string[] = ['"'];
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    // quoted-pair cannot carry CR or LF; they are dropped rather than allowed to break the header line.
    if (c === CR || c === LF) {
      parts.push(text.slice(from, i));
      from = i + 1;
    } else if (c === DQUOTE || c === BACKSLASH || c < 0x20 || c === 0x7f) {
      parts.push(text.slice(from, i), '\\');
      from = i;
    }
  }
  parts.push(text.slice(from), '"');
  return parts.join('');
}

/**
 * Splits a header value at the commas that separate list elements (RFC 3261 §7.3.1), leaving commas
 * inside quoted strings and <...> alone. Elements are trimmed; empty elements are kept so a validator
 * can see them (RFC 4475 §3.1.2.1).
 */
export function splitList(value: string): string[] {
  if (value.indexOf(',') < 0) return [trimWs(value)];
  const out: string[] = [];
  let from = 0;
  let angle = false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === DQUOTE) {
      const close = scanQuoted(value, i);
      if (close < 0) break;
      i = close - 1;
    } else if (c === 0x3c) {
      angle = true;
    } else if (c === 0x3e) {
      angle = false;
    } else if (c === 0x2c && !angle) {
      out.push(trimWs(value.slice(from, i)));
      from = i + 1;
    }
  }
  out.push(trimWs(value.slice(from)));
  return out;
}

/**
 * `*( SEMI generic-param )` from `i` to the end of `s`: the parameters of Via, From, To, Contact and
 * friends. Names are lower-cased; a flag parameter maps to null; quoted values keep their quotes so
 * that formatting gives back what was received.
 */
export function parseGenericParams(s: string, i: number, what: string): Record<string, string | null> {
  const params = emptyRecord<string | null>();
  const end = s.length;
  for (;;) {
    i = skipWs(s, i, end);
    if (i >= end) return params;
    if (s.charCodeAt(i) !== 0x3b) throw new SipParseError(`Bad Request - Malformed ${what}`);
    i = skipWs(s, i + 1, end);
    const nameEnd = scan(s, i, TOKEN, end);
    if (nameEnd === i) throw new SipParseError(`Bad Request - Malformed ${what} parameter`);
    const name = s.slice(i, nameEnd).toLowerCase();
    i = skipWs(s, nameEnd, end);
    if (i < end && s.charCodeAt(i) === 0x3d) {
      i = skipWs(s, i + 1, end);
      let valueEnd: number;
      if (s.charCodeAt(i) === DQUOTE) {
        valueEnd = scanQuoted(s, i, end);
        if (valueEnd < 0) throw new SipParseError(`Bad Request - Unterminated quote in ${what}`);
      } else {
        valueEnd = scan(s, i, GEN_VALUE, end);
        if (valueEnd === i) throw new SipParseError(`Bad Request - Malformed ${what} parameter`);
      }
      params[name] = s.slice(i, valueEnd);
      i = valueEnd;
    } else {
      params[name] = null;
    }
  }
}

/**
 * Records made by `new` share one empty prototype that has no prototype itself (not Object.prototype), so a
 * parameter named `__proto__` or `constructor` is just a parameter; unlike Object.create(null), whose objects
 * V8 keeps as slow dictionaries, they keep fast properties.
 */
function ParamRecord(): void {}
ParamRecord.prototype = Object.freeze(Object.create(null) as object);

/** A record for parameters read from a message: nothing inherited, whatever the names. */
export function emptyRecord<T>(): Record<string, T> {
  return new (ParamRecord as unknown as new () => Record<string, T>)();
}

export function formatGenericParams(params: Record<string, string | null>): string {
  let out = '';
  for (const name in params) {
    const value = params[name];
    out += value === null || value === undefined ? `;${name}` : `;${name}=${value}`;
  }
  return out;
}

/** A non-negative decimal integer of digits only; -1 if `s` is not one or exceeds `max`. */
export function parseDecimal(s: string, max: number): number {
  if (s.length === 0) return -1;
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i) - 0x30;
    if (c < 0 || c > 9) return -1;
    n = n * 10 + c;
    if (n > max) return -1;
  }
  return n;
}
