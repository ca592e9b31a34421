import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ICE_RESTART_AFTER_MS, ICE_RESTART_RETRY_MS, MEDIA_GIVE_UP_MS, MediaWatch } from './media-watch';

describe('MediaWatch', () => {
  let events: string[];
  let restartPossible: boolean;
  let watch: MediaWatch;

  beforeEach(() => {
    vi.useFakeTimers();
    events = [];
    restartPossible = true;
    watch = new MediaWatch({
      restartIce: () => {
        events.push(restartPossible ? 'restart' : 'restart not possible');
        return restartPossible;
      },
      giveUp: () => events.push('give up'),
    });
    watch.update('checking');
    watch.update('connected');
  });

  afterEach(() => {
    watch.dispose();
    vi.useRealTimers();
  });

  it('leaves a blip the browser recovers from by itself alone', () => {
    watch.update('disconnected');
    vi.advanceTimersByTime(ICE_RESTART_AFTER_MS - 1);
    watch.update('connected');
    vi.advanceTimersByTime(MEDIA_GIVE_UP_MS);
    expect(events).toEqual([]);
  });

  it('restarts ICE once media has been down for two seconds, and again while it stays down', () => {
    watch.update('disconnected');
    vi.advanceTimersByTime(ICE_RESTART_AFTER_MS);
    expect(events).toEqual(['restart']);
    watch.update('checking');
    vi.advanceTimersByTime(ICE_RESTART_RETRY_MS);
    expect(events).toEqual(['restart', 'restart']);
    watch.update('completed');
    vi.advanceTimersByTime(MEDIA_GIVE_UP_MS);
    expect(events).toEqual(['restart', 'restart']);
  });

  it('ends a call whose media stays down for fifteen seconds, once', () => {
    watch.update('failed');
    vi.advanceTimersByTime(MEDIA_GIVE_UP_MS - 1);
    expect(events).not.toContain('give up');
    vi.advanceTimersByTime(1);
    expect(events.at(-1)).toBe('give up');
    watch.update('disconnected');
    vi.advanceTimersByTime(MEDIA_GIVE_UP_MS * 2);
    expect(events.filter((event) => event === 'give up')).toHaveLength(1);
  });

  it('keeps the give-up clock running through a restart that does not bring media back', () => {
    watch.update('disconnected');
    vi.advanceTimersByTime(ICE_RESTART_AFTER_MS);
    watch.update('checking');
    watch.update('disconnected');
    vi.advanceTimersByTime(MEDIA_GIVE_UP_MS - ICE_RESTART_AFTER_MS);
    expect(events.at(-1)).toBe('give up');
  });

  it('tries again within a second when a restart cannot start yet (the PBX connection is being replaced)', () => {
    restartPossible = false;
    watch.update('disconnected');
    vi.advanceTimersByTime(ICE_RESTART_AFTER_MS);
    restartPossible = true;
    vi.advanceTimersByTime(1_000);
    expect(events).toEqual(['restart not possible', 'restart']);
  });

  it('stops watching a closed connection', () => {
    watch.update('disconnected');
    watch.update('closed');
    vi.advanceTimersByTime(MEDIA_GIVE_UP_MS);
    expect(events).toEqual([]);
  });
});
