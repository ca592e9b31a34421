/**
 * An app's end of the event stream for tests and benchmarks, over a real WebSocket (the `ws` package, as Node
 * has it): connects with a bearer token, checks every message against the contract, and keeps them in order.
 */
import { WebSocket } from 'ws';
import { EVENTS_PATH, EVENTS_PROTOCOL, EVENTS_TOKEN_PROTOCOL_PREFIX, parseServerMessage } from '../../shared/events';
import type { EventMessage, ServerMessage } from '../../shared/events';

const WAIT_MS = 5_000;

export interface StreamOptions {
  after?: number;
  user?: number;
  /** Send the token as a browser does, in a subprotocol, instead of the Authorization header. */
  asBrowser?: boolean;
  onMessage?: (message: ServerMessage) => void;
}

export class TestEventStream {
  readonly messages: ServerMessage[] = [];
  /** Frames that were not in the contract. */
  readonly invalid: string[] = [];
  closeCode: number | undefined;
  private waiters: Array<() => void> = [];
  readonly closed: Promise<number>;

  private constructor(readonly socket: WebSocket, onMessage?: (message: ServerMessage) => void) {
    socket.on('message', (data) => {
      const text = data.toString();
      const message = parseServerMessage(text);
      if (!message) this.invalid.push(text);
      else {
        this.messages.push(message);
        onMessage?.(message);
      }
      this.wake();
    });
    this.closed = new Promise((resolve) =>
      socket.on('close', (code) => {
        this.closeCode = code;
        this.wake();
        resolve(code);
      }),
    );
  }

  /** Opens a stream; resolves once the upgrade succeeded, rejects with the HTTP status when it was refused. */
  static open(httpUrl: string, token: string | undefined, options: StreamOptions = {}): Promise<TestEventStream> {
    const url = new URL(EVENTS_PATH, httpUrl.replace(/^http/, 'ws'));
    if (options.after !== undefined) url.searchParams.set('after', String(options.after));
    if (options.user !== undefined) url.searchParams.set('user', String(options.user));
    const protocols = options.asBrowser && token ? [EVENTS_PROTOCOL, `${EVENTS_TOKEN_PROTOCOL_PREFIX}${token}`] : [EVENTS_PROTOCOL];
    const headers = !options.asBrowser && token ? { authorization: `Bearer ${token}` } : undefined;
    const socket = new WebSocket(url, protocols, { headers });
    const stream = new TestEventStream(socket, options.onMessage);
    return new Promise((resolve, reject) => {
      socket.once('open', () => resolve(stream));
      socket.once('unexpected-response', (_request, response) => {
        reject(Object.assign(new Error(`refused with ${response.statusCode}`), { status: response.statusCode }));
        socket.terminate();
      });
      socket.once('error', reject);
    });
  }

  private wake(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }

  /** Waits until `test` holds of what has arrived, or the stream closed, or WAIT_MS passed. */
  async until(test: () => boolean, what: string, timeoutMs = WAIT_MS): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!test()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.messages)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 50);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  events(): EventMessage[] {
    return this.messages.filter((m): m is EventMessage => m.kind === 'event');
  }

  /** The numbers of the events received. */
  seqs(): number[] {
    return this.events().map((m) => m.seq);
  }

  readySeq(): number | undefined {
    const ready = this.messages.find((m) => m.kind === 'ready');
    return ready?.kind === 'ready' ? ready.seq : undefined;
  }

  async ready(): Promise<number> {
    await this.until(() => this.readySeq() !== undefined, 'ready');
    return this.readySeq() ?? 0;
  }

  close(): void {
    this.socket.terminate();
  }
}
