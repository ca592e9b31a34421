import { describe, expect, it } from 'vitest';
import { AudioWarmup } from './audio-warmup';
import type { AudioWarmupPorts } from './audio-warmup';

function ports(options: { context?: 'none' | 'throws' | 'close-fails' } = {}) {
  const idle: Array<() => void> = [];
  const made: Array<{ closed: boolean }> = [];
  const fake: AudioWarmupPorts = {
    createContext: () => {
      if (options.context === 'none') return undefined;
      if (options.context === 'throws') throw new Error('no audio device');
      const context = { closed: false };
      made.push(context);
      return {
        close: () => {
          context.closed = true;
          return options.context === 'close-fails' ? Promise.reject(new Error('already closed')) : Promise.resolve();
        },
      };
    },
    whenIdle: (task) => void idle.push(task),
  };
  const runIdle = () => idle.splice(0).forEach((task) => task());
  return { fake, made, idle, runIdle };
}

describe('AudioWarmup', () => {
  it('makes and closes one audio context once the phone is ready, when the page is idle', () => {
    const p = ports();
    const warmup = new AudioWarmup(p.fake);
    expect(p.made).toEqual([]);
    warmup.phoneReady();
    expect(p.made, 'nothing is done until the page is idle').toEqual([]);
    p.runIdle();
    expect(p.made).toEqual([{ closed: true }]);
  });

  it('warms only once, however often the phone registers again', () => {
    const p = ports();
    const warmup = new AudioWarmup(p.fake);
    warmup.phoneReady();
    p.runIdle();
    warmup.phoneReady();
    warmup.phoneReady();
    expect(p.idle).toEqual([]);
    p.runIdle();
    expect(p.made).toHaveLength(1);
  });

  it('does nothing where the page has no audio, and lets a failing browser be', async () => {
    for (const context of ['none', 'throws', 'close-fails'] as const) {
      const p = ports({ context });
      const warmup = new AudioWarmup(p.fake);
      warmup.phoneReady();
      expect(() => p.runIdle()).not.toThrow();
      // A rejected close() must not surface as an unhandled rejection.
      await Promise.resolve();
    }
  });
});
