/**
 * The header section of a SIP message: an ordered list of fields, looked up case-insensitively with the
 * compact forms of RFC 3261 §7.3.3 (and later RFCs) expanded, and list headers split into their elements.
 */
import { isAll, splitList, TOKEN } from './grammar';

/** Canonical spelling of the headers we know; anything else keeps the spelling it arrived with. */
const CANONICAL_NAMES = [
  'Accept', 'Accept-Contact', 'Accept-Encoding', 'Accept-Language', 'Alert-Info', 'Allow', 'Allow-Events',
  'Authentication-Info', 'Authorization', 'Call-ID', 'Call-Info', 'Contact', 'Content-Disposition',
  'Content-Encoding', 'Content-Language', 'Content-Length', 'Content-Type', 'CSeq', 'Date', 'Error-Info',
  'Event', 'Expires', 'From', 'History-Info', 'Identity', 'Identity-Info', 'In-Reply-To', 'Max-Forwards',
  'MIME-Version', 'Min-Expires', 'Min-SE', 'Organization', 'P-Asserted-Identity', 'P-Associated-URI',
  'P-Preferred-Identity', 'Path', 'Priority', 'Privacy', 'Proxy-Authenticate', 'Proxy-Authorization',
  'Proxy-Require', 'RAck', 'Reason', 'Record-Route', 'Refer-To', 'Referred-By', 'Reject-Contact', 'Replaces',
  'Reply-To', 'Request-Disposition', 'Require', 'Retry-After', 'Route', 'RSeq', 'Security-Client',
  'Security-Server', 'Security-Verify', 'Server', 'Service-Route', 'Session-Expires', 'SIP-ETag',
  'SIP-If-Match', 'Subject', 'Subscription-State', 'Supported', 'Timestamp', 'To', 'Unsupported',
  'User-Agent', 'Via', 'Warning', 'WWW-Authenticate',
];

/** Compact forms: RFC 3261 §7.3.3, RFC 3265, RFC 3515, RFC 3892, RFC 3841, RFC 4028, RFC 4474. */
const COMPACT_FORMS: Record<string, string> = {
  v: 'via', f: 'from', t: 'to', i: 'call-id', m: 'contact', l: 'content-length', c: 'content-type',
  k: 'supported', e: 'content-encoding', s: 'subject', o: 'event', r: 'refer-to', b: 'referred-by',
  x: 'session-expires', u: 'allow-events', a: 'accept-contact', j: 'reject-contact', d: 'request-disposition',
  y: 'identity', n: 'identity-info',
};

/**
 * Headers whose grammar is a comma-separated list (RFC 3261 §7.3.1), so `getAll` returns the elements.
 * The authentication headers and Date hold commas that are not list separators and are left whole.
 */
const LIST_KEYS = new Set([
  'via', 'contact', 'route', 'record-route', 'allow', 'supported', 'require', 'proxy-require', 'unsupported',
  'accept', 'accept-encoding', 'accept-language', 'allow-events', 'path', 'service-route', 'content-encoding',
  'content-language', 'in-reply-to', 'alert-info', 'call-info', 'error-info', 'warning', 'reason',
  'security-client', 'security-server', 'security-verify', 'p-associated-uri', 'p-asserted-identity',
  'p-preferred-identity', 'accept-contact', 'reject-contact', 'request-disposition', 'history-info',
]);

const CANONICAL_BY_KEY = new Map<string, string>(CANONICAL_NAMES.map((name) => [name.toLowerCase(), name]));

/**
 * The keys of the usual spellings (canonical, lower-case, compact in either case), made once: every message
 * then shares them instead of holding a lower-cased copy of each name it carries.
 */
const KEY_BY_SPELLING = new Map<string, string>();
for (const [key, name] of CANONICAL_BY_KEY) {
  KEY_BY_SPELLING.set(name, key);
  KEY_BY_SPELLING.set(key, key);
}
for (const [compact, key] of Object.entries(COMPACT_FORMS)) {
  KEY_BY_SPELLING.set(compact, key);
  KEY_BY_SPELLING.set(compact.toUpperCase(), key);
}

/** The lookup key of a header name: lower-case, compact form expanded. */
export function headerKey(name: string): string {
  const known = KEY_BY_SPELLING.get(name);
  if (known !== undefined) return known;
  const lower = name.toLowerCase();
  if (lower.length === 1) return COMPACT_FORMS[lower] ?? lower;
  return lower;
}

/** The name a header is stored and written under: canonical if known, else as it was spelled. */
export function canonicalHeaderName(name: string): string {
  return nameFor(name, headerKey(name));
}

function nameFor(name: string, key: string): string {
  return CANONICAL_BY_KEY.get(key) ?? (name.length === 1 ? key : name);
}

export function isListHeader(name: string): boolean {
  return LIST_KEYS.has(headerKey(name));
}

interface Field {
  name: string;
  key: string;
  value: string;
}

function checkValue(value: string): string {
  // A line break in a value would end the header early and let text pose as further headers.
  if (value.indexOf('\n') >= 0 || value.indexOf('\r') >= 0) throw new TypeError('SIP header value contains a line break');
  return value;
}

function field(name: string, value: string): Field {
  if (!isAll(name, TOKEN)) throw new TypeError(`Invalid SIP header name: ${JSON.stringify(name)}`);
  const key = headerKey(name);
  return { name: nameFor(name, key), key, value: checkValue(value) };
}

export class SipHeaders {
  private fields: Field[] = [];

  constructor(entries?: Iterable<readonly [string, string]>) {
    if (entries) for (const [name, value] of entries) this.fields.push(field(name, value));
  }

  /** For the message parser, which has already checked the name and unfolded the value. */
  appendParsed(name: string, value: string): void {
    const key = headerKey(name);
    this.fields.push({ name: nameFor(name, key), key, value });
  }

  /** The first value; for a list header, the first element of the list. */
  get(name: string): string | undefined {
    const key = headerKey(name);
    const list = LIST_KEYS.has(key);
    let found: string | undefined;
    for (const f of this.fields) {
      if (f.key !== key) continue;
      if (!list) return f.value;
      if (f.value.indexOf(',') < 0) {
        if (f.value !== '') return f.value;
      } else {
        for (const element of splitList(f.value)) if (element !== '') return element;
      }
      found = '';
    }
    return found;
  }

  /** Every value; list headers are split into their elements and empty elements dropped. */
  getAll(name: string): string[] {
    const key = headerKey(name);
    const list = LIST_KEYS.has(key);
    const out: string[] = [];
    for (const f of this.fields) {
      if (f.key !== key) continue;
      if (!list) out.push(f.value);
      else if (f.value.indexOf(',') < 0) {
        if (f.value !== '') out.push(f.value);
      } else {
        for (const element of splitList(f.value)) if (element !== '') out.push(element);
      }
    }
    return out;
  }

  /** Every field value as it arrived, one per header line, lists unsplit. */
  getRaw(name: string): string[] {
    const key = headerKey(name);
    const out: string[] = [];
    for (const f of this.fields) if (f.key === key) out.push(f.value);
    return out;
  }

  has(name: string): boolean {
    const key = headerKey(name);
    for (const f of this.fields) if (f.key === key) return true;
    return false;
  }

  /** How many header lines carry this name (list elements within one line count once). */
  count(name: string): number {
    const key = headerKey(name);
    let n = 0;
    for (const f of this.fields) if (f.key === key) n++;
    return n;
  }

  /** Replaces every field of this name with one, where the first of them was (or at the end). */
  set(name: string, value: string): void {
    const next = field(name, value);
    const at = this.fields.findIndex((f) => f.key === next.key);
    if (at < 0) {
      this.fields.push(next);
      return;
    }
    this.fields = this.fields.filter((f, i) => i < at || f.key !== next.key);
    this.fields.splice(at, 0, next);
  }

  append(name: string, value: string): void {
    this.fields.push(field(name, value));
  }

  /** Adds a field before the others of its name (a new top Via); first in the message if there are none. */
  prepend(name: string, value: string): void {
    const next = field(name, value);
    const at = this.fields.findIndex((f) => f.key === next.key);
    this.fields.splice(at < 0 ? 0 : at, 0, next);
  }

  remove(name: string): void {
    const key = headerKey(name);
    this.fields = this.fields.filter((f) => f.key !== key);
  }

  entries(): Array<[string, string]> {
    return this.fields.map((f) => [f.name, f.value]);
  }

  clone(): SipHeaders {
    const copy = new SipHeaders();
    copy.fields = this.fields.map((f) => ({ ...f }));
    return copy;
  }

  get size(): number {
    return this.fields.length;
  }
}
