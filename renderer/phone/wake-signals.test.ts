import { describe, expect, it } from 'vitest';
import type { WakeReason } from './connection-keeper';
import { watchWakeSignals } from './wake-signals';

function sources() {
  const window = new EventTarget();
  const document = Object.assign(new EventTarget(), { visibilityState: 'hidden' as DocumentVisibilityState });
  const resumeListeners = new Set<() => void>();
  const bridge = {
    onDidResume: (listener: () => void) => {
      resumeListeners.add(listener);
      return () => void resumeListeners.delete(listener);
    },
  };
  const resume = () => resumeListeners.forEach((listener) => listener());
  return { window, document, bridge, resume, resumeListeners };
}

describe('watchWakeSignals', () => {
  it('reports the network going and coming back, the page shown again, and the computer resuming', () => {
    const s = sources();
    const seen: WakeReason[] = [];
    watchWakeSignals(s, (reason) => seen.push(reason));
    s.window.dispatchEvent(new Event('offline'));
    s.window.dispatchEvent(new Event('online'));
    s.document.dispatchEvent(new Event('visibilitychange'));
    s.document.visibilityState = 'visible';
    s.document.dispatchEvent(new Event('visibilitychange'));
    s.resume();
    expect(seen).toEqual(['offline', 'online', 'visible', 'resume']);
  });

  it('stops listening to all of them when asked', () => {
    const s = sources();
    const seen: WakeReason[] = [];
    const stop = watchWakeSignals(s, (reason) => seen.push(reason));
    stop();
    s.window.dispatchEvent(new Event('online'));
    s.document.visibilityState = 'visible';
    s.document.dispatchEvent(new Event('visibilitychange'));
    s.resume();
    expect(seen).toEqual([]);
    expect(s.resumeListeners.size).toBe(0);
  });
});
