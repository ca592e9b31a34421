/**
 * Parsers for the structured header values the PBX reads: Via (RFC 3261 §20.42), name-addr / addr-spec
 * (From, To, Contact, Route, Record-Route, Refer-To; §20.10, §25.1), CSeq (§20.16) and the
 * credentials and challenges of HTTP Digest (§20.7, §20.44, §22.4).
 */
import {
  DQUOTE, formatGenericParams, HOST, IPV6, isWs, parseDecimal, parseGenericParams, quote, scan,
  scanQuoted, skipWs, TOKEN, trimWs, unquote,
} from './grammar';
import { SipParseError } from './parse-error';
import { memoizeParser } from './parse-memo';
import { formatUri, isSipScheme, parseAbsoluteUri, parseUri, parseUriText } from './uri';
import type { SipUri } from './uri';

export interface Via {
  /** 'SIP/2.0' */
  protocol: string;
  /** Upper-cased: UDP, TCP, TLS, WS, WSS, SCTP, or whatever token the sender used. */
  transport: string;
  host: string;
  port?: number;
  params: Record<string, string | null>;
}

/** One via-parm: `SIP / 2.0 / UDP host:port;branch=...`, with the LWS RFC 3261 allows around '/', ':' and ';'. */
export const parseVia = memoizeParser(parseViaText);

function parseViaText(value: string): Via {
  const s = value;
  const end = s.length;
  const fail = (): SipParseError => new SipParseError('Bad Request - Malformed Via');
  let i = skipWs(s, 0);
  const nameEnd = scan(s, i, TOKEN);
  if (nameEnd === i) throw fail();
  const name = s.slice(i, nameEnd);
  i = skipWs(s, nameEnd);
  if (s.charCodeAt(i) !== 0x2f) throw fail();
  i = skipWs(s, i + 1);
  const versionEnd = scan(s, i, TOKEN);
  if (versionEnd === i) throw fail();
  const version = s.slice(i, versionEnd);
  i = skipWs(s, versionEnd);
  if (s.charCodeAt(i) !== 0x2f) throw fail();
  i = skipWs(s, i + 1);
  const transportEnd = scan(s, i, TOKEN);
  if (transportEnd === i) throw fail();
  const transport = s.slice(i, transportEnd).toUpperCase();
  i = transportEnd;
  if (i >= end || !isWs(s.charCodeAt(i))) throw fail();
  i = skipWs(s, i);

  let host: string;
  if (s.charCodeAt(i) === 0x5b) {
    const close = s.indexOf(']', i);
    if (close < 0 || close === i + 1 || scan(s, i + 1, IPV6, close) !== close) throw fail();
    host = s.slice(i, close + 1);
    i = close + 1;
  } else {
    const hostEnd = scan(s, i, HOST);
    if (hostEnd === i) throw fail();
    host = s.slice(i, hostEnd);
    i = hostEnd;
  }
  const via: Via = { protocol: `${name}/${version}`, transport, host, params: {} };
  const afterHost = skipWs(s, i);
  if (s.charCodeAt(afterHost) === 0x3a) {
    i = skipWs(s, afterHost + 1);
    const portEnd = scan(s, i, DIGITS);
    const port = portEnd - i <= 5 ? parseDecimal(s.slice(i, portEnd), 65535) : -1;
    if (port < 0) throw fail();
    via.port = port;
    i = portEnd;
  }
  via.params = parseGenericParams(s, i, 'Via');
  return via;
}

const DIGITS = new Uint8Array(128);
for (let c = 0x30; c <= 0x39; c++) DIGITS[c] = 1;

export function formatVia(via: Via): string {
  return `${via.protocol}/${via.transport} ${via.host}${via.port !== undefined ? `:${via.port}` : ''}${formatGenericParams(via.params)}`;
}

export interface NameAddr {
  /** Unquoted, with quoted-pairs undone. */
  displayName?: string;
  uri: SipUri;
  /** Header parameters (tag, expires, q, +sip.instance ...); names lower-cased, quoted values keep their quotes. */
  params: Record<string, string | null>;
}

/**
 * From, To, Contact, Route, Record-Route, Refer-To: `"Name" <uri>;params`, `Name <uri>`, `<uri>` or a
 * bare addr-spec. In the bare form every ';' after the URI starts a header parameter, and a URI that
 * would need ',', '?' or ';' of its own must have been enclosed in <> (RFC 3261 §20.10, RFC 4475 §3.1.2.13).
 * The addr-spec may be an absoluteURI of any scheme (§25.1), held opaque (`SipUri.opaque`): whoever needs a
 * SIP URI in a header checks the scheme.
 */
export const parseNameAddr = memoizeParser((value: string) => parseNameAddrWith(value, parseUri));

/**
 * A name-addr parsed afresh, sharing nothing with the parsers' memory: for a value kept long, such as a
 * registration's contact, whose parts must not hold on to the message another copy of the value came in.
 */
export function parseNameAddrUnshared(value: string): NameAddr {
  return parseNameAddrWith(value, parseUriText);
}

function parseNameAddrWith(value: string, parseUri: (text: string) => SipUri): NameAddr {
  const s = value;
  const end = s.length;
  let i = skipWs(s, 0);
  let displayName: string | undefined;
  let uriText: string;
  let paramsFrom: number;

  // A token display name cannot hold ';' or '"', so a '<' before either of them opens a name-addr; one
  // after them sits in a parameter of a bare addr-spec (`sip:a@b;+sip.instance="<urn:...>"`).
  let lt = i;
  while (lt < end) {
    const c = s.charCodeAt(lt);
    if (c === 0x3c) break;
    if (c === 0x3b || c === DQUOTE) {
      lt = -1;
      break;
    }
    lt++;
  }
  if (lt >= end) lt = -1;
  if (s.charCodeAt(i) === DQUOTE || lt >= 0) {
    if (s.charCodeAt(i) === DQUOTE) {
      const close = scanQuoted(s, i);
      if (close < 0) throw new SipParseError('Bad Request - Unterminated quote in display name');
      displayName = unquote(s.slice(i, close));
      i = skipWs(s, close);
      if (s.charCodeAt(i) !== 0x3c) throw new SipParseError('Bad Request - Malformed name-addr');
    } else {
      // display-name = *(token LWS): RFC 4475 §3.1.2.15 has a comma here, which needs quotes.
      const text = trimWs(s.slice(i, lt));
      if (text !== '') {
        for (let k = 0; k < text.length; k++) {
          const c = text.charCodeAt(k);
          if (!isWs(c) && (c >= 128 || TOKEN[c] !== 1)) throw new SipParseError('Bad Request - Invalid display name');
        }
        displayName = text;
      }
      i = lt;
    }
    const gt = s.indexOf('>', i + 1);
    if (gt < 0) throw new SipParseError('Bad Request - Unterminated <> in name-addr');
    uriText = s.slice(i + 1, gt);
    // RFC 4475 §3.1.2.14: LAQUOT addr-spec RAQUOT leaves no room for whitespace inside the brackets.
    if (uriText.length === 0 || isWs(uriText.charCodeAt(0)) || isWs(uriText.charCodeAt(uriText.length - 1))) {
      throw new SipParseError('Bad Request - Whitespace inside <> in name-addr');
    }
    paramsFrom = gt + 1;
  } else {
    let semi = s.indexOf(';', i);
    if (semi < 0) semi = end;
    uriText = trimWs(s.slice(i, semi));
    for (let k = 0; k < uriText.length; k++) {
      const c = uriText.charCodeAt(k);
      if (c === 0x3f || c === 0x2c || isWs(c)) throw new SipParseError('Bad Request - URI with headers or commas needs <>');
    }
    paramsFrom = semi;
  }
  const uri = isSipScheme(uriText) ? parseUri(uriText) : parseAbsoluteUri(uriText);
  const params = parseGenericParams(s, paramsFrom, 'name-addr');
  return displayName === undefined ? { uri, params } : { displayName, uri, params };
}

export function formatNameAddr(value: NameAddr): string {
  const name = value.displayName ? `${quote(value.displayName)} ` : '';
  return `${name}<${formatUri(value.uri)}>${formatGenericParams(value.params)}`;
}

/** CSeq = 1*DIGIT LWS Method; the number must be below 2**31 (RFC 3261 §8.1.1.5). */
export function parseCSeq(value: string): { seq: number; method: string } {
  const s = value;
  let i = skipWs(s, 0);
  const digitsEnd = scan(s, i, DIGITS);
  const seq = digitsEnd - i <= 20 ? parseDecimal(s.slice(i, digitsEnd), 0x7fffffff) : -1;
  if (seq < 0) {
    throw new SipParseError(digitsEnd > i ? 'Bad Request - CSeq out of range' : 'Bad Request - Malformed CSeq');
  }
  i = skipWs(s, digitsEnd);
  if (i === digitsEnd) throw new SipParseError('Bad Request - Malformed CSeq');
  const methodEnd = scan(s, i, TOKEN);
  if (methodEnd === i || skipWs(s, methodEnd) !== s.length) throw new SipParseError('Bad Request - Malformed CSeq');
  return { seq, method: s.slice(i, methodEnd) };
}

/**
 * Authorization, Proxy-Authorization, WWW-Authenticate, Proxy-Authenticate: a scheme, then
 * comma-separated `name=value` pairs whose values are tokens or quoted strings. Names are lower-cased;
 * quotes are removed and quoted-pairs undone.
 */
export function parseAuthorization(value: string): { scheme: string; params: Record<string, string> } {
  const s = value;
  const end = s.length;
  const fail = (): SipParseError => new SipParseError('Bad Request - Malformed credentials');
  let i = skipWs(s, 0);
  const schemeEnd = scan(s, i, TOKEN);
  if (schemeEnd === i) throw fail();
  const scheme = s.slice(i, schemeEnd);
  const params: Record<string, string> = Object.create(null) as Record<string, string>;
  i = skipWs(s, schemeEnd);
  if (i < end && i === schemeEnd) throw fail();
  while (i < end) {
    const nameEnd = scan(s, i, TOKEN);
    if (nameEnd === i) throw fail();
    const name = s.slice(i, nameEnd).toLowerCase();
    i = skipWs(s, nameEnd);
    if (s.charCodeAt(i) !== 0x3d) throw fail();
    i = skipWs(s, i + 1);
    if (s.charCodeAt(i) === DQUOTE) {
      const close = scanQuoted(s, i);
      if (close < 0) throw fail();
      params[name] = unquote(s.slice(i, close));
      i = close;
    } else {
      // Tokens, plus the ':' '/' '@' '=' that some clients leave unquoted in uri= and similar values.
      let valueEnd = i;
      while (valueEnd < end) {
        const c = s.charCodeAt(valueEnd);
        if (c === 0x2c || c === DQUOTE || isWs(c)) break;
        valueEnd++;
      }
      if (valueEnd === i) throw fail();
      params[name] = s.slice(i, valueEnd);
      i = valueEnd;
    }
    i = skipWs(s, i);
    if (i >= end) break;
    if (s.charCodeAt(i) !== 0x2c) throw fail();
    i = skipWs(s, i + 1);
  }
  return { scheme, params };
}

/** `Digest realm="pbx", nonce="...", algorithm=MD5`: each value written as a quoted string or a token. */
export function formatAuthParams(scheme: string, params: Array<[string, string, 'quoted' | 'token']>): string {
  const parts = params.map(([name, value, style]) => `${name}=${style === 'quoted' ? quote(value) : value}`);
  return parts.length > 0 ? `${scheme} ${parts.join(', ')}` : scheme;
}
