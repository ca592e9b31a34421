/**
 * A test SIP phone over WebSocket that holds dialogs: it signs in over REST, registers with digest
 * authentication, places and answers calls, and sends and answers in-dialog requests, all written as SIP
 * text so the tests check what crosses the wire. Media comes from werift peers on loopback standing in
 * for a browser.
 */
import { randomBytes } from 'node:crypto';
import { MediaStreamTrack, RTCPeerConnection, RtpHeader, RtpPacket } from 'werift';
import WebSocket from 'ws';
import type { SessionResponse } from '../../shared/api';
import { digestAuthorization } from './sip-ws-client';

export interface SipText {
  kind: 'request' | 'response';
  method: string;
  uri: string;
  status: number;
  reason: string;
  headers: Array<[string, string]>;
  body: string;
  raw: string;
  header(name: string): string | undefined;
}

export function parseSip(raw: string): SipText {
  const split = raw.indexOf('\r\n\r\n');
  const head = split < 0 ? raw : raw.slice(0, split);
  const body = split < 0 ? '' : raw.slice(split + 4);
  const [startLine = '', ...lines] = head.split('\r\n');
  const headers = lines.map((line): [string, string] => {
    const i = line.indexOf(':');
    return [line.slice(0, i).trim(), line.slice(i + 1).trim()];
  });
  const header = (name: string) => headers.find(([n]) => n.toLowerCase() === name.toLowerCase())?.[1];
  const response = /^SIP\/2\.0 (\d{3}) (.*)$/.exec(startLine);
  if (response) return { kind: 'response', method: (header('CSeq') ?? '').split(/\s+/)[1] ?? '', uri: '', status: Number(response[1]), reason: response[2] ?? '', headers, body, raw, header };
  const [method = '', uri = ''] = startLine.split(' ');
  return { kind: 'request', method, uri, status: 0, reason: '', headers, body, raw, header };
}

function tagOf(value: string | undefined): string | undefined {
  return /;\s*tag=([^;>\s]+)/i.exec(value ?? '')?.[1];
}

function uriOf(value: string | undefined): string {
  const angle = /<([^>]+)>/.exec(value ?? '');
  return angle?.[1] ?? (value ?? '').split(';')[0]?.trim() ?? '';
}

const random = (bytes: number) => randomBytes(bytes).toString('hex');

/** The phone's view of one dialog. */
export interface PhoneDialog {
  callId: string;
  localTag: string;
  remoteTag: string;
  /** From/To as this phone writes them. */
  local: string;
  remote: string;
  remoteTarget: string;
  cseq: number;
}

/** A full-ICE WebRTC peer on loopback: it offers or answers and records the first payload byte of every packet. */
export class MediaPeer {
  readonly pc = new RTCPeerConnection({ iceServers: [], iceUseIpv6: false, iceInterfaceAddresses: { udp4: '127.0.0.1' }, iceAdditionalHostAddresses: ['127.0.0.1'] });
  readonly track = new MediaStreamTrack({ kind: 'audio' });
  readonly received: number[] = [];
  /** Every payload received, whole (for audio that is decoded, such as a conference's mix). */
  readonly payloads: Buffer[] = [];

  constructor() {
    this.pc.addTransceiver(this.track, { direction: 'sendrecv' });
    this.pc.onTrack.subscribe((remote) =>
      remote.onReceiveRtp.subscribe((rtp) => {
        this.received.push(rtp.payload.readUInt8(0));
        this.payloads.push(Buffer.from(rtp.payload));
      }),
    );
  }

  async offer(): Promise<string> {
    await this.pc.setLocalDescription(await this.pc.createOffer());
    return this.gathered();
  }

  async answer(offerSdp: string): Promise<string> {
    await this.pc.setRemoteDescription({ type: 'offer', sdp: offerSdp });
    await this.pc.setLocalDescription(await this.pc.createAnswer());
    return this.gathered();
  }

  /** A new offer from this peer with the audio direction changed, as a phone does to hold or resume. */
  async reoffer(direction: 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive'): Promise<string> {
    this.pc.getTransceivers()[0]?.setDirection(direction);
    return this.offer();
  }

  async accept(answerSdp: string): Promise<void> {
    await this.pc.setRemoteDescription({ type: 'answer', sdp: answerSdp });
  }

  /** Sends one Opus packet (20 ms, 960 ticks at 48 kHz). */
  sendPayload(payload: Buffer, seq: number): void {
    this.track.writeRtp(new RtpPacket(new RtpHeader({ payloadType: 111, sequenceNumber: seq, timestamp: seq * 960, ssrc: 4321 }), payload));
  }

  send(marker: number, seq: number): void {
    this.track.writeRtp(new RtpPacket(new RtpHeader({ payloadType: 111, sequenceNumber: seq, timestamp: seq * 960, ssrc: 4321 }), Buffer.from([marker, 0, 0])));
  }

  async close(): Promise<void> {
    await this.pc.close();
  }

  private async gathered(): Promise<string> {
    while (this.pc.iceGatheringState !== 'complete') await new Promise((r) => setTimeout(r, 10));
    return this.pc.localDescription?.sdp ?? '';
  }
}

export class SipPhone {
  private readonly inbox: SipText[] = [];
  private readonly waiters: Array<{ match: (m: SipText) => boolean; resolve: (m: SipText) => void }> = [];
  readonly host = `${random(4)}.invalid`;
  /** The REST session this phone signed in with: the app's bearer token. */
  token = '';
  readonly contact: string;

  private constructor(
    private readonly socket: WebSocket,
    readonly extension: string,
    readonly domain: string,
    private readonly password: string,
  ) {
    this.contact = `<sip:${random(4)}@${this.host};transport=ws>`;
    socket.on('message', (data) => {
      const message = parseSip(data.toString());
      const at = this.waiters.findIndex((w) => w.match(message));
      if (at >= 0) this.waiters.splice(at, 1)[0]?.resolve(message);
      else this.inbox.push(message);
    });
  }

  /** Signs in over REST and registers this phone over a real WebSocket. */
  static async register(httpUrl: string, wsUrl: string, extension: string, password: string): Promise<SipPhone> {
    const response = await fetch(`${httpUrl}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ extension, password }),
    });
    const session = (await response.json()) as SessionResponse;
    const socket = new WebSocket(wsUrl, 'sip');
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    const phone = new SipPhone(socket, extension, session.sip.realm, session.sip.password);
    phone.token = session.token;
    const callId = random(8);
    const aor = `<sip:${extension}@${phone.domain}>`;
    const base = { 'To': aor, 'From': `${aor};tag=${random(4)}`, 'Call-ID': callId, 'Contact': phone.contact, 'Expires': '600' };
    phone.sendRequest('REGISTER', `sip:${phone.domain}`, { ...base, CSeq: '1 REGISTER' });
    const challenge = await phone.response('REGISTER');
    const authorization = digestAuthorization({ challenge: challenge.header('WWW-Authenticate') ?? '', method: 'REGISTER', uri: `sip:${phone.domain}`, username: extension, password: phone.password });
    phone.sendRequest('REGISTER', `sip:${phone.domain}`, { ...base, 'CSeq': '2 REGISTER', 'Authorization': authorization });
    const ok = await phone.response('REGISTER');
    if (ok.status !== 200) throw new Error(`registration failed: ${ok.status}`);
    return phone;
  }

  get uri(): string {
    return `sip:${this.extension}@${this.domain}`;
  }

  /** The next message that matches, waiting up to `timeoutMs`. */
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
        reject(new Error(`${this.extension}: no matching SIP message within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** The next final (or, with `provisional`, any non-100) response to `method`. */
  response(method: string, options: { provisional?: boolean; timeoutMs?: number } = {}): Promise<SipText> {
    return this.next((m) => m.kind === 'response' && m.method === method && m.status !== 100 && (options.provisional || m.status >= 200), options.timeoutMs);
  }

  request(method: string, timeoutMs?: number): Promise<SipText> {
    return this.next((m) => m.kind === 'request' && m.method === method, timeoutMs);
  }

  /** True if nothing matching arrives within `ms`. */
  async quietFor(ms: number, match: (m: SipText) => boolean): Promise<boolean> {
    try {
      await this.next(match, ms);
      return false;
    } catch {
      return true;
    }
  }

  sendRequest(method: string, uri: string, headers: Record<string, string>, body = '', contentType = 'application/sdp'): void {
    const lines = [
      `${method} ${uri} SIP/2.0`,
      `Via: SIP/2.0/WSS ${this.host};branch=z9hG4bK${random(6)}`,
      'Max-Forwards: 70',
      ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
      ...(body ? [`Content-Type: ${contentType}`] : []),
      `Content-Length: ${Buffer.byteLength(body)}`,
      '',
      body,
    ];
    this.socket.send(lines.join('\r\n'));
  }

  /** Answers a request received from the PBX, echoing its Via, From, To (with our tag), Call-ID and CSeq. */
  reply(request: SipText, status: number, reason: string, options: { toTag?: string; headers?: Record<string, string>; body?: string; contentType?: string } = {}): void {
    const to = request.header('To') ?? '';
    const lines = [
      `SIP/2.0 ${status} ${reason}`,
      ...request.headers.filter(([n]) => n.toLowerCase() === 'via').map(([, v]) => `Via: ${v}`),
      `From: ${request.header('From') ?? ''}`,
      `To: ${options.toTag && !tagOf(to) ? `${to};tag=${options.toTag}` : to}`,
      `Call-ID: ${request.header('Call-ID') ?? ''}`,
      `CSeq: ${request.header('CSeq') ?? ''}`,
      ...Object.entries(options.headers ?? {}).map(([name, value]) => `${name}: ${value}`),
      ...(options.body ? [`Content-Type: ${options.contentType ?? 'application/sdp'}`] : []),
      `Content-Length: ${Buffer.byteLength(options.body ?? '')}`,
      '',
      options.body ?? '',
    ];
    this.socket.send(lines.join('\r\n'));
  }

  /**
   * Places a call: INVITE, the PBX's 407 challenge acknowledged and answered, then every response up to the
   * final one handed back. Returns the final response and the dialog it set up.
   */
  async invite(target: string, sdp: string, extra: Record<string, string> = {}, onProvisional?: (response: SipText) => void): Promise<{ final: SipText; provisional: SipText[]; dialog: PhoneDialog }> {
    const callId = random(8);
    const localTag = random(4);
    const local = `<${this.uri}>;tag=${localTag}`;
    const remote = `<sip:${target}@${this.domain}>`;
    const requestUri = `sip:${target}@${this.domain}`;
    const headers = { 'From': local, 'To': remote, 'Call-ID': callId, 'Contact': this.contact, 'Allow': 'INVITE, ACK, CANCEL, BYE, UPDATE, INFO, REFER, NOTIFY', ...extra };
    this.sendRequest('INVITE', requestUri, { ...headers, CSeq: '1 INVITE' }, sdp);
    const challenge = await this.response('INVITE');
    if (challenge.status !== 407) throw new Error(`expected 407, got ${challenge.status}`);
    this.sendRequest('ACK', requestUri, { 'From': local, 'To': challenge.header('To') ?? remote, 'Call-ID': callId, 'CSeq': '1 ACK' });
    const authorization = digestAuthorization({ challenge: challenge.header('Proxy-Authenticate') ?? '', method: 'INVITE', uri: requestUri, username: this.extension, password: this.password });
    this.sendRequest('INVITE', requestUri, { ...headers, 'CSeq': '2 INVITE', 'Proxy-Authorization': authorization }, sdp);
    const provisional: SipText[] = [];
    for (;;) {
      const response = await this.response('INVITE', { provisional: true, timeoutMs: 15_000 });
      if (response.status < 200) {
        provisional.push(response);
        onProvisional?.(response);
        continue;
      }
      const dialog: PhoneDialog = {
        callId,
        localTag,
        remoteTag: tagOf(response.header('To')) ?? '',
        local,
        remote: response.header('To') ?? remote,
        remoteTarget: uriOf(response.header('Contact')) || requestUri,
        cseq: 2,
      };
      if (response.status < 300) this.ack(dialog, 2);
      else this.sendRequest('ACK', requestUri, { 'From': local, 'To': response.header('To') ?? remote, 'Call-ID': callId, 'CSeq': '2 ACK' });
      return { final: response, provisional, dialog };
    }
  }

  /** Answers an INVITE from the PBX (optionally after 180 or a 183 with SDP) and returns the dialog. */
  answer(invite: SipText, sdp: string, options: { early?: 'ringing' | 'sdp'; headers?: Record<string, string> } = {}): PhoneDialog {
    const localTag = random(4);
    if (options.early === 'ringing') this.reply(invite, 180, 'Ringing', { toTag: localTag, headers: { Contact: this.contact } });
    if (options.early === 'sdp') this.reply(invite, 183, 'Session Progress', { toTag: localTag, headers: { Contact: this.contact }, body: sdp });
    this.reply(invite, 200, 'OK', { toTag: localTag, headers: { Contact: this.contact, ...options.headers }, body: sdp });
    return this.dialogFromRequest(invite, localTag);
  }

  dialogFromRequest(request: SipText, localTag: string): PhoneDialog {
    const to = request.header('To') ?? '';
    return {
      callId: request.header('Call-ID') ?? '',
      localTag,
      remoteTag: tagOf(request.header('From')) ?? '',
      local: tagOf(to) ? to : `${to};tag=${localTag}`,
      remote: request.header('From') ?? '',
      remoteTarget: uriOf(request.header('Contact')),
      cseq: 0,
    };
  }

  /** Sends an in-dialog request with the next CSeq. */
  inDialog(dialog: PhoneDialog, method: string, headers: Record<string, string> = {}, body = '', contentType?: string): number {
    dialog.cseq += 1;
    this.sendRequest(method, dialog.remoteTarget, {
      'From': dialog.local,
      'To': dialog.remote,
      'Call-ID': dialog.callId,
      'CSeq': `${dialog.cseq} ${method}`,
      'Contact': this.contact,
      ...headers,
    }, body, contentType);
    return dialog.cseq;
  }

  ack(dialog: PhoneDialog, cseq: number, body = ''): void {
    this.sendRequest('ACK', dialog.remoteTarget, { 'From': dialog.local, 'To': dialog.remote, 'Call-ID': dialog.callId, 'CSeq': `${cseq} ACK` }, body);
  }

  close(): void {
    this.socket.close();
  }
}
