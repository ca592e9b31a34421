import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  CONNECT_TIMEOUT_MS,
  ConnectionKeeper,
  KEEPALIVE_INTERVAL_MS,
  KEEPALIVE_TIMEOUT_MS,
  RECONNECT_CAP_MS,
  reconnectDelayMs,
} from './connection-keeper';
import type { KeeperClock, SignallingLink } from './connection-keeper';

describe('reconnectDelayMs', () => {
  it('doubles from one second, drawing from the upper half of each ceiling', () => {
    expect([1, 2, 3, 4, 5].map((attempt) => reconnectDelayMs(attempt, () => 0))).toEqual([500, 1_000, 2_000, 4_000, 8_000]);
    expect([1, 2, 3, 4, 5].map((attempt) => reconnectDelayMs(attempt, () => 1))).toEqual([1_000, 2_000, 4_000, 8_000, 16_000]);
  });

  it('never waits longer than the cap, however many attempts failed', () => {
    for (const attempt of [6, 10, 50, 1_000]) {
      expect(reconnectDelayMs(attempt, () => 1)).toBe(RECONNECT_CAP_MS);
      expect(reconnectDelayMs(attempt, () => 0)).toBe(RECONNECT_CAP_MS / 2);
    }
  });
});

/** A link whose socket the test opens and closes, recording what the keeper asked of it. */
class FakeLink implements SignallingLink {
  connected = false;
  readonly requests: string[] = [];
  pendingProbe: ((answered: boolean) => void) | undefined;
  onConnect: (() => void) | undefined;
  onDrop: (() => void) | undefined;

  isConnected(): boolean {
    return this.connected;
  }
  probe(done: (answered: boolean) => void): void {
    this.requests.push('probe');
    this.pendingProbe = done;
  }
  connect(): void {
    this.requests.push('connect');
    this.onConnect?.();
  }
  drop(): void {
    this.requests.push('drop');
    this.connected = false;
    this.onDrop?.();
  }
  register(): void {
    this.requests.push('register');
  }
}

describe('ConnectionKeeper', () => {
  let link: FakeLink;
  let keeper: ConnectionKeeper;
  let random: number;

  beforeEach(() => {
    vi.useFakeTimers();
    random = 0.5;
    const clock: KeeperClock = {
      now: () => Date.now(),
      setTimeout: (callback, ms) => setTimeout(callback, ms),
      clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
      random: () => random,
    };
    link = new FakeLink();
    keeper = new ConnectionKeeper(link, clock);
    // As the adapter does: the UA reports a socket that closes, including one the keeper drops.
    link.onDrop = () => keeper.disconnected();
    keeper.start();
    link.connected = true;
    keeper.connected();
  });

  afterEach(() => {
    keeper.stop();
    vi.useRealTimers();
  });

  it('asks the registrar for an OPTIONS answer every keep-alive interval while the socket answers', () => {
    vi.advanceTimersByTime(KEEPALIVE_INTERVAL_MS - 1);
    expect(link.requests).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(link.requests).toEqual(['probe']);
    link.pendingProbe?.(true);
    vi.advanceTimersByTime(KEEPALIVE_INTERVAL_MS);
    expect(link.requests).toEqual(['probe', 'probe']);
  });

  it('replaces a socket that does not answer the keep-alive within the timeout, at once', () => {
    vi.advanceTimersByTime(KEEPALIVE_INTERVAL_MS + KEEPALIVE_TIMEOUT_MS - 1);
    expect(link.requests).toEqual(['probe']);
    vi.advanceTimersByTime(1);
    expect(link.requests).toEqual(['probe', 'drop', 'connect']);
  });

  it('ignores a keep-alive answer that comes after the socket was replaced', () => {
    vi.advanceTimersByTime(KEEPALIVE_INTERVAL_MS + KEEPALIVE_TIMEOUT_MS);
    const late = link.pendingProbe;
    link.connected = true;
    keeper.connected();
    late?.(true);
    expect(link.requests).toEqual(['probe', 'drop', 'connect']);
  });

  it('retries a lost connection with growing waits, capped, and starts over once connected', () => {
    link.connected = false;
    keeper.disconnected();
    const waits: number[] = [];
    for (let attempt = 1; attempt <= 7; attempt++) {
      const before = link.requests.length;
      let waited = 0;
      while (link.requests.length === before) {
        vi.advanceTimersByTime(100);
        waited += 100;
      }
      expect(link.requests.at(-1)).toBe('connect');
      waits.push(waited);
      keeper.disconnected();
    }
    expect(waits).toEqual([800, 1_500, 3_000, 6_000, 12_000, 22_500, 22_500]);
    // Seven attempts failed; the eighth is waiting its turn.
    expect(keeper.reconnectAttempts).toBe(8);
    vi.advanceTimersByTime(RECONNECT_CAP_MS);
    link.connected = true;
    keeper.connected();
    expect(keeper.reconnectAttempts).toBe(0);
  });

  it('gives up on a socket that neither opens nor fails and tries again later', () => {
    link.connected = false;
    keeper.disconnected();
    vi.advanceTimersByTime(800);
    expect(link.requests).toEqual(['connect']);
    vi.advanceTimersByTime(CONNECT_TIMEOUT_MS);
    expect(link.requests).toEqual(['connect', 'drop']);
    vi.advanceTimersByTime(1_500);
    expect(link.requests).toEqual(['connect', 'drop', 'connect']);
  });

  it('checks the socket when the computer resumes, and registers again once it answers', () => {
    keeper.wake('resume');
    expect(link.requests).toEqual(['probe']);
    link.pendingProbe?.(true);
    expect(link.requests).toEqual(['probe', 'register']);
  });

  it('replaces the socket when the check after a network change goes unanswered', () => {
    keeper.wake('online');
    vi.advanceTimersByTime(KEEPALIVE_TIMEOUT_MS);
    expect(link.requests).toEqual(['probe', 'drop', 'connect']);
  });

  it('reconnects at once when the network comes back during a backoff wait', () => {
    link.connected = false;
    for (let i = 0; i < 5; i++) {
      keeper.disconnected();
      vi.advanceTimersByTime(RECONNECT_CAP_MS);
    }
    link.requests.length = 0;
    keeper.disconnected();
    keeper.wake('offline');
    expect(link.requests).toEqual([]);
    vi.advanceTimersByTime(2_000);
    keeper.wake('online');
    expect(link.requests).toEqual(['connect']);
  });

  it('takes a burst of wake signals as one', () => {
    keeper.wake('online');
    keeper.wake('visible');
    keeper.wake('resume');
    expect(link.requests).toEqual(['probe']);
  });

  it('registers again after a transient refusal, with backoff, but not after refused credentials', () => {
    keeper.registrationFailed(true);
    vi.advanceTimersByTime(749);
    expect(link.requests).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(link.requests).toEqual(['register']);
    keeper.registrationFailed(false);
    vi.advanceTimersByTime(KEEPALIVE_INTERVAL_MS - 1_000);
    expect(link.requests).toEqual(['register']);
  });

  it('does nothing once stopped', () => {
    keeper.stop();
    keeper.wake('resume');
    keeper.disconnected();
    vi.advanceTimersByTime(RECONNECT_CAP_MS * 2);
    expect(link.requests).toEqual([]);
  });

  it('retries straight after a socket that fails as soon as it is asked to connect', () => {
    link.onConnect = () => keeper.disconnected();
    link.connected = false;
    keeper.disconnected();
    vi.advanceTimersByTime(800);
    expect(link.requests).toEqual(['connect']);
    vi.advanceTimersByTime(1_500);
    expect(link.requests).toEqual(['connect', 'connect']);
  });
});
