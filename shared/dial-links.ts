/**
 * tel:, sip:, sips: and callto: links (RFC 3966, RFC 3261 §19.1) turned into what the app dials. Pure, so the
 * desktop main process (links from the OS and the command line) and the renderer share one reading.
 */
export const LINK_SCHEMES = ['tel', 'sip', 'sips', 'callto'] as const;

export interface DialLink {
  /** What to dial: a phone number (digits, *, #, leading +) or a SIP address (user@host). */
  target: string;
  scheme: (typeof LINK_SCHEMES)[number];
}

const MAX_LINK_LENGTH = 512;

/** Returns undefined for anything that is not a well-formed link we can dial. */
export function parseDialLink(text: string): DialLink | undefined {
  const trimmed = text.trim();
  if (trimmed.length === 0 || trimmed.length > MAX_LINK_LENGTH) return undefined;
  const match = /^([a-z]+):(.*)$/i.exec(trimmed);
  if (!match) return undefined;
  const scheme = (match[1] ?? '').toLowerCase();
  let rest = match[2] ?? '';
  if (!(LINK_SCHEMES as readonly string[]).includes(scheme)) return undefined;
  try {
    rest = decodeURIComponent(rest);
  } catch {
    return undefined;
  }
  // Control characters, quotes and angle brackets have no place in a dialled link.
  for (const char of rest) if (char.charCodeAt(0) < 0x20 || char === '<' || char === '>' || char === '"') return undefined;

  if (scheme === 'tel' || scheme === 'callto') {
    // callto://+15551234567 and callto:+15551234567 are both seen in the wild.
    const body = rest.replace(/^\/\//, '').split(/[;?]/, 1)[0] ?? '';
    const number = phoneNumber(body);
    return number ? { target: number, scheme } : undefined;
  }
  // sip:user@host;params?headers: keep user@host, drop parameters and headers.
  const address = rest.split(/[;?]/, 1)[0] ?? '';
  const at = address.lastIndexOf('@');
  const user = at >= 0 ? address.slice(0, at) : address;
  const host = at >= 0 ? address.slice(at + 1) : '';
  if (!user || !/^[A-Za-z0-9._~!$&'()*+,=%-]+$/.test(user)) return undefined;
  if (host && !/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$/.test(host)) return undefined;
  const number = phoneNumber(user);
  return { target: number ?? (host ? `${user}@${host}` : user), scheme: scheme as DialLink['scheme'] };
}

/** The first dialable link among command-line arguments (`offhook tel:+15551234567`). */
export function findDialLink(argv: readonly string[]): DialLink | undefined {
  for (const arg of argv) {
    const link = parseDialLink(arg);
    if (link) return link;
  }
  return undefined;
}

/** Digits, *, # and a leading +, with visual separators (RFC 3966 §5.1.1) removed. */
function phoneNumber(text: string): string | undefined {
  const stripped = text.replace(/[\s().-]/g, '');
  return /^\+?[0-9*#]{2,32}$/.test(stripped) ? stripped : undefined;
}
