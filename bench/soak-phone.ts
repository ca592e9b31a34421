/**
 * A SIP user agent for the soak, over any wire (soak-wire.ts): it registers with digest authentication,
 * places calls and answers them (with G.711 media when it has an RTP socket), sends and receives MESSAGE,
 * and answers whatever else the PBX sends it. Messages are written as text, independently of the PBX's code.
 *
 * Over UDP it behaves as RFC 3261 §17 asks of a phone, since under the soak's load a datagram can be lost in
 * a full buffer as on a real network: requests are resent from T1, doubling (to T2 for non-INVITE, and until
 * a provisional for INVITE), and given up at 64·T1 (Timers A, B, E, F); a 200 to an INVITE is resent until
 * its ACK comes (§13.3.1.4); a retransmitted request gets the response it had; a retransmitted final
 * response to our INVITE gets our ACK again.
 */
import { randomBytes } from 'node:crypto';
import { parseSip } from '../tests/support/sip-phone';
import type { SipText } from '../tests/support/sip-phone';
import { audioDestination } from '../tests/support/udp-desk-phone';
import { digestAuthorization } from '../tests/support/sip-ws-client';
import { deskSdp } from './soak-rtp';
import type { MediaCount, RtpMedia } from './soak-rtp';
import type { Wire } from './soak-wire';

const T1_MS = 500;
const T2_MS = 4_000;
const TIMER_B_MS = 64 * T1_MS;

const random = (bytes: number) => randomBytes(bytes).toString('hex');

/** RFC 3261 §7.3.3 compact forms of the headers read here. */
const COMPACT: Record<string, string> = { via: 'v', from: 'f', to: 't', 'call-id': 'i', contact: 'm', cseq: 'cseq' };

export function headerAll(message: SipText, name: string): string[] {
  const long = name.toLowerCase();
  const short = COMPACT[long];
  return message.headers.filter(([n]) => n.toLowerCase() === long || n.toLowerCase() === short).map(([, v]) => v);
}

function header(message: SipText, name: string): string {
  return headerAll(message, name)[0] ?? '';
}

function tagOf(value: string): string {
  return /;\s*tag=([^;>\s]+)/i.exec(value)?.[1] ?? '';
}

function uriOf(value: string): string {
  return /<([^>]+)>/.exec(value)?.[1] ?? value.split(';')[0]?.trim() ?? '';
}

function branchOf(message: SipText): string {
  return /;\s*branch=([^;,\s]+)/i.exec(header(message, 'Via'))?.[1] ?? '';
}

function cseqMethod(message: SipText): string {
  return header(message, 'CSeq').split(/\s+/)[1]?.toUpperCase() ?? '';
}

export interface SipUser {
  extension: string;
  password: string;
}

/** One side of a call, as this phone sees its dialog. */
export class CallLeg {
  acked = false;
  media: MediaCount = { sent: 0, heard: 0 };
  endedBy: 'local' | 'remote' | 'closed' | undefined;
  readonly ended: Promise<void>;
  private markEnded!: () => void;

  constructor(
    readonly callId: string,
    /** From and To as this phone writes them in the dialog. */
    readonly local: string,
    readonly remote: string,
    readonly remoteTarget: string,
    public cseq: number,
  ) {
    this.ended = new Promise((resolve) => (this.markEnded = resolve));
  }

  end(by: 'local' | 'remote' | 'closed', media: MediaCount): void {
    if (this.endedBy) return;
    this.endedBy = by;
    this.media = media;
    this.markEnded();
  }
}

interface ClientTransaction {
  method: string;
  text: string;
  resolve(response: SipText): void;
  reject(error: Error): void;
  timeout: NodeJS.Timeout;
  resend?: NodeJS.Timeout;
}

export interface RequestOptions {
  timeoutMs?: number;
  branch?: string;
}

export class SoakPhone {
  private readonly clients = new Map<string, ClientTransaction>();
  /** ACKs to send again when a final response to one of our INVITEs comes again, by the INVITE's branch. */
  private readonly acks = new Map<string, string>();
  /** Our answers to requests, by branch and method, for their retransmissions. */
  private readonly answered = new Map<string, string>();
  private readonly legs = new Map<string, CallLeg>();
  private readonly incoming: CallLeg[] = [];
  private incomingWaiter: ((leg: CallLeg) => void) | undefined;
  private current: CallLeg | undefined;
  /** Between our authenticated INVITE and its final response: an INVITE arriving then is refused as busy. */
  private placing = false;
  private readonly registrationCallId = `${random(8)}@soak`;
  private registrationCseq = 0;
  /** Over WebSocket a device has no address of its own to name (RFC 7118 §5.2): an invented one, kept for good. */
  private readonly wsHost = `${random(4)}.invalid`;
  private readonly wsUser = random(4);
  /** Bodies of the MESSAGEs that reached this phone. */
  onMessageReceived: (body: string) => void = () => undefined;

  constructor(
    readonly wire: Wire,
    readonly user: SipUser,
    readonly domain: string,
    private readonly media?: RtpMedia,
  ) {
    wire.onMessage = (text) => this.receive(text);
    wire.onClose = () => this.closed();
  }

  private get sentBy(): string {
    return this.wire.transport === 'WS' ? this.wsHost : `${this.wire.localAddress}:${this.wire.localPort}`;
  }

  get contact(): string {
    if (this.wire.transport === 'WS') return `<sip:${this.wsUser}@${this.wsHost};transport=ws>`;
    const transport = this.wire.transport === 'TCP' ? ';transport=tcp' : '';
    return `<sip:${this.user.extension}@${this.sentBy}${transport}>`;
  }

  /** REGISTER, the 401 answered with the user's password; the final response. */
  async register(expiresS: number, options: RequestOptions = {}): Promise<SipText> {
    const aor = `<sip:${this.user.extension}@${this.domain}>`;
    const headers = (auth?: string) => [
      `From: ${aor};tag=${random(4)}`, `To: ${aor}`, `Call-ID: ${this.registrationCallId}`, `CSeq: ${++this.registrationCseq} REGISTER`,
      `Contact: ${this.contact}`, `Expires: ${expiresS}`, ...(auth ? [`Authorization: ${auth}`] : []),
    ];
    const uri = `sip:${this.domain}`;
    const challenge = await this.request('REGISTER', uri, headers(), '', options);
    if (challenge.status !== 401) return challenge;
    return this.request('REGISTER', uri, headers(this.authorization(challenge, 'WWW-Authenticate', 'REGISTER', uri)), '', options);
  }

  /** A MESSAGE to `target`, the 407 answered; the final response. */
  async message(target: string, body: string): Promise<SipText> {
    const uri = `sip:${target}@${this.domain}`;
    const callId = `${random(8)}@soak`;
    const headers = (cseq: number, auth?: string) => [
      `From: <sip:${this.user.extension}@${this.domain}>;tag=${random(4)}`, `To: <${uri}>`, `Call-ID: ${callId}`, `CSeq: ${cseq} MESSAGE`,
      'Content-Type: text/plain', ...(auth ? [`Proxy-Authorization: ${auth}`] : []),
    ];
    const challenge = await this.request('MESSAGE', uri, headers(1), body);
    if (challenge.status !== 407) return challenge;
    return this.request('MESSAGE', uri, headers(2, this.authorization(challenge, 'Proxy-Authenticate', 'MESSAGE', uri)), body);
  }

  /**
   * Calls `target`: INVITE, the 407 acknowledged and answered, and on a 2xx the ACK and media to the
   * answer's address. Throws with the status when the call is not answered.
   */
  async call(target: string): Promise<CallLeg> {
    if (!this.media) throw new Error('a phone without media places no calls');
    const uri = `sip:${target}@${this.domain}`;
    const callId = `${random(8)}@soak`;
    const from = `<sip:${this.user.extension}@${this.domain}>;tag=${random(4)}`;
    const sdp = deskSdp(this.media.address, this.media.port);
    const headers = (cseq: number, auth?: string) => [
      `From: ${from}`, `To: <${uri}>`, `Call-ID: ${callId}`, `CSeq: ${cseq} INVITE`, `Contact: ${this.contact}`,
      'Content-Type: application/sdp', ...(auth ? [`Proxy-Authorization: ${auth}`] : []),
    ];
    const firstBranch = `z9hG4bK${random(6)}`;
    const challenge = await this.request('INVITE', uri, headers(1), sdp, { branch: firstBranch });
    // RFC 3261 §17.1.1.3: the ACK for a non-2xx final response belongs to the INVITE's transaction.
    this.acknowledge(firstBranch, this.requestText('ACK', uri, [`From: ${from}`, `To: ${header(challenge, 'To')}`, `Call-ID: ${callId}`, 'CSeq: 1 ACK'], '', firstBranch));
    if (challenge.status !== 407) throw new Error(`INVITE got ${challenge.status} where 407 was due`);
    const branch = `z9hG4bK${random(6)}`;
    this.placing = true;
    let final: SipText;
    try {
      final = await this.request('INVITE', uri, headers(2, this.authorization(challenge, 'Proxy-Authenticate', 'INVITE', uri)), sdp, { branch });
    } finally {
      this.placing = false;
    }
    const to = header(final, 'To');
    if (final.status >= 300) {
      this.acknowledge(branch, this.requestText('ACK', uri, [`From: ${from}`, `To: ${to}`, `Call-ID: ${callId}`, 'CSeq: 2 ACK'], '', branch));
      throw new Error(`INVITE got ${final.status} ${final.reason}`);
    }
    const leg = new CallLeg(callId, from, to, uriOf(header(final, 'Contact')) || uri, 2);
    leg.acked = true;
    this.current = leg;
    this.legs.set(callId, leg);
    // RFC 3261 §13.2.2.4: the ACK for a 2xx is a request of its own in the dialog, with a branch of its own.
    this.acknowledge(branch, this.requestText('ACK', leg.remoteTarget, [`From: ${from}`, `To: ${to}`, `Call-ID: ${callId}`, 'CSeq: 2 ACK'], ''));
    this.media.start(audioDestination(final.body));
    return leg;
  }

  /**
   * The next call the PBX offers this phone (answered at once), within `timeoutMs`. Calls it answered before
   * (what an attempt that failed on the caller's side left behind) are returned as `stale`, for hanging up.
   */
  expectIncoming(timeoutMs: number): { leg: Promise<CallLeg>; stale: CallLeg[] } {
    const stale = this.incoming.splice(0);
    const leg = new Promise<CallLeg>((resolve, reject) => {
      const waiter = (answered: CallLeg) => {
        clearTimeout(timer);
        resolve(answered);
      };
      const timer = setTimeout(() => {
        if (this.incomingWaiter === waiter) this.incomingWaiter = undefined;
        reject(new Error('no INVITE reached the callee'));
      }, timeoutMs);
      this.incomingWaiter = waiter;
    });
    // Awaited by the caller of this method or not at all (when the call failed before): never unhandled.
    leg.catch(() => undefined);
    return { leg, stale };
  }

  /** BYE in the leg's dialog; the final status. */
  async hangUp(leg: CallLeg): Promise<number> {
    leg.cseq += 1;
    this.endLeg(leg, 'local');
    const response = await this.request('BYE', leg.remoteTarget, [`From: ${leg.local}`, `To: ${leg.remote}`, `Call-ID: ${leg.callId}`, `CSeq: ${leg.cseq} BYE`], '');
    return response.status;
  }

  close(): void {
    this.wire.close();
  }

  /** Sends a request (resent over UDP until answered) and resolves with its final response. */
  request(method: string, uri: string, headers: string[], body: string, options: RequestOptions = {}): Promise<SipText> {
    const branch = options.branch ?? `z9hG4bK${random(6)}`;
    const text = this.requestText(method, uri, headers, body, branch);
    return new Promise((resolve, reject) => {
      if (!this.wire.isOpen) {
        reject(new Error('connection closed'));
        return;
      }
      const tx: ClientTransaction = {
        method,
        text,
        resolve,
        reject,
        timeout: setTimeout(() => {
          this.finish(branch);
          reject(new Error(`no answer to ${method}`));
        }, options.timeoutMs ?? TIMER_B_MS),
      };
      this.clients.set(branch, tx);
      this.wire.send(text);
      if (this.wire.transport === 'UDP') this.resend(branch, tx, T1_MS);
    });
  }

  private resend(branch: string, tx: ClientTransaction, interval: number): void {
    tx.resend = setTimeout(() => {
      if (this.clients.get(branch) !== tx) return;
      this.wire.send(tx.text);
      this.resend(branch, tx, tx.method === 'INVITE' ? interval * 2 : Math.min(interval * 2, T2_MS));
    }, interval);
  }

  private finish(branch: string): ClientTransaction | undefined {
    const tx = this.clients.get(branch);
    if (!tx) return undefined;
    this.clients.delete(branch);
    clearTimeout(tx.timeout);
    clearTimeout(tx.resend);
    return tx;
  }

  private requestText(method: string, uri: string, headers: string[], body: string, branch = `z9hG4bK${random(6)}`): string {
    const rport = this.wire.transport === 'WS' ? '' : ';rport';
    return [
      `${method} ${uri} SIP/2.0`,
      `Via: SIP/2.0/${this.wire.transport} ${this.sentBy};branch=${branch}${rport}`,
      'Max-Forwards: 70',
      ...headers,
      `Content-Length: ${Buffer.byteLength(body)}`,
      '',
      body,
    ].join('\r\n');
  }

  private authorization(challenge: SipText, name: string, method: string, uri: string): string {
    const offers = headerAll(challenge, name);
    const md5 = offers.find((c) => /algorithm=MD5\b/i.test(c)) ?? offers[0] ?? '';
    return digestAuthorization({ challenge: md5, method, uri, username: this.user.extension, password: this.user.password });
  }

  private acknowledge(inviteBranch: string, ack: string): void {
    this.wire.send(ack);
    this.acks.set(inviteBranch, ack);
    setTimeout(() => this.acks.delete(inviteBranch), TIMER_B_MS).unref();
  }

  private receive(text: string): void {
    let message: SipText;
    try {
      message = parseSip(text);
    } catch {
      return;
    }
    if (message.kind === 'response') this.onResponse(message);
    else this.onRequest(message);
  }

  private onResponse(response: SipText): void {
    const branch = branchOf(response);
    const tx = this.clients.get(branch);
    if (!tx || cseqMethod(response) !== tx.method) {
      const ack = this.acks.get(branch);
      if (ack && response.status >= 200) this.wire.send(ack);
      return;
    }
    if (response.status < 200) {
      // RFC 3261 §17.1.1.2: a provisional response stops INVITE retransmissions; Timer B still runs.
      if (tx.method === 'INVITE') clearTimeout(tx.resend);
      return;
    }
    this.finish(branch);
    tx.resolve(response);
  }

  private onRequest(request: SipText): void {
    const branch = branchOf(request);
    if (request.method === 'ACK') {
      const leg = this.legs.get(header(request, 'Call-ID'));
      if (leg) leg.acked = true;
      return;
    }
    const again = this.answered.get(`${branch} ${request.method}`);
    if (again !== undefined) {
      this.wire.send(again);
      return;
    }
    switch (request.method) {
      case 'INVITE':
        if (tagOf(header(request, 'To'))) this.reply(request, 200, 'OK', { body: this.offer() });
        else this.answerCall(request);
        return;
      case 'BYE': {
        this.reply(request, 200, 'OK');
        const leg = this.legs.get(header(request, 'Call-ID'));
        if (leg) this.endLeg(leg, 'remote');
        return;
      }
      case 'MESSAGE':
        this.reply(request, 200, 'OK');
        this.onMessageReceived(request.body);
        return;
      default:
        this.reply(request, 200, 'OK');
    }
  }

  private offer(): string {
    return this.media ? deskSdp(this.media.address, this.media.port) : '';
  }

  /** Answers a new INVITE at once with 200 and media, resending the 200 over UDP until the ACK comes. */
  private answerCall(invite: SipText): void {
    if (!this.media || this.current || this.placing) {
      this.reply(invite, 486, 'Busy Here', { toTag: random(4) });
      return;
    }
    const localTag = random(4);
    const callId = header(invite, 'Call-ID');
    const leg = new CallLeg(callId, `${header(invite, 'To')};tag=${localTag}`, header(invite, 'From'), uriOf(header(invite, 'Contact')), 0);
    this.current = leg;
    this.legs.set(callId, leg);
    const ok = this.reply(invite, 200, 'OK', { toTag: localTag, body: this.offer() });
    this.media.start(audioDestination(invite.body));
    if (this.wire.transport === 'UDP') {
      const started = Date.now();
      const resend = (interval: number) =>
        setTimeout(() => {
          if (leg.acked || leg.endedBy || Date.now() - started > TIMER_B_MS) return;
          this.wire.send(ok);
          resend(Math.min(interval * 2, T2_MS));
        }, interval);
      resend(T1_MS);
    }
    const waiter = this.incomingWaiter;
    this.incomingWaiter = undefined;
    if (waiter) waiter(leg);
    else this.incoming.push(leg);
  }

  private reply(request: SipText, status: number, reason: string, options: { toTag?: string; body?: string } = {}): string {
    const to = header(request, 'To');
    const body = options.body ?? '';
    const text = [
      `SIP/2.0 ${status} ${reason}`,
      ...headerAll(request, 'Via').map((via) => `Via: ${via}`),
      `From: ${header(request, 'From')}`,
      `To: ${options.toTag && !tagOf(to) ? `${to};tag=${options.toTag}` : to}`,
      `Call-ID: ${header(request, 'Call-ID')}`,
      `CSeq: ${header(request, 'CSeq')}`,
      ...(status >= 200 && status < 300 && request.method === 'INVITE' ? [`Contact: ${this.contact}`] : []),
      ...(body ? ['Content-Type: application/sdp'] : []),
      `Content-Length: ${Buffer.byteLength(body)}`,
      '',
      body,
    ].join('\r\n');
    this.wire.send(text);
    const key = `${branchOf(request)} ${request.method}`;
    this.answered.set(key, text);
    setTimeout(() => this.answered.delete(key), TIMER_B_MS).unref();
    return text;
  }

  private endLeg(leg: CallLeg, by: 'local' | 'remote' | 'closed'): MediaCount {
    const media = this.current === leg && this.media ? this.media.stop() : leg.media;
    if (this.current === leg) this.current = undefined;
    leg.end(by, media);
    setTimeout(() => this.legs.delete(leg.callId), TIMER_B_MS).unref();
    return media;
  }

  private closed(): void {
    for (const branch of [...this.clients.keys()]) this.finish(branch)?.reject(new Error('connection closed'));
    for (const leg of this.legs.values()) this.endLeg(leg, 'closed');
    this.media?.stop();
  }
}
