/**
 * A plain SIP desk phone over UDP for tests: one socket for SIP, one for RTP/AVP (G.711), both on loopback.
 * It registers with digest authentication, places and answers calls, and writes every message as SIP text,
 * so a test sees what crosses the wire. Its RTP socket records every payload it receives.
 */
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import type { Socket } from 'node:dgram';
import { RtpHeader, RtpPacket } from 'werift';
import { parseSip } from './sip-phone';
import type { PhoneDialog, SipText } from './sip-phone';
import { digestAuthorization } from './sip-ws-client';

const random = (bytes: number) => randomBytes(bytes).toString('hex');

function tagOf(value: string | undefined): string | undefined {
  return /;\s*tag=([^;>\s]+)/i.exec(value ?? '')?.[1];
}

function uriOf(value: string | undefined): string {
  return /<([^>]+)>/.exec(value ?? '')?.[1] ?? (value ?? '').split(';')[0]?.trim() ?? '';
}

async function bound(): Promise<Socket> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  return socket;
}

/** Where an SDP's audio goes: its c= address and m=audio port. */
export function audioDestination(sdp: string): { address: string; port: number; protocol: string; formats: string[] } {
  const media = /^m=audio (\d+) (\S+) (.*)$/m.exec(sdp);
  const address = /^c=IN IP4 (\S+)$/m.exec(sdp)?.[1] ?? '';
  return { address, port: Number(media?.[1] ?? 0), protocol: media?.[2] ?? '', formats: (media?.[3] ?? '').trim().split(/\s+/) };
}

export class UdpDeskPhone {
  private readonly inbox: SipText[] = [];
  private readonly waiters: Array<{ match: (m: SipText) => boolean; resolve: (m: SipText) => void }> = [];
  /** Payloads of the PCMU packets that reached the phone's RTP socket. */
  readonly heard: Buffer[] = [];
  readonly domain: string;

  private constructor(
    private readonly sip: Socket,
    private readonly rtp: Socket,
    private readonly pbxPort: number,
    readonly extension: string,
    domain: string,
  ) {
    this.domain = domain;
    sip.on('message', (data) => {
      const message = parseSip(data.toString('utf8'));
      const at = this.waiters.findIndex((w) => w.match(message));
      if (at >= 0) this.waiters.splice(at, 1)[0]?.resolve(message);
      else this.inbox.push(message);
    });
    rtp.on('message', (data) => {
      const packet = RtpPacket.deSerialize(data);
      if (packet.header.payloadType === 0) this.heard.push(packet.payload);
    });
  }

  static async start(pbxPort: number, extension: string, domain: string): Promise<UdpDeskPhone> {
    return new UdpDeskPhone(await bound(), await bound(), pbxPort, extension, domain);
  }

  /** A desk phone that has registered with its SIP password; fails unless the PBX took the registration. */
  static async registered(pbxPort: number, extension: string, domain: string, password: string): Promise<UdpDeskPhone> {
    const desk = await UdpDeskPhone.start(pbxPort, extension, domain);
    const answer = await desk.register(password);
    if (answer.status !== 200) {
      desk.close();
      throw new Error(`desk phone ${extension}: REGISTER got ${answer.status} ${answer.reason}`);
    }
    return desk;
  }

  get sipPort(): number {
    return this.sip.address().port;
  }

  get rtpPort(): number {
    return this.rtp.address().port;
  }

  get contact(): string {
    return `<sip:${this.extension}@127.0.0.1:${this.sipPort}>`;
  }

  /** REGISTER, the 401 challenge answered with MD5 digest, and the final response. */
  async register(password: string, extraHeaders: Record<string, string> = {}): Promise<SipText> {
    const aor = `<sip:${this.extension}@${this.domain}>`;
    const base = { 'From': `${aor};tag=${random(4)}`, 'To': aor, 'Call-ID': `${random(8)}@127.0.0.1`, 'Contact': this.contact, 'Expires': '600', ...extraHeaders };
    this.send('REGISTER', `sip:${this.domain}`, { ...base, CSeq: '1 REGISTER' });
    const challenge = await this.response('REGISTER', 8_000, 1);
    if (challenge.status !== 401) return challenge;
    const authorization = digestAuthorization({ challenge: challenge.header('WWW-Authenticate') ?? '', method: 'REGISTER', uri: `sip:${this.domain}`, username: this.extension, password });
    this.send('REGISTER', `sip:${this.domain}`, { ...base, 'CSeq': '2 REGISTER', 'Authorization': authorization });
    return this.response('REGISTER', 8_000, 2);
  }

  /** A G.711 offer (or answer) for the phone's RTP socket, with telephone-event. */
  sdp(direction: 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive' = 'sendrecv'): string {
    return [
      'v=0',
      `o=deskphone ${Date.now()} 1 IN IP4 127.0.0.1`,
      's=-',
      'c=IN IP4 127.0.0.1',
      't=0 0',
      `m=audio ${this.rtpPort} RTP/AVP 0 101`,
      'a=rtpmap:0 PCMU/8000',
      'a=rtpmap:101 telephone-event/8000',
      'a=fmtp:101 0-15',
      'a=ptime:20',
      `a=${direction}`,
      '',
    ].join('\r\n');
  }

  /**
   * Places a call: INVITE (with any `extra` headers, such as Replaces), the 407 answered, the final response
   * acknowledged. With `offer` empty the INVITE carries no SDP (a delayed offer), and the ACK for a 2xx
   * carries what `answer` makes of the offer in it.
   */
  async invite(
    target: string,
    password: string,
    extra: Record<string, string> = {},
    offer = this.sdp(),
    answer?: (offerInOk: string) => string,
  ): Promise<{ final: SipText; dialog: PhoneDialog }> {
    const callId = `${random(8)}@127.0.0.1`;
    const localTag = random(4);
    const local = `<sip:${this.extension}@${this.domain}>;tag=${localTag}`;
    const requestUri = `sip:${target}@${this.domain}`;
    const headers = { 'From': local, 'To': `<${requestUri}>`, 'Call-ID': callId, 'Contact': this.contact, ...extra };
    const first = this.send('INVITE', requestUri, { ...headers, CSeq: '1 INVITE' }, offer);
    const challenge = await this.response('INVITE', 8_000, 1);
    if (challenge.status !== 407) throw new Error(`expected 407, got ${challenge.status}`);
    // RFC 3261 §17.1.1.3: the ACK for a non-2xx final response is part of the INVITE transaction (same branch).
    this.send('ACK', requestUri, { ...headers, 'To': challenge.header('To') ?? '', 'CSeq': '1 ACK' }, '', first);
    const authorization = digestAuthorization({ challenge: challenge.header('Proxy-Authenticate') ?? '', method: 'INVITE', uri: requestUri, username: this.extension, password });
    const second = this.send('INVITE', requestUri, { ...headers, 'CSeq': '2 INVITE', 'Proxy-Authorization': authorization }, offer);
    const final = await this.response('INVITE', 15_000, 2);
    const dialog: PhoneDialog = {
      callId,
      localTag,
      remoteTag: tagOf(final.header('To')) ?? '',
      local,
      remote: final.header('To') ?? '',
      remoteTarget: uriOf(final.header('Contact')) || requestUri,
      cseq: 2,
    };
    const ack = { 'From': local, 'To': final.header('To') ?? '', 'Call-ID': callId, 'CSeq': '2 ACK' };
    // A 2xx is acknowledged in the dialog (its own branch, to the remote target), anything else in the transaction.
    if (final.status < 300) this.send('ACK', dialog.remoteTarget, ack, answer ? answer(final.body) : '');
    else this.send('ACK', requestUri, ack, '', second);
    return { final, dialog };
  }

  /** Answers an INVITE from the PBX with 200 and the phone's SDP. */
  answer(invite: SipText): PhoneDialog {
    const localTag = random(4);
    this.reply(invite, 200, 'OK', { toTag: localTag, headers: { Contact: this.contact }, body: this.sdp() });
    const to = invite.header('To') ?? '';
    return {
      callId: invite.header('Call-ID') ?? '',
      localTag,
      remoteTag: tagOf(invite.header('From')) ?? '',
      local: `${to};tag=${localTag}`,
      remote: invite.header('From') ?? '',
      remoteTarget: uriOf(invite.header('Contact')),
      cseq: 0,
    };
  }

  /**
   * A re-INVITE in the dialog with a new direction (sendonly holds the call), or with the SDP given,
   * acknowledged; returns its answer.
   */
  async reinvite(dialog: PhoneDialog, direction: 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive', sdp = this.sdp(direction)): Promise<SipText> {
    dialog.cseq += 1;
    const headers = { 'From': dialog.local, 'To': dialog.remote, 'Call-ID': dialog.callId, 'Contact': this.contact };
    const branch = this.send('INVITE', dialog.remoteTarget, { ...headers, CSeq: `${dialog.cseq} INVITE` }, sdp);
    const final = await this.response('INVITE', 8_000, dialog.cseq);
    // A 2xx is acknowledged in the dialog, a failure in the INVITE's transaction (RFC 3261 §17.1.1.3).
    if (final.status < 300) this.send('ACK', dialog.remoteTarget, { ...headers, CSeq: `${dialog.cseq} ACK` });
    else this.send('ACK', dialog.remoteTarget, { ...headers, 'To': final.header('To') ?? dialog.remote, 'CSeq': `${dialog.cseq} ACK` }, '', branch);
    return final;
  }

  /** A request outside any dialog, with the 407 challenge answered; returns the final response. */
  async authenticated(method: string, target: string, password: string, extra: Record<string, string>): Promise<SipText> {
    const requestUri = `sip:${target}@${this.domain}`;
    const headers = { 'From': `<sip:${this.extension}@${this.domain}>;tag=${random(4)}`, 'To': `<${requestUri}>`, 'Call-ID': `${random(8)}@127.0.0.1`, 'Contact': this.contact, ...extra };
    this.send(method, requestUri, { ...headers, CSeq: `1 ${method}` });
    const challenge = await this.response(method, 8_000, 1);
    if (challenge.status !== 407) return challenge;
    const authorization = digestAuthorization({ challenge: challenge.header('Proxy-Authenticate') ?? '', method, uri: requestUri, username: this.extension, password });
    this.send(method, requestUri, { ...headers, 'CSeq': `2 ${method}`, 'Proxy-Authorization': authorization });
    return this.response(method, 8_000, 2);
  }

  bye(dialog: PhoneDialog): void {
    dialog.cseq += 1;
    this.send('BYE', dialog.remoteTarget, { 'From': dialog.local, 'To': dialog.remote, 'Call-ID': dialog.callId, 'CSeq': `${dialog.cseq} BYE` });
  }

  /** Sends a PCMU packet of 160 bytes of `fill` to an RTP destination. */
  sendAudio(fill: number, seq: number, to: { address: string; port: number }): void {
    const packet = new RtpPacket(new RtpHeader({ payloadType: 0, sequenceNumber: seq, timestamp: seq * 160, ssrc: 0xdeca }), Buffer.alloc(160, fill));
    this.rtp.send(packet.serialize(), to.port, to.address);
  }

  /** Sends one PCMU packet with `payload` (a 20 ms frame of 160 µ-law bytes, such as a tone) to an RTP destination. */
  sendPayload(payload: Buffer, seq: number, to: { address: string; port: number }): void {
    const packet = new RtpPacket(new RtpHeader({ payloadType: 0, sequenceNumber: seq, timestamp: seq * 160, ssrc: 0xdecb }), payload);
    this.rtp.send(packet.serialize(), to.port, to.address);
  }

  next(match: (m: SipText) => boolean, timeoutMs = 8_000): Promise<SipText> {
    const at = this.inbox.findIndex(match);
    if (at >= 0) return Promise.resolve(this.inbox.splice(at, 1)[0]!);
    return new Promise((resolve, reject) => {
      const waiter = {
        match,
        resolve: (m: SipText) => {
          clearTimeout(timer);
          resolve(m);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error(`desk phone ${this.extension}: no matching SIP message within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** The next final response to `method` (with CSeq number `seq`, when given). */
  response(method: string, timeoutMs?: number, seq?: number): Promise<SipText> {
    const seqOf = (m: SipText) => Number((m.header('CSeq') ?? '').split(/\s+/)[0]);
    return this.next((m) => m.kind === 'response' && m.method === method && m.status >= 200 && (seq === undefined || seqOf(m) === seq), timeoutMs);
  }

  request(method: string, timeoutMs?: number): Promise<SipText> {
    return this.next((m) => m.kind === 'request' && m.method === method, timeoutMs);
  }

  /** Sends a request and returns its Via branch. */
  send(method: string, uri: string, headers: Record<string, string>, body = '', branch = `z9hG4bK${random(6)}`): string {
    const lines = [
      `${method} ${uri} SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${this.sipPort};branch=${branch};rport`,
      ...('Max-Forwards' in headers ? [] : ['Max-Forwards: 70']),
      ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
      ...(body && !('Content-Type' in headers) ? ['Content-Type: application/sdp'] : []),
      `Content-Length: ${Buffer.byteLength(body)}`,
      '',
      body,
    ];
    this.sip.send(lines.join('\r\n'), this.pbxPort, '127.0.0.1');
    return branch;
  }

  /** Answers a request from the PBX, echoing Via, From, To (with our tag), Call-ID and CSeq. */
  reply(request: SipText, status: number, reason: string, options: { toTag?: string; headers?: Record<string, string>; body?: string } = {}): void {
    const to = request.header('To') ?? '';
    const lines = [
      `SIP/2.0 ${status} ${reason}`,
      ...request.headers.filter(([n]) => n.toLowerCase() === 'via').map(([, v]) => `Via: ${v}`),
      `From: ${request.header('From') ?? ''}`,
      `To: ${options.toTag && !tagOf(to) ? `${to};tag=${options.toTag}` : to}`,
      `Call-ID: ${request.header('Call-ID') ?? ''}`,
      `CSeq: ${request.header('CSeq') ?? ''}`,
      ...Object.entries(options.headers ?? {}).map(([name, value]) => `${name}: ${value}`),
      ...(options.body ? ['Content-Type: application/sdp'] : []),
      `Content-Length: ${Buffer.byteLength(options.body ?? '')}`,
      '',
      options.body ?? '',
    ];
    this.sip.send(lines.join('\r\n'), this.pbxPort, '127.0.0.1');
  }

  close(): void {
    this.sip.close();
    this.rtp.close();
  }
}
