/**
 * A minimal SIP-over-WebSocket user agent for tests: writes requests as text, the way a device would, and
 * computes digest responses on its own (independently of the PBX's code), so the tests check the wire.
 */
import { createHash, randomBytes } from 'node:crypto';
import WebSocket from 'ws';

export interface ParsedResponse {
  status: number;
  reason: string;
  headers: Array<[string, string]>;
  raw: string;
  header(name: string): string | undefined;
  headerAll(name: string): string[];
}

function parseResponse(raw: string): ParsedResponse {
  const [head = ''] = raw.split('\r\n\r\n');
  const [statusLine = '', ...lines] = head.split('\r\n');
  const match = /^SIP\/2\.0 (\d{3}) (.*)$/.exec(statusLine);
  const headers = lines.map((line): [string, string] => {
    const i = line.indexOf(':');
    return [line.slice(0, i).trim(), line.slice(i + 1).trim()];
  });
  const all = (name: string) => headers.filter(([n]) => n.toLowerCase() === name.toLowerCase()).map(([, v]) => v);
  return { status: Number(match?.[1] ?? 0), reason: match?.[2] ?? '', headers, raw, header: (n) => all(n)[0], headerAll: all };
}

export function digestParams(challenge: string): Record<string, string> {
  const params: Record<string, string> = {};
  for (const m of challenge.replace(/^Digest\s+/i, '').matchAll(/([a-zA-Z-]+)=("([^"]*)"|[^,\s]+)/g)) {
    params[(m[1] ?? '').toLowerCase()] = m[3] ?? m[2] ?? '';
  }
  return params;
}

export function digestAuthorization(options: {
  challenge: string;
  method: string;
  uri: string;
  username: string;
  password: string;
}): string {
  const c = digestParams(options.challenge);
  const algorithm = (c.algorithm ?? 'MD5').toUpperCase();
  const hash = (s: string) => createHash(algorithm === 'SHA-256' ? 'sha256' : 'md5').update(s).digest('hex');
  const ha1 = hash(`${options.username}:${c.realm}:${options.password}`);
  const ha2 = hash(`${options.method}:${options.uri}`);
  const nc = '00000001';
  const cnonce = randomBytes(8).toString('hex');
  const response = hash(`${ha1}:${c.nonce}:${nc}:${cnonce}:auth:${ha2}`);
  return `Digest username="${options.username}", realm="${c.realm}", nonce="${c.nonce}", uri="${options.uri}", response="${response}", algorithm=${algorithm}, qop=auth, nc=${nc}, cnonce="${cnonce}"`;
}

export class SipWsClient {
  private readonly waiting: Array<(message: string) => void> = [];
  private readonly inbox: string[] = [];
  readonly host = `${randomBytes(4).toString('hex')}.invalid`;

  private constructor(private readonly socket: WebSocket) {
    socket.on('message', (data) => {
      const text = data.toString();
      const next = this.waiting.shift();
      if (next) next(text);
      else this.inbox.push(text);
    });
  }

  static async connect(url: string): Promise<SipWsClient> {
    const socket = new WebSocket(url, 'sip');
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    return new SipWsClient(socket);
  }

  get protocol(): string {
    return this.socket.protocol;
  }

  sendRaw(text: string): void {
    this.socket.send(text);
  }

  /** The next message the PBX sends (skipping provisional 100 Trying unless asked for). */
  async next(options: { includeTrying?: boolean; timeoutMs?: number } = {}): Promise<ParsedResponse> {
    for (;;) {
      const raw = this.inbox.shift() ?? (await new Promise<string>((resolve, reject) => {
        const waiter = (m: string) => {
          clearTimeout(timer);
          resolve(m);
        };
        // A waiter that timed out must leave the queue, or it would swallow the next message.
        const timer = setTimeout(() => {
          const index = this.waiting.indexOf(waiter);
          if (index >= 0) this.waiting.splice(index, 1);
          reject(new Error('no SIP message within the timeout'));
        }, options.timeoutMs ?? 5_000);
        this.waiting.push(waiter);
      }));
      const parsed = parseResponse(raw);
      if (parsed.status === 100 && !options.includeTrying) continue;
      return parsed;
    }
  }

  register(options: { user: string; domain: string; callId: string; cseq: number; expires?: number; authorization?: string }): void {
    const lines = [
      `REGISTER sip:${options.domain} SIP/2.0`,
      `Via: SIP/2.0/WSS ${this.host};branch=z9hG4bK${randomBytes(6).toString('hex')}`,
      'Max-Forwards: 70',
      `To: <sip:${options.user}@${options.domain}>`,
      `From: <sip:${options.user}@${options.domain}>;tag=${randomBytes(4).toString('hex')}`,
      `Call-ID: ${options.callId}`,
      `CSeq: ${options.cseq} REGISTER`,
      `Contact: <sip:${randomBytes(4).toString('hex')}@${this.host};transport=ws>;expires=${options.expires ?? 600}`,
      ...(options.authorization ? [`Authorization: ${options.authorization}`] : []),
      'Content-Length: 0',
      '',
      '',
    ];
    this.sendRaw(lines.join('\r\n'));
  }

  close(): void {
    this.socket.close();
  }
}
