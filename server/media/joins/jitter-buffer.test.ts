import { describe, expect, it } from 'vitest';
import { JitterBuffer } from './jitter-buffer';
import type { Playout } from './jitter-buffer';

const payload = (n: number) => Buffer.from([n & 0xff]);
const show = (p: Playout) => (p.kind === 'frame' ? p.payload[0] : p.kind);

describe('JitterBuffer', () => {
  it('plays packets in sequence-number order whatever order they came in', () => {
    const buffer = new JitterBuffer({ prefill: 3 });
    for (const seq of [12, 10, 11]) buffer.push(seq, 1, payload(seq));
    buffer.push(14, 1, payload(14));
    buffer.push(13, 1, payload(13));
    expect([1, 2, 3, 4, 5].map(() => show(buffer.pop()))).toEqual([10, 11, 12, 13, 14]);
  });

  it('waits for the prefill before it plays', () => {
    const buffer = new JitterBuffer({ prefill: 2 });
    buffer.push(1, 1, payload(1));
    expect(show(buffer.pop())).toBe('empty');
    buffer.push(2, 1, payload(2));
    expect(show(buffer.pop())).toBe(1);
  });

  it('reports a missing packet as lost once a later one is in, and drops it when it comes late', () => {
    const buffer = new JitterBuffer();
    buffer.push(1, 1, payload(1));
    expect(show(buffer.pop())).toBe(1);
    buffer.push(3, 1, payload(3));
    expect(show(buffer.pop())).toBe('lost');
    buffer.push(2, 1, payload(2));
    expect(show(buffer.pop())).toBe(3);
    expect(buffer.stats).toMatchObject({ played: 2, lost: 1, late: 1 });
  });

  it('waits for a late packet instead of losing it when nothing else is in', () => {
    const buffer = new JitterBuffer();
    buffer.push(1, 1, payload(1));
    expect(show(buffer.pop())).toBe(1);
    expect(show(buffer.pop())).toBe('empty');
    buffer.push(2, 1, payload(2));
    buffer.push(3, 1, payload(3));
    expect([show(buffer.pop()), show(buffer.pop())]).toEqual([2, 3]);
    expect(buffer.stats.lost).toBe(0);
  });

  it('counts on across the wrap of sequence numbers', () => {
    const buffer = new JitterBuffer();
    for (const seq of [65534, 65535, 0, 1]) buffer.push(seq, 1, payload(seq));
    expect([1, 2, 3, 4].map(() => show(buffer.pop()))).toEqual([254, 255, 0, 1]);
  });

  it('drops the oldest packets when too many wait, so the delay stays bounded', () => {
    const buffer = new JitterBuffer({ prefill: 2, maxDepth: 4 });
    for (let seq = 1; seq <= 8; seq++) buffer.push(seq, 1, payload(seq));
    expect(show(buffer.pop())).toBe(7);
    expect(buffer.depth).toBe(1);
    expect(buffer.stats.discarded).toBe(6);
  });

  it('starts over when the source (SSRC) changes', () => {
    const buffer = new JitterBuffer();
    buffer.push(100, 1, payload(100));
    buffer.push(5000, 2, payload(50));
    expect(show(buffer.pop())).toBe(50);
  });

  it('takes the stream as paused after several empty ticks and prefills again', () => {
    const buffer = new JitterBuffer({ prefill: 2, maxWait: 2 });
    buffer.push(1, 1, payload(1));
    buffer.push(2, 1, payload(2));
    buffer.pop();
    buffer.pop();
    buffer.pop();
    buffer.pop();
    buffer.push(40, 1, payload(40));
    expect(show(buffer.pop())).toBe('empty');
    buffer.push(41, 1, payload(41));
    expect(show(buffer.pop())).toBe(40);
  });
});
