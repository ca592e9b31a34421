/**
 * For the SIP layer's unit tests: a manual clock, a flow that records what the PBX sends instead of writing it to a
 * socket, requests written as wire text, a digest client that computes responses on its own, and the fuzzers' PRNG.
 */
import { createHash, randomBytes } from 'node:crypto';
import { SipConnection } from './transport/connection';
import type { SipTransportName } from './transport/connection';
import { parseMessage } from './syntax/message';
import type { SipMessage, SipRequest, SipResponse } from './syntax/message';
import type { Clock, TimerHandle } from './transaction/timers';
import { ServerTransaction, serverTransactionKey } from './transaction/transactions';

/** A clock that moves only when told, firing what falls due in order. */
export class ManualClock implements Clock {
  private time = 0;
  private timers: Array<{ at: number; fire: () => void; live: boolean }> = [];

  now(): number {
    return this.time;
  }

  schedule(ms: number, fire: () => void): TimerHandle {
    const timer = { at: this.time + ms, fire, live: true };
    this.timers.push(timer);
    return { cancel: () => (timer.live = false) };
  }

  /** Moves time forward, firing due timers in order (timers they schedule fire too if due). */
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      const due = this.timers.filter((t) => t.live && t.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.time = due.at;
      due.live = false;
      due.fire();
    }
    this.time = end;
    this.timers = this.timers.filter((t) => t.live);
  }

  get pending(): number {
    return this.timers.filter((t) => t.live).length;
  }
}

let nextId = 1;

export class FakeConnection extends SipConnection {
  readonly sent: SipMessage[] = [];

  constructor(remoteAddress = '192.0.2.10', transport: SipTransportName = 'WS') {
    super(`fake-${nextId++}`, transport, remoteAddress, 50_000 + nextId);
  }

  get responses(): SipResponse[] {
    return this.sent.filter((m): m is SipResponse => m.kind === 'response');
  }

  get requests(): SipRequest[] {
    return this.sent.filter((m): m is SipRequest => m.kind === 'request');
  }

  lastResponse(): SipResponse | undefined {
    return this.responses.at(-1);
  }

  /** The peer goes away. */
  drop(): void {
    this.markClosed();
  }

  protected write(message: SipMessage): void {
    this.sent.push(message);
  }
}

export interface RequestText {
  method: string;
  uri: string;
  from: string;
  to: string;
  callId?: string;
  cseq?: number;
  headers?: Array<[string, string]>;
  body?: string;
}

/** A request as a device writes it, parsed by the real parser. */
export function sipRequest({ method, uri, from, to, callId = randomBytes(6).toString('hex'), cseq = 1, headers = [], body = '' }: RequestText): SipRequest {
  const lines = [
    `${method} ${uri} SIP/2.0`,
    `Via: SIP/2.0/WSS client.invalid;branch=z9hG4bK${randomBytes(6).toString('hex')}`,
    ...(headers.some(([name]) => name.toLowerCase() === 'max-forwards') ? [] : ['Max-Forwards: 70']),
    `From: ${from}`,
    `To: ${to}`,
    `Call-ID: ${callId}`,
    `CSeq: ${cseq} ${method}`,
    ...headers.map(([name, value]) => `${name}: ${value}`),
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ];
  const message = parseMessage(lines.join('\r\n'));
  if (message.kind !== 'request') throw new Error('not a request');
  return message;
}

export function serverTransaction(request: SipRequest, connection: SipConnection): ServerTransaction {
  return new ServerTransaction(serverTransactionKey(request) ?? 'no-key', request, connection, () => undefined);
}

/** An Authorization value answering `challenge` (a WWW- or Proxy-Authenticate value), qop=auth. */
export function answerChallenge(challenge: string, options: { method: string; uri: string; username: string; password: string; nc?: number }): string {
  const params: Record<string, string> = {};
  for (const m of challenge.replace(/^Digest\s+/i, '').matchAll(/([a-zA-Z-]+)=("([^"]*)"|[^,\s]+)/g)) {
    params[(m[1] ?? '').toLowerCase()] = m[3] ?? m[2] ?? '';
  }
  const algorithm = (params.algorithm ?? 'MD5').toUpperCase();
  const hash = (s: string) => createHash(algorithm === 'SHA-256' ? 'sha256' : 'md5').update(s).digest('hex');
  const ha1 = hash(`${options.username}:${params.realm}:${options.password}`);
  const ha2 = hash(`${options.method}:${options.uri}`);
  const cnonce = randomBytes(8).toString('hex');
  const nc = (options.nc ?? 1).toString(16).padStart(8, '0');
  const response = hash(`${ha1}:${params.nonce}:${nc}:${cnonce}:auth:${ha2}`);
  return `Digest username="${options.username}", realm="${params.realm}", nonce="${params.nonce}", uri="${options.uri}", response="${response}", algorithm=${algorithm}, qop=auth, nc=${nc}, cnonce="${cnonce}"`;
}

/** mulberry32: a tiny deterministic PRNG, so that a fuzz test replays from its seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
