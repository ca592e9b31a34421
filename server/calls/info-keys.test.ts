import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { DtmfEvent, MediaLeg } from '../media/legs/media-leg';
import { keyFromInfo, legWithInfoKeys } from './info-keys';

describe('keyFromInfo', () => {
  it('reads application/dtmf-relay and application/dtmf', () => {
    expect(keyFromInfo('application/dtmf-relay', 'Signal=5\r\nDuration=160\r\n')).toEqual({ digit: '5', durationMs: 160 });
    expect(keyFromInfo('Application/DTMF-Relay; charset=utf-8', 'Signal= #\nDuration=abc')).toEqual({ digit: '#', durationMs: 100 });
    expect(keyFromInfo('application/dtmf', '*')).toEqual({ digit: '*', durationMs: 100 });
  });

  it('reads nothing else as a key', () => {
    expect(keyFromInfo('application/dtmf-relay', 'Signal=55\r\nDuration=160')).toBeUndefined();
    expect(keyFromInfo('application/dtmf-relay', 'Duration=160')).toBeUndefined();
    expect(keyFromInfo('text/plain', 'Signal=5')).toBeUndefined();
    expect(keyFromInfo(undefined, '5')).toBeUndefined();
  });
});

describe('legWithInfoKeys', () => {
  /** A leg's outside as the proxy sees it: events, a method that reads its own state, a property. */
  class FakeLeg {
    readonly id = 'leg-1';
    private readonly events = new EventEmitter();
    private packets = 7;
    on(event: string, listener: (...args: unknown[]) => void): () => void {
      this.events.on(event, listener);
      return () => this.events.off(event, listener);
    }
    emit(event: string, value: unknown): void {
      this.events.emit(event, value);
    }
    get packetsReceived(): number {
      return this.packets;
    }
  }

  it('gives dtmf listeners the leg\'s own keys and the INFO ones, until removed; everything else is the leg\'s', () => {
    const fake = new FakeLeg();
    const keys = new Set<(event: DtmfEvent) => void>();
    const leg = legWithInfoKeys(fake as unknown as MediaLeg, keys);
    const heard: string[] = [];
    const off = leg.on('dtmf', (event) => heard.push(event.digit));
    fake.emit('dtmf', { digit: '1', durationMs: 100 });
    for (const listener of keys) listener({ digit: '2', durationMs: 100 });
    expect(heard).toEqual(['1', '2']);
    off();
    fake.emit('dtmf', { digit: '3', durationMs: 100 });
    expect(keys.size).toBe(0);
    expect(heard).toEqual(['1', '2']);
    expect(leg.id).toBe('leg-1');
    expect(leg.packetsReceived).toBe(7);
  });
});
