/**
 * Malformed SIP for the soak, written here as an attacker or a broken device would send it: random
 * mutations of real messages (JsSIP's, server/sip/fixtures, and a desk phone's), garbage, truncated and
 * oversized datagrams, header bombs like the parser's pathological cases, malformed responses, and requests
 * whose top Via sends the answer somewhere odd (another address through received= or maddr=, the other
 * address family, no branch, a port out of range). And the known killer: a Via naming port 0 without rport.
 *
 * Everything stays on loopback. A mutated message gets a well-formed top Via naming its sender (with rport),
 * so whatever the PBX answers comes back to the soak, never to an address the mutation made up; the odd
 * Vias name only loopback addresses: the sender, or a "victim" socket of the soak that counts what reaches
 * it (a response there was aimed at a third party).
 */
import { ALL_JSSIP_MESSAGES } from '../server/sip/syntax/fixtures/jssip-messages';
import { DOMAIN } from './soak-context';

export interface Origin {
  address: string;
  port: number;
}

export interface HostilePacket {
  /** What it is, for the table: the traffic kind it is counted under. */
  kind: string;
  data: Buffer;
}

/** Kinds by a short code carried in the branch, so the PBX's answers can be counted by what caused them. */
export const MALFORMED_KINDS = {
  fz: 'malformed: fuzzed message',
  gb: 'malformed: garbage',
  tr: 'malformed: truncated',
  ov: 'malformed: oversized datagram (64 KB)',
  vi: 'malformed: odd top Via',
  rs: 'malformed: malformed response',
  pb: 'malformed: header bomb',
  k0: 'killer: Via port 0, no rport',
} as const;
export type MalformedCode = keyof typeof MALFORMED_KINDS;

/** The kind a response was for, from the branch the PBX echoed back. */
export function kindOfResponse(text: string): string | undefined {
  const code = /branch=z9hG4bKsoak([a-z0-9]{2})/i.exec(text)?.[1]?.toLowerCase();
  return code && code in MALFORMED_KINDS ? MALFORMED_KINDS[code as MalformedCode] : undefined;
}

/** Bytes that matter to SIP's grammar, so that mutations reach the parser's edge cases more often than random octets. */
const TOKENS = Buffer.from(' \t\r\n:;,="<>\\@%/?[]*0123456789\x00\xff');
const MAX_DATAGRAM = 65_000;
const METHODS = ['REGISTER', 'INVITE', 'OPTIONS', 'MESSAGE', 'SUBSCRIBE', 'BYE', 'CANCEL', 'ACK', 'NOTIFY', 'REFER'] as const;

function deskRequest(method: string, body = ''): string {
  return [
    `${method} sip:2001@${DOMAIN} SIP/2.0`,
    'Via: SIP/2.0/UDP 127.9.0.1:5060;branch=z9hG4bKdesk1;rport',
    'Max-Forwards: 70',
    `From: "Desk" <sip:2001@${DOMAIN}>;tag=a1b2`,
    `To: <sip:2002@${DOMAIN}>`,
    'Call-ID: 7f3e9d@127.9.0.1',
    `CSeq: 1 ${method}`,
    'Contact: <sip:2001@127.9.0.1:5060>',
    'Expires: 600',
    ...(body ? ['Content-Type: application/sdp'] : []),
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ].join('\r\n');
}

const SDP = ['v=0', 'o=d 1 1 IN IP4 127.9.0.1', 's=-', 'c=IN IP4 127.9.0.1', 't=0 0', 'm=audio 4000 RTP/AVP 0', 'a=rtpmap:0 PCMU/8000', ''].join('\r\n');

/** Every IPv4 literal off loopback becomes the victim's, so nothing a seed names lies off this machine. */
function loopbackOnly(text: string): string {
  return text.replace(/\b(?!127\.)\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b/g, '127.9.0.1');
}

const SEEDS: readonly Buffer[] = [
  ...Object.values(ALL_JSSIP_MESSAGES),
  deskRequest('REGISTER'),
  deskRequest('INVITE', SDP),
  deskRequest('MESSAGE', 'hello'),
  deskRequest('SUBSCRIBE'),
  deskRequest('OPTIONS'),
].map((text) => Buffer.from(loopbackOnly(text)));

export class MalformedFactory {
  private n = 0;

  constructor(
    /** A loopback socket of the soak that counts what the PBX sends it. */
    private readonly victim: Origin,
    private readonly random: () => number = Math.random,
  ) {}

  /** A malformed packet from `origin`, of a kind drawn by weight. */
  next(origin: Origin, transport: 'UDP' | 'TCP' = 'UDP'): HostilePacket {
    const roll = this.random();
    if (roll < 0.4) return this.fuzzed(origin, transport);
    if (roll < 0.5) return { kind: MALFORMED_KINDS.gb, data: this.garbage() };
    if (roll < 0.6) return this.truncated(origin, transport);
    if (roll < 0.63 && transport === 'UDP') return this.oversized(origin);
    if (roll < 0.85 && transport === 'UDP') return this.oddVia(origin);
    if (roll < 0.93) return this.response(origin, transport);
    return this.bomb(origin, transport);
  }

  /** RFC 3261 §18.2.2 sends the answer to the Via's port: 0 here, with no rport to correct it. */
  killer(origin: Origin): HostilePacket {
    const method = (['REGISTER', 'INVITE', 'MESSAGE', 'SUBSCRIBE'] as const)[this.n % 4] ?? 'REGISTER';
    const text = this.request(method, `SIP/2.0/UDP ${origin.address}:0;branch=${this.branch('k0')}`, method === 'INVITE' ? SDP : '');
    return { kind: MALFORMED_KINDS.k0, data: Buffer.from(text) };
  }

  private branch(code: MalformedCode): string {
    return `z9hG4bKsoak${code}${(this.n++).toString(36)}`;
  }

  private pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.random() * items.length)] as T;
  }

  /** A well-formed top Via for `origin` and a harmless header after it (a folded line in the rest attaches there). */
  private safeTop(origin: Origin, transport: 'UDP' | 'TCP', code: MalformedCode): string {
    return `Via: SIP/2.0/${transport} ${origin.address}:${origin.port};branch=${this.branch(code)};rport\r\nX-Soak: ${code}\r\n`;
  }

  private withSafeTop(message: Buffer, origin: Origin, transport: 'UDP' | 'TCP', code: MalformedCode): Buffer {
    const end = message.indexOf('\n');
    const top = Buffer.from(this.safeTop(origin, transport, code));
    if (end < 0) return Buffer.concat([message, Buffer.from('\r\n'), top]);
    return Buffer.concat([message.subarray(0, end + 1), top, message.subarray(end + 1)]);
  }

  private request(method: string, via: string, body = '', extra: string[] = []): string {
    const n = this.n++;
    return [
      `${method} sip:${DOMAIN} SIP/2.0`,
      `Via: ${via}`,
      'Max-Forwards: 70',
      `From: <sip:2001@${DOMAIN}>;tag=s${n}`,
      `To: <sip:2001@${DOMAIN}>`,
      `Call-ID: soak-${n}@127.9.0.1`,
      `CSeq: 1 ${method}`,
      ...extra,
      ...(body ? ['Content-Type: application/sdp'] : []),
      `Content-Length: ${Buffer.byteLength(body)}`,
      '',
      body,
    ].join('\r\n');
  }

  private token(): number {
    return this.random() < 0.7 ? (TOKENS[Math.floor(this.random() * TOKENS.length)] ?? 0) : Math.floor(this.random() * 256);
  }

  private mutate(input: Buffer): Buffer {
    let out = input;
    const rounds = 1 + Math.floor(this.random() * 4);
    for (let r = 0; r < rounds; r++) {
      const at = Math.floor(this.random() * out.length);
      switch (Math.floor(this.random() * 6)) {
        case 0:
          out = Buffer.from(out);
          out[at] = this.token();
          break;
        case 1:
          out = Buffer.concat([out.subarray(0, at), out.subarray(at + 1 + Math.floor(this.random() * 16))]);
          break;
        case 2:
          out = Buffer.concat([out.subarray(0, at), Buffer.from(Array.from({ length: 1 + Math.floor(this.random() * 8) }, () => this.token())), out.subarray(at)]);
          break;
        case 3:
          out = Buffer.concat([out.subarray(0, at + Math.floor(this.random() * 64)), out.subarray(at)]);
          break;
        case 4:
          out = Buffer.from(out.toString('latin1').replace(/Content-Length:\s*\d+/i, `Content-Length: ${this.pick(['0', '-1', '99999999', '1e3', '', String(at)])}`), 'latin1');
          break;
        default: {
          const lines = out.toString('latin1').split('\r\n');
          const a = Math.floor(this.random() * lines.length);
          const b = Math.floor(this.random() * lines.length);
          [lines[a], lines[b]] = [lines[b] ?? '', lines[a] ?? ''];
          out = Buffer.from(lines.join('\r\n'), 'latin1');
        }
      }
    }
    return out;
  }

  private fuzzed(origin: Origin, transport: 'UDP' | 'TCP'): HostilePacket {
    const data = this.withSafeTop(this.mutate(this.pick(SEEDS)), origin, transport, 'fz');
    return { kind: MALFORMED_KINDS.fz, data: data.subarray(0, MAX_DATAGRAM) };
  }

  private garbage(): Buffer {
    const length = 1 + Math.floor(this.random() * 1400);
    if (this.random() < 0.5) return Buffer.from(Array.from({ length }, () => Math.floor(this.random() * 256)));
    return Buffer.from(Array.from({ length }, () => String.fromCharCode(32 + Math.floor(this.random() * 95))).join(''));
  }

  /** A whole request cut short after its top Via (so the cut never makes up where an answer goes). */
  private truncated(origin: Origin, transport: 'UDP' | 'TCP'): HostilePacket {
    const method = this.pick(METHODS);
    const via = `SIP/2.0/${transport} ${origin.address}:${origin.port};branch=${this.branch('tr')};rport`;
    const text = Buffer.from(this.request(method, via, method === 'INVITE' ? SDP : '', ['X-Soak: tr']));
    const after = text.indexOf('X-Soak');
    return { kind: MALFORMED_KINDS.tr, data: text.subarray(0, after + Math.floor(this.random() * (text.length - after))) };
  }

  private oversized(origin: Origin): HostilePacket {
    const via = `SIP/2.0/UDP ${origin.address}:${origin.port};branch=${this.branch('ov')};rport`;
    const base = this.request('REGISTER', via, '', ['X-Soak: ov']);
    const pad = Array.from({ length: Math.floor((MAX_DATAGRAM - base.length) / 1000) }, (_, i) => `X-Pad-${i}: ${'x'.repeat(985)}`);
    return { kind: MALFORMED_KINDS.ov, data: Buffer.from(this.request('REGISTER', via, '', ['X-Soak: ov', ...pad])) };
  }

  private oddVia(origin: Origin): HostilePacket {
    const v = this.victim;
    const o = `${origin.address}:${origin.port}`;
    const b = this.branch('vi');
    const vias = [
      `SIP/2.0/UDP ${origin.address}:${v.port};received=${v.address};branch=${b}`,
      `SIP/2.0/UDP ${origin.address}:${v.port};maddr=${v.address};branch=${b}`,
      `SIP/2.0/UDP ${origin.address}:${v.port};maddr=${v.address};received=${v.address};ttl=1;branch=${b}`,
      `SIP/2.0/UDP ${v.address}:${v.port};branch=${b}`,
      `SIP/2.0/UDP ${origin.address}:${v.port};received=${v.address};rport;branch=${b}`,
      `SIP/2.0/UDP [::1]:${origin.port};branch=${b}`,
      `SIP/2.0/TCP ${o};branch=${b}`,
      `SIP/2.0/SCTP ${o};branch=${b}`,
      `SIP/2.0/UDP ${o}`,
      `SIP/2.0/UDP ${o};branch=1234`,
      `SIP/2.0/UDP ${origin.address}:99999;branch=${b}`,
      `SIP/2.0/UDP ${o};rport=0;branch=${b}`,
      `SIP/2.0/UDP ${o};received=;branch=${b}`,
      `SIP/2.0/UDP ${origin.address};branch=${b};rport`,
      `SIP/2.0/UDP 0.0.0.0:${origin.port};branch=${b}`,
      `SIP/2.0/UDP ${o};branch=${b};rport, SIP/2.0/UDP ${v.address}:${v.port};branch=z9hG4bKsecond`,
    ];
    const method = this.pick(['REGISTER', 'INVITE', 'OPTIONS', 'MESSAGE', 'SUBSCRIBE'] as const);
    return { kind: MALFORMED_KINDS.vi, data: Buffer.from(this.request(method, this.pick(vias), method === 'INVITE' ? SDP : '')) };
  }

  private response(origin: Origin, transport: 'UDP' | 'TCP'): HostilePacket {
    const top = this.safeTop(origin, transport, 'rs');
    const variants = [
      `SIP/2.0 200 OK\r\n${top}From: <sip:a@${DOMAIN}>;tag=1\r\nTo: <sip:b@${DOMAIN}>\r\nCall-ID: x\r\nContent-Length: 0\r\n\r\n`,
      `SIP/2.0 999 Whatever\r\n${top}CSeq: one INVITE\r\nContent-Length: 0\r\n\r\n`,
      `SIP/2.0 abc\r\n${top}\r\n`,
      `SIP/2.0 180 Ringing\r\n${top}From: <sip:a@${DOMAIN}>;tag=1\r\nTo: <sip:b@${DOMAIN}>;tag=2\r\nCall-ID: no-such-call\r\nCSeq: 1 INVITE\r\nContent-Length: 5\r\n\r\n`,
    ];
    return { kind: MALFORMED_KINDS.rs, data: Buffer.from(this.pick(variants)) };
  }

  /** The parser's pathological inputs (server/sip/syntax/fuzz.test.ts), each within a datagram. */
  private bomb(origin: Origin, transport: 'UDP' | 'TCP'): HostilePacket {
    const top = this.safeTop(origin, transport, 'pb');
    const start = `OPTIONS sip:${DOMAIN} SIP/2.0\r\n${top}`;
    const variants = [
      () => `${start}To: ${'"\\'.repeat(15_000)}\r\nContact: ${'<'.repeat(20_000)}\r\n\r\n`,
      () => `${start}Via: ${'SIP/2.0/UDP a;'.repeat(4_000)}\r\n\r\n`,
      () => `${start}${' x\r\n'.repeat(15_000)}\r\n`,
      () => `${start}${Array.from({ length: 3_000 }, (_, i) => `X-H${i}: v`).join('\r\n')}\r\n\r\n`,
      () => `${'\n'.repeat(60_000)}x`,
      () => `${start}Authorization: Digest ${Array.from({ length: 2_000 }, (_, i) => `p${i}="${'a'.repeat(10)}"`).join(',')}\r\n\r\n`,
    ];
    return { kind: MALFORMED_KINDS.pb, data: Buffer.from(this.pick(variants)()).subarray(0, MAX_DATAGRAM) };
  }
}
