/**
 * SIP, SIPS and tel URIs (RFC 3261 §19.1, RFC 3966): parsing, formatting and the §19.1.4 comparison.
 * The user part, URI parameters and URI headers are held unescaped and escaped again on the way out.
 * A URI of another scheme is legal in a name-addr (an absoluteURI, §25.1) and is held as written.
 */
import { emptyRecord, HNV, HOST, inClass, IPV6, isAll, PARAM, PASSWORD, scan, TOKEN, URIC, USER } from './grammar';
import { SipParseError } from './parse-error';
import { memoizeParser } from './parse-memo';

export interface SipUri {
  /**
   * sip, sips or tel. Any other scheme only comes from a name-addr (`parseAbsoluteUri`): From and To may
   * hold one (RFC 3261 §25.1, RFC 4475 §3.3.4); then `opaque` holds the rest, and user and host are empty.
   */
  scheme: string;
  user?: string;
  password?: string;
  /** Lower-case is not forced; IPv6 references keep their brackets, e.g. '[2001:db8::10]'. Empty for tel:. */
  host: string;
  port?: number;
  /** Names lower-cased; a flag parameter such as `;lr` is { lr: null }. */
  params: Record<string, string | null>;
  headers: Record<string, string>;
  /** An absoluteURI's text after the scheme's colon, as written: the PBX reads nothing in it. */
  opaque?: string;
}

const PERCENT = 0x25;

function invalid(text: string): SipParseError {
  return new SipParseError(`Bad Request - Invalid URI${text.length <= 64 ? ` ${text}` : ''}`);
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/** Checks `s[from..to)` against class `t` plus `escaped` (RFC 3261 §25.1) and returns it unescaped. */
function unescapePart(s: string, from: number, to: number, t: Uint8Array): string {
  let escapes = false;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c === PERCENT) {
      if (i + 2 >= to) throw invalid(s);
      if (hexValue(s.charCodeAt(i + 1)) < 0 || hexValue(s.charCodeAt(i + 2)) < 0) throw invalid(s);
      escapes = true;
      i += 2;
    } else if (c >= 128 || t[c] !== 1) {
      throw invalid(s);
    }
  }
  const raw = s.slice(from, to);
  if (!escapes) return raw;
  const bytes: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c === PERCENT) {
      bytes.push(hexValue(raw.charCodeAt(i + 1)) * 16 + hexValue(raw.charCodeAt(i + 2)));
      i += 2;
    } else {
      bytes.push(c);
    }
  }
  // Escaped octets are UTF-8 (RFC 3261 §19.1.1); bytes that do not decode become U+FFFD rather than an error.
  return Buffer.from(bytes).toString('utf8');
}

const HEX = '0123456789ABCDEF';

/** `text` with every character outside class `t` written as %XX of its UTF-8 octets. */
function escapePart(text: string, t: Uint8Array): string {
  let i = 0;
  while (i < text.length && inClass(t, text.charCodeAt(i))) i++;
  if (i === text.length) return text;
  const parts: string[] = [text.slice(0, i)];
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inClass(t, c)) {
      parts.push(text[i] as string);
      continue;
    }
    let ch = text[i] as string;
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      ch = text.slice(i, i + 2);
      i++;
    }
    for (const byte of Buffer.from(ch, 'utf8')) parts.push('%', HEX[byte >> 4] as string, HEX[byte & 15] as string);
  }
  return parts.join('');
}

/** Parses a sip:, sips: or tel: URI. Throws SipParseError for anything else or for invalid syntax. */
export const parseUri = memoizeParser(parseUriText);

/** The parse itself, unshared and not remembered (parseNameAddrUnshared). */
export function parseUriText(text: string): SipUri {
  const colon = text.indexOf(':');
  if (colon <= 0) throw invalid(text);
  const scheme = text.slice(0, colon).toLowerCase();
  if (scheme === 'tel') return parseTel(text, colon + 1);
  if (scheme !== 'sip' && scheme !== 'sips') {
    throw new SipParseError('Bad Request - Unsupported URI scheme');
  }
  const end = text.length;
  const uri: SipUri = { scheme, host: '', params: emptyRecord(), headers: emptyRecord() };
  let i = colon + 1;

  // The user part may hold ';', '?' and ':' (RFC 4475 §3.1.1.2, §3.1.1.9) but never a raw '@'.
  const at = text.indexOf('@', i);
  if (at >= 0) {
    const pw = text.indexOf(':', i);
    const userEnd = pw >= 0 && pw < at ? pw : at;
    if (userEnd === i) throw invalid(text);
    uri.user = unescapePart(text, i, userEnd, USER);
    if (userEnd < at) uri.password = unescapePart(text, userEnd + 1, at, PASSWORD);
    i = at + 1;
  }

  if (text.charCodeAt(i) === 0x5b) {
    const close = text.indexOf(']', i);
    if (close < 0 || scan(text, i + 1, IPV6, close) !== close || close === i + 1) throw invalid(text);
    uri.host = text.slice(i, close + 1);
    i = close + 1;
  } else {
    const hostEnd = scan(text, i, HOST);
    if (hostEnd === i) throw invalid(text);
    uri.host = text.slice(i, hostEnd);
    i = hostEnd;
  }

  if (i < end && text.charCodeAt(i) === 0x3a) {
    let port = 0;
    const from = ++i;
    while (i < end) {
      const d = text.charCodeAt(i) - 0x30;
      if (d < 0 || d > 9) break;
      port = port * 10 + d;
      i++;
    }
    if (i === from || i - from > 5 || port > 65535) throw invalid(text);
    uri.port = port;
  }

  while (i < end && text.charCodeAt(i) === 0x3b) {
    const from = ++i;
    const nameEnd = scanParam(text, i);
    if (nameEnd === from) throw invalid(text);
    const name = unescapePart(text, from, nameEnd, PARAM).toLowerCase();
    i = nameEnd;
    if (i < end && text.charCodeAt(i) === 0x3d) {
      const valueFrom = ++i;
      i = scanParam(text, i);
      if (i === valueFrom) throw invalid(text);
      uri.params[name] = unescapePart(text, valueFrom, i, PARAM);
    } else {
      uri.params[name] = null;
    }
  }

  if (i < end && text.charCodeAt(i) === 0x3f) {
    i++;
    for (;;) {
      const eq = text.indexOf('=', i);
      if (eq < 0) throw invalid(text);
      let amp = text.indexOf('&', eq);
      if (amp < 0) amp = end;
      if (eq === i) throw invalid(text);
      uri.headers[unescapePart(text, i, eq, HNV)] = unescapePart(text, eq + 1, amp, HNV);
      i = amp;
      if (i >= end) break;
      i++;
    }
  }

  if (i !== end) throw invalid(text);
  return uri;
}

/**
 * absoluteURI = scheme ":" ( hier-part / opaque-part ) (RFC 3261 §25.1, from RFC 2396): checked for its
 * characters and escapes only, and kept as written. For a scheme other than sip, sips and tel, which
 * `parseUri` reads.
 */
export function parseAbsoluteUri(text: string): SipUri {
  const colon = text.indexOf(':');
  if (colon <= 0 || colon === text.length - 1) throw invalid(text);
  for (let i = 0; i < colon; i++) {
    const c = text.charCodeAt(i) | 0x20;
    const alpha = c >= 0x61 && c <= 0x7a;
    if (!alpha && (i === 0 || !((c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2d || c === 0x2e))) throw invalid(text);
  }
  for (let i = colon + 1; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === PERCENT) {
      if (i + 2 >= text.length || hexValue(text.charCodeAt(i + 1)) < 0 || hexValue(text.charCodeAt(i + 2)) < 0) throw invalid(text);
      i += 2;
    } else if (c >= 128 || URIC[c] !== 1) {
      throw invalid(text);
    }
  }
  return { scheme: text.slice(0, colon).toLowerCase(), host: '', params: emptyRecord(), headers: emptyRecord(), opaque: text.slice(colon + 1) };
}

/** Whether a URI's scheme is one `parseUri` reads. */
export function isSipScheme(text: string): boolean {
  const colon = text.indexOf(':');
  const scheme = colon > 0 ? text.slice(0, colon).toLowerCase() : '';
  return scheme === 'sip' || scheme === 'sips' || scheme === 'tel';
}

/** End of a URI parameter name or value: escaped octets and paramchar up to '=', ';', '?' or the end. */
function scanParam(s: string, i: number): number {
  const end = s.length;
  while (i < end) {
    const c = s.charCodeAt(i);
    if (c === PERCENT || (c < 128 && PARAM[c] === 1)) i++;
    else break;
  }
  return i;
}

/** tel: URIs (RFC 3966): the number goes in `user`, the parameters after it in `params`, host is ''. */
function parseTel(text: string, i: number): SipUri {
  const semi = text.indexOf(';', i);
  const numberEnd = semi < 0 ? text.length : semi;
  const number = text.slice(i, numberEnd);
  if (!isTelNumber(number)) throw invalid(text);
  const uri: SipUri = { scheme: 'tel', user: number, host: '', params: emptyRecord(), headers: emptyRecord() };
  if (semi >= 0) {
    for (const part of text.slice(semi + 1).split(';')) {
      const eq = part.indexOf('=');
      const name = eq < 0 ? part : part.slice(0, eq);
      if (!isAll(name, TOKEN)) throw invalid(text);
      uri.params[name.toLowerCase()] = eq < 0 ? null : unescapePart(part, eq + 1, part.length, PARAM);
    }
  }
  return uri;
}

/** global-number / local-number digits with visual separators (RFC 3966 §3). */
function isTelNumber(number: string): boolean {
  if (number.length === 0) return false;
  for (let i = 0; i < number.length; i++) {
    const c = number.charCodeAt(i);
    const ok = (c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2a || c === 0x23 || c === 0x2d || c === 0x2e || c === 0x28 ||
      c === 0x29 || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66) || c === 0x70 || c === 0x77;
    if (!ok) return false;
  }
  return true;
}

function formatParams(params: Record<string, string | null>): string {
  let out = '';
  for (const name in params) {
    const value = params[name];
    out += value === null || value === undefined ? `;${escapePart(name, PARAM)}` : `;${escapePart(name, PARAM)}=${escapePart(value, PARAM)}`;
  }
  return out;
}

export function formatUri(uri: SipUri): string {
  if (uri.opaque !== undefined) return `${uri.scheme}:${uri.opaque}`;
  if (uri.scheme === 'tel') return `tel:${uri.user ?? ''}${formatParams(uri.params)}`;
  let out = `${uri.scheme}:`;
  if (uri.user !== undefined && uri.user !== '') {
    out += escapePart(uri.user, USER);
    if (uri.password !== undefined) out += `:${escapePart(uri.password, PASSWORD)}`;
    out += '@';
  }
  out += uri.host;
  if (uri.port !== undefined) out += `:${uri.port}`;
  out += formatParams(uri.params);
  let separator = '?';
  for (const name in uri.headers) {
    out += `${separator}${escapePart(name, HNV)}=${escapePart(uri.headers[name] ?? '', HNV)}`;
    separator = '&';
  }
  return out;
}

/** RFC 3261 §19.1.4: these parameters make two URIs differ even when only one of them has the parameter. */
const PARAMS_THAT_MUST_MATCH = ['user', 'ttl', 'method', 'maddr', 'transport'];

/**
 * RFC 3261 §19.1.4 comparison: scheme, user and password case-sensitive after unescaping; host and
 * parameters case-insensitive; an explicit port never equals a missing one; user, ttl, method, maddr and
 * transport must agree, other parameters only where both URIs carry them; headers must all match.
 * tel: numbers are compared without visual separators (RFC 3966 §4).
 */
export function uriEquals(a: SipUri, b: SipUri): boolean {
  if (a.scheme !== b.scheme) return false;
  // RFC 3986 §6.2.1: absolute URIs of other schemes compare as their text (the scheme is lower-cased already).
  if (a.opaque !== undefined || b.opaque !== undefined) return a.opaque === b.opaque;
  if (a.scheme === 'tel') {
    if (telDigits(a.user ?? '') !== telDigits(b.user ?? '')) return false;
    return sameParamsStrict(a.params, b.params);
  }
  if ((a.user ?? '') !== (b.user ?? '') || a.password !== b.password) return false;
  if (a.host.toLowerCase() !== b.host.toLowerCase() || a.port !== b.port) return false;
  for (const name of PARAMS_THAT_MUST_MATCH) {
    if ((name in a.params) !== (name in b.params)) return false;
  }
  for (const name in a.params) {
    if (!(name in b.params)) continue;
    if ((a.params[name] ?? '').toLowerCase() !== (b.params[name] ?? '').toLowerCase()) return false;
  }
  const aHeaders = lowerKeys(a.headers);
  const bHeaders = lowerKeys(b.headers);
  if (aHeaders.size !== bHeaders.size) return false;
  for (const [name, value] of aHeaders) if (bHeaders.get(name) !== value) return false;
  return true;
}

function telDigits(number: string): string {
  let out = '';
  for (let i = 0; i < number.length; i++) {
    const c = number[i] as string;
    if (c !== '-' && c !== '.' && c !== '(' && c !== ')') out += c.toLowerCase();
  }
  return out;
}

function sameParamsStrict(a: Record<string, string | null>, b: Record<string, string | null>): boolean {
  const aKeys = Object.keys(a);
  if (aKeys.length !== Object.keys(b).length) return false;
  for (const name of aKeys) {
    if (!(name in b) || (a[name] ?? '').toLowerCase() !== (b[name] ?? '').toLowerCase()) return false;
  }
  return true;
}

function lowerKeys(headers: Record<string, string>): Map<string, string> {
  const out = new Map<string, string>();
  for (const name in headers) out.set(name.toLowerCase(), headers[name] ?? '');
  return out;
}
