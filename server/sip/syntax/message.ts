/**
 * Why past 500 lines: the message model, its parser, stream framing and serialiser share private helpers and
 * are read together against RFC 3261 §7 and §18.3; header values and URIs have their own files.
 *
 * SIP messages (RFC 3261 §7): parsing one message from a datagram or WebSocket frame, framing messages
 * on a byte stream (§18.3), serialising, and building responses (§8.2.6). Structured header values have
 * their own parsers in header-values.ts and uri.ts; everything is re-exported here so callers need one
 * import.
 */
import { CR, isAll, LF, parseDecimal, skipWs, splitList, TOKEN, trimWs, WORD } from './grammar';
import { SipHeaders } from './headers';
import { parseCSeq, parseNameAddr, parseVia } from './header-values';
import { SipParseError } from './parse-error';
import { reasonPhrase } from './reason-phrases';
import { parseUri } from './uri';
import { ownBytes } from '../../util/unshared';

export { SipHeaders } from './headers';
export { SipParseError } from './parse-error';
export { formatUri, parseUri, uriEquals } from './uri';
export type { SipUri } from './uri';
export { formatAuthParams, formatNameAddr, formatVia, parseAuthorization, parseCSeq, parseNameAddr, parseNameAddrUnshared, parseVia } from './header-values';
export type { NameAddr, Via } from './header-values';
export { REASON_PHRASES, reasonPhrase } from './reason-phrases';
export { BRANCH_MAGIC_COOKIE, generateBranch, generateCallId, generateTag } from './identifiers';

export interface SipRequest {
  kind: 'request';
  method: string;
  uri: string;
  headers: SipHeaders;
  body: Buffer;
}

export interface SipResponse {
  kind: 'response';
  status: number;
  reason: string;
  headers: SipHeaders;
  body: Buffer;
}

export type SipMessage = SipRequest | SipResponse;

const EMPTY: Buffer = Buffer.alloc(0);
const MAX_CONTENT_LENGTH = 0x7fffffff;

interface HeaderEnd {
  /** Index of the LF that ends the last header line. */
  textEnd: number;
  /** Index of the first body octet. */
  bodyStart: number;
}

/** The empty line that ends the header section: CRLF CRLF, or bare LFs from lenient senders. */
function findHeaderEnd(buf: Buffer, from: number): HeaderEnd | undefined {
  const end = buf.length;
  let i = from;
  for (;;) {
    const lf = buf.indexOf(LF, i);
    if (lf < 0) return undefined;
    const next = buf[lf + 1];
    if (next === LF) return { textEnd: lf, bodyStart: lf + 2 };
    if (next === CR && lf + 2 < end && buf[lf + 2] === LF) return { textEnd: lf, bodyStart: lf + 3 };
    if (lf + 1 >= end) return undefined;
    i = lf + 1;
  }
}

function skipLineBreaks(buf: Buffer, i: number): number {
  while (i < buf.length && (buf[i] === CR || buf[i] === LF)) i++;
  return i;
}

/** The start line and headers of a message, before validation; `error` is the first problem seen. */
interface Head {
  startLine: string;
  headers: SipHeaders;
  error: SipParseError | undefined;
}

/**
 * Splits the header section into fields, undoing line folding (RFC 3261 §7.3.1: CRLF followed by
 * whitespace is a single SP). A malformed line is skipped and remembered, so that the fields around it
 * are still there for a 400.
 */
function parseHead(text: string): Head {
  const headers = new SipHeaders();
  let error: SipParseError | undefined;
  const firstBreak = text.indexOf('\n');
  const startLine = stripCr(firstBreak < 0 ? text : text.slice(0, firstBreak));
  let name: string | undefined;
  let value = '';
  let pos = firstBreak < 0 ? text.length : firstBreak + 1;
  while (pos < text.length) {
    let lineEnd = text.indexOf('\n', pos);
    if (lineEnd < 0) lineEnd = text.length;
    const line = stripCr(text.slice(pos, lineEnd));
    pos = lineEnd + 1;
    if (line.length === 0) continue;
    const first = line.charCodeAt(0);
    if (line.indexOf('\r') >= 0) {
      // RFC 3261 §7.3.1, §25.1: CR comes only in CRLF. A bare one kept in a value would turn into a line break
      // when the value is sent on (a header injected into the next hop), so the message is malformed.
      error ??= new SipParseError('Bad Request - Bare CR in a header line');
      if (first !== 0x20 && first !== 0x09) {
        if (name !== undefined) headers.appendParsed(name, trimWs(value));
        name = undefined;
      }
      continue;
    }
    if (first === 0x20 || first === 0x09) {
      if (name === undefined) {
        error ??= new SipParseError('Bad Request - Malformed header line');
      } else {
        value = `${value} ${line.slice(skipWs(line, 0))}`;
      }
      continue;
    }
    if (name !== undefined) headers.appendParsed(name, trimWs(value));
    name = undefined;
    const colon = line.indexOf(':');
    const candidate = colon > 0 ? trimWs(line.slice(0, colon)) : '';
    if (!isAll(candidate, TOKEN)) {
      error ??= new SipParseError('Bad Request - Malformed header line');
      continue;
    }
    name = candidate;
    value = line.slice(colon + 1);
  }
  if (name !== undefined) headers.appendParsed(name, trimWs(value));
  return { startLine, headers, error };
}

function stripCr(line: string): string {
  return line.charCodeAt(line.length - 1) === CR ? line.slice(0, -1) : line;
}

type StartLine =
  | { kind: 'request'; method: string; uri: string }
  | { kind: 'response'; status: number; reason: string };

function isStatusLine(line: string): boolean {
  return line.length >= 4 && line.slice(0, 4).toUpperCase() === 'SIP/';
}

/**
 * The error with the kind of message its start line began (request or response), so that whoever answers
 * malformed requests never answers a response (RFC 3261 §8.2, §18.1.2).
 */
function withKind(error: SipParseError, startLine: string): SipParseError {
  if (error.kind !== undefined) return error;
  return new SipParseError(error.reason, error.partial, error.status, isStatusLine(startLine) ? 'response' : 'request');
}

function withKindIfParseError(error: unknown, startLine: string): unknown {
  return error instanceof SipParseError ? withKind(error, startLine) : error;
}

function parseStartLine(line: string, headers: SipHeaders): StartLine {
  if (isStatusLine(line)) {
    const sp = line.indexOf(' ');
    const version = sp < 0 ? line : line.slice(0, sp);
    checkVersion(version, headers);
    const code = line.slice(sp + 1, sp + 4);
    const after = line.charCodeAt(sp + 4);
    const status = code.length === 3 ? parseDecimal(code, 699) : -1;
    // RFC 4475 §3.1.2.19: a status code is exactly three digits.
    if (sp < 0 || status < 100 || (sp + 4 < line.length && after !== 0x20)) {
      throw new SipParseError('Bad Request - Malformed Status-Line', headers);
    }
    return { kind: 'response', status, reason: line.slice(sp + 5) };
  }
  // Request-Line = Method SP Request-URI SP SIP-Version: exactly two single spaces, so extra or trailing
  // whitespace (RFC 4475 §3.1.2.8, §3.1.2.9, §3.1.2.10) shows up as whitespace inside the URI or an empty version.
  const first = line.indexOf(' ');
  const last = line.lastIndexOf(' ');
  if (first <= 0 || last === first) throw new SipParseError('Bad Request - Malformed Request-Line', headers);
  const method = line.slice(0, first);
  if (!isAll(method, TOKEN)) throw new SipParseError('Bad Request - Malformed Request-Line', headers);
  checkVersion(line.slice(last + 1), headers);
  const uri = line.slice(first + 1, last);
  checkRequestUri(uri, headers);
  return { kind: 'request', method, uri };
}

function checkVersion(version: string, headers: SipHeaders): void {
  if (version.length === 7 && version.toUpperCase() === 'SIP/2.0') return;
  const slash = version.indexOf('/');
  const dot = version.indexOf('.');
  const looksLikeSip = version.slice(0, 4).toUpperCase() === 'SIP/' && dot > slash + 1 && dot < version.length - 1 &&
    parseDecimal(version.slice(slash + 1, dot), 1e6) >= 0 && parseDecimal(version.slice(dot + 1), 1e6) >= 0;
  // RFC 3261 §21.5.6 / RFC 4475 §3.1.2.16: a well-formed but different version is answered with 505.
  if (looksLikeSip) throw new SipParseError('Bad Request - Unsupported SIP version', headers, 505);
  throw new SipParseError('Bad Request - Malformed SIP version', headers);
}

function checkRequestUri(uri: string, headers: SipHeaders): void {
  const colon = uri.indexOf(':');
  if (colon <= 0 || colon === uri.length - 1) throw new SipParseError('Bad Request - Malformed Request-URI', headers);
  // scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ); RFC 4475 §3.1.2.7 puts a '<' here.
  for (let i = 0; i < colon; i++) {
    const c = uri.charCodeAt(i) | 0x20;
    const alpha = c >= 0x61 && c <= 0x7a;
    if (!alpha && (i === 0 || !((c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2d || c === 0x2e))) {
      throw new SipParseError('Bad Request - Malformed Request-URI', headers);
    }
  }
  const scheme = uri.slice(0, colon).toLowerCase();
  if (scheme === 'sip' || scheme === 'sips' || scheme === 'tel') {
    let parsed;
    try {
      parsed = parseUri(uri);
    } catch {
      throw new SipParseError('Bad Request - Malformed Request-URI', headers);
    }
    // RFC 3261 §19.1.5 / RFC 4475 §3.1.2.11: headers belong in the message, never in a Request-URI.
    for (const _name in parsed.headers) throw new SipParseError('Bad Request - Headers in Request-URI', headers);
    return;
  }
  // Other schemes are opaque to us (RFC 4475 §3.3.2: a UAS answers 416), but still must not hold
  // whitespace, controls, quotes or angle brackets.
  for (let i = colon + 1; i < uri.length; i++) {
    const c = uri.charCodeAt(i);
    if (c <= 0x20 || c === 0x7f || c === 0x22 || c === 0x3c || c === 0x3e) {
      throw new SipParseError('Bad Request - Malformed Request-URI', headers);
    }
  }
}

/** Headers that appear at most once (RFC 3261 §7.3.1, RFC 4475 §3.3.8 and §3.3.9). */
const SINGLE_HEADERS = ['From', 'To', 'Call-ID', 'CSeq', 'Max-Forwards', 'Content-Length', 'Content-Type'];
const REQUIRED_HEADERS = ['Via', 'From', 'To', 'Call-ID', 'CSeq'];

/**
 * RFC 3261 §8.1.1 / §8.2: the headers every request and response must carry, checked far enough that
 * the transaction and dialog layers can rely on them.
 */
function validateHeaders(headers: SipHeaders, start: StartLine): SipParseError | undefined {
  const fail = (reason: string): SipParseError => new SipParseError(reason, headers);
  for (const name of REQUIRED_HEADERS) if (!headers.has(name)) return fail(`Bad Request - Missing ${name}`);
  for (const name of SINGLE_HEADERS) if (headers.count(name) > 1) return fail(`Bad Request - Multiple ${name} headers`);

  for (const raw of headers.getRaw('Via')) {
    for (const element of splitList(raw)) {
      if (element === '') return fail('Bad Request - Malformed Via');
      try {
        parseVia(element);
      } catch {
        return fail('Bad Request - Malformed Via');
      }
    }
  }
  for (const name of ['From', 'To']) {
    try {
      parseNameAddr(headers.get(name) ?? '');
    } catch {
      return fail(`Bad Request - Malformed ${name}`);
    }
  }
  const callId = headers.get('Call-ID') ?? '';
  if (!isCallId(callId)) return fail('Bad Request - Malformed Call-ID');

  let cseq: { seq: number; method: string };
  try {
    cseq = parseCSeq(headers.get('CSeq') ?? '');
  } catch (error) {
    return fail(error instanceof SipParseError ? error.reason : 'Bad Request - Malformed CSeq');
  }
  // RFC 3261 §8.1.1.5 / RFC 4475 §3.1.2.17: the CSeq method is the request method, case and all.
  if (start.kind === 'request' && cseq.method !== start.method) return fail('Bad Request - CSeq method mismatch');

  const maxForwards = headers.get('Max-Forwards');
  if (maxForwards !== undefined && parseDecimal(maxForwards, 255) < 0) return fail('Bad Request - Invalid Max-Forwards');

  for (const raw of headers.getRaw('Contact')) {
    const elements = splitList(raw);
    for (const element of elements) {
      if (element === '*' && elements.length === 1) continue;
      try {
        if (element === '') throw new SipParseError('empty');
        // A Contact is where the PBX sends requests, which it does over SIP only: another scheme, legal
        // as it is (RFC 3261 §25.1), could never be used, so it is refused here rather than stored.
        if (parseNameAddr(element).uri.opaque !== undefined) throw new SipParseError('not SIP');
      } catch {
        return fail('Bad Request - Malformed Contact');
      }
    }
  }
  return undefined;
}

/**
 * Max-Forwards of a request (RFC 3261 §20.22), 70 when it has none. The parser has checked it is 0 to 255.
 * What the PBX relays (a call to a user's devices, a MESSAGE) goes on with one less, and a request with none
 * left ends here with 483 (RFC 7332 §3, RFC 3261 §16.3), which stops loops through the PBX.
 */
export function hopsLeft(request: SipRequest): number {
  const value = request.headers.get('Max-Forwards');
  return value === undefined ? 70 : Number(value);
}

/** callid = word [ "@" word ] */
function isCallId(value: string): boolean {
  const at = value.indexOf('@');
  if (at < 0) return isAll(value, WORD);
  return isAll(value.slice(0, at), WORD) && isAll(value.slice(at + 1), WORD);
}

function contentLengthOf(headers: SipHeaders): number | undefined {
  const raw = headers.get('Content-Length');
  if (raw === undefined) return undefined;
  const length = parseDecimal(raw, MAX_CONTENT_LENGTH);
  // RFC 4475 §3.1.2.3: a negative (or otherwise non-numeric) Content-Length is malformed.
  if (length < 0) throw new SipParseError('Bad Request - Invalid Content-Length', headers);
  return length;
}

/** The start line, then the header lines, then the header values: the first problem found is thrown. */
function checkHead(head: Head): StartLine {
  const start = parseStartLine(head.startLine, head.headers);
  if (head.error) throw new SipParseError(head.error.reason, head.headers);
  const problem = validateHeaders(head.headers, start);
  if (problem) throw problem;
  return start;
}

function assemble(start: StartLine, headers: SipHeaders, body: Buffer): SipMessage {
  return start.kind === 'request'
    ? { kind: 'request', method: start.method, uri: start.uri, headers, body }
    : { kind: 'response', status: start.status, reason: start.reason, headers, body };
}

/**
 * Parses one complete message: a UDP datagram or a WebSocket frame. Content-Length is honoured: octets
 * beyond it are dropped (RFC 3261 §18.3, RFC 4475 §3.1.1.8), and a body shorter than it is an error; with
 * no Content-Length the body runs to the end of the data. Leading CRLFs are skipped.
 */
export function parseMessage(data: Buffer | string): SipMessage {
  const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const from = skipLineBreaks(buf, 0);
  if (from >= buf.length) throw new SipParseError('Bad Request - Empty message');
  const end = findHeaderEnd(buf, from);
  // A datagram without the empty line still carries its headers; it just has no body.
  const textEnd = end ? end.textEnd : buf.length;
  const bodyStart = end ? end.bodyStart : buf.length;
  const head = parseHead(buf.toString('utf8', from, textEnd));
  try {
    const start = checkHead(head);
    const length = contentLengthOf(head.headers);
    const available = buf.length - bodyStart;
    let body = EMPTY;
    if (length !== undefined) {
      // RFC 4475 §3.1.2.2: a datagram shorter than its Content-Length is malformed.
      if (available < length) throw new SipParseError('Bad Request - Body shorter than Content-Length', head.headers);
      // A body is copied out of the datagram or stream chunk, into bytes of its own: it may be kept long after.
      if (length > 0) body = ownBytes(buf.subarray(bodyStart, bodyStart + length));
    } else if (available > 0) {
      body = ownBytes(buf.subarray(bodyStart));
    }
    return assemble(start, head.headers, body);
  } catch (error) {
    throw withKindIfParseError(error, head.startLine);
  }
}

/**
 * Frames messages on a TCP or TLS byte stream by Content-Length (RFC 3261 §18.3). CRLFs between
 * messages are keep-alives (RFC 5626 §3.5.1) and skipped.
 *
 * A message without Content-Length, or larger than `maxMessageBytes`, breaks the framing: push throws
 * and keeps throwing, and the connection should be closed. A message that is framed correctly but
 * otherwise malformed is dropped and reported by throwing, after any messages before it in the same
 * chunk have been returned (it then throws on the next push, which may be `push(Buffer.alloc(0))`).
 */
export class SipStreamParser {
  private buffer: Buffer = EMPTY;
  private pending: { head: Head; bodyStart: number; total: number } | undefined;
  private failure: SipParseError | undefined;
  private readonly maxMessageBytes: number;

  constructor(options: { maxMessageBytes?: number } = {}) {
    this.maxMessageBytes = options.maxMessageBytes ?? 65535;
  }

  /** Bytes pushed and not yet framed into a message: what the connection holds of a message still coming. */
  get bufferedBytes(): number {
    return this.buffer.length;
  }

  push(chunk: Buffer): SipMessage[] {
    if (this.failure) throw this.failure;
    if (chunk.length > 0) this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const messages: SipMessage[] = [];
    for (;;) {
      if (!this.pending) {
        const from = skipLineBreaks(this.buffer, 0);
        if (from > 0) this.buffer = this.buffer.subarray(from);
        if (this.buffer.length === 0) break;
        const end = findHeaderEnd(this.buffer, 0);
        if (!end) {
          if (this.buffer.length > this.maxMessageBytes) this.fail(new SipParseError('Message Too Large', undefined, 513));
          break;
        }
        if (end.bodyStart > this.maxMessageBytes) this.fail(new SipParseError('Message Too Large', undefined, 513));
        const head = parseHead(this.buffer.toString('utf8', 0, end.textEnd));
        let length: number | undefined;
        try {
          length = contentLengthOf(head.headers);
        } catch (error) {
          this.fail(withKind(error as SipParseError, head.startLine));
        }
        if (length === undefined) this.fail(withKind(new SipParseError('Bad Request - Missing Content-Length', head.headers), head.startLine));
        const total = end.bodyStart + length;
        if (total > this.maxMessageBytes) this.fail(withKind(new SipParseError('Message Too Large', head.headers, 513), head.startLine));
        this.pending = { head, bodyStart: end.bodyStart, total };
      }
      const { head, bodyStart, total } = this.pending;
      if (this.buffer.length < total) break;
      const body = total > bodyStart ? Buffer.from(this.buffer.subarray(bodyStart, total)) : EMPTY;
      let message: SipMessage;
      try {
        message = assemble(checkHead(head), head.headers, body);
      } catch (error) {
        if (messages.length > 0) break;
        this.consume(total);
        throw withKindIfParseError(error, head.startLine);
      }
      this.consume(total);
      messages.push(message);
    }
    if (this.buffer.length === 0) this.buffer = EMPTY;
    return messages;
  }

  private consume(total: number): void {
    this.buffer = this.buffer.subarray(total);
    this.pending = undefined;
  }

  private fail(error: SipParseError): never {
    this.failure = error;
    this.buffer = EMPTY;
    this.pending = undefined;
    throw error;
  }
}

/** Writes the message with CRLF line ends and a Content-Length that matches the body, whatever the headers said. */
export function serializeMessage(message: SipMessage): Buffer {
  const lines: string[] = [
    message.kind === 'request' ? `${message.method} ${message.uri} SIP/2.0` : `SIP/2.0 ${message.status} ${message.reason}`,
  ];
  let wroteLength = false;
  for (const [name, value] of message.headers.entries()) {
    if (name === 'Content-Length') {
      if (!wroteLength) lines.push(`Content-Length: ${message.body.length}`);
      wroteLength = true;
      continue;
    }
    lines.push(`${name}: ${value}`);
  }
  if (!wroteLength) lines.push(`Content-Length: ${message.body.length}`);
  lines.push('', '');
  const head = lines.join('\r\n');
  if (message.body.length === 0) return Buffer.from(head, 'utf8');
  const headLength = Buffer.byteLength(head, 'utf8');
  const out = Buffer.allocUnsafe(headLength + message.body.length);
  out.write(head, 0, 'utf8');
  message.body.copy(out, headLength);
  return out;
}

/**
 * A response to `request` (RFC 3261 §8.2.6): the Via headers in order, From, To (with our tag added when
 * it has none), Call-ID and CSeq, then `options.headers`. The reason defaults from REASON_PHRASES.
 */
export function createResponse(
  request: SipRequest,
  status: number,
  reason?: string,
  options: { toTag?: string; headers?: Array<[string, string]>; body?: Buffer; contentType?: string } = {},
): SipResponse {
  const headers = new SipHeaders();
  for (const via of request.headers.getRaw('Via')) headers.append('Via', via);
  const from = request.headers.getRaw('From')[0];
  if (from !== undefined) headers.append('From', from);
  const to = request.headers.getRaw('To')[0];
  if (to !== undefined) headers.append('To', options.toTag && !hasTag(to) ? `${to};tag=${options.toTag}` : to);
  for (const name of ['Call-ID', 'CSeq']) {
    const value = request.headers.getRaw(name)[0];
    if (value !== undefined) headers.append(name, value);
  }
  for (const [name, value] of options.headers ?? []) headers.append(name, value);
  const body = options.body ?? EMPTY;
  if (options.contentType) headers.set('Content-Type', options.contentType);
  headers.set('Content-Length', `${body.length}`);
  return { kind: 'response', status, reason: reason ?? reasonPhrase(status), headers, body };
}

function hasTag(to: string): boolean {
  try {
    return parseNameAddr(to).params.tag !== undefined;
  } catch {
    // A To we cannot parse (answering a malformed request) gets no tag rather than a second one.
    return true;
  }
}
