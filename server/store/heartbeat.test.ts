import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Heartbeat, readHeartbeat } from './heartbeat';
import { openTestDatabase } from './test-support';
import type { TestDatabase } from './test-support';

describe('Heartbeat', () => {
  let store: TestDatabase;
  beforeEach(async () => {
    store = await openTestDatabase('file');
  });
  afterEach(async () => {
    await store.close();
  });

  it('has nothing to say before it first beats', async () => {
    expect(await readHeartbeat(store.db)).toBeUndefined();
  });

  it('beats once at start and then every interval, running its task before each beat, until stopped', async () => {
    let clock = Date.parse('2025-06-01T12:00:00.000Z');
    let tasks = 0;
    const heartbeat = await Heartbeat.start(store.db, { intervalMs: 5, now: () => new Date(clock), onBeat: () => tasks++ });
    expect(await readHeartbeat(store.db)).toBe('2025-06-01T12:00:00.000Z');
    expect(tasks).toBe(0);

    clock += 5_000;
    await expect.poll(() => readHeartbeat(store.db)).toBe('2025-06-01T12:00:05.000Z');
    expect(tasks).toBeGreaterThan(0);

    await heartbeat.stop();
    clock += 5_000;
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(await readHeartbeat(store.db)).toBe('2025-06-01T12:00:05.000Z');
  });

  it('keeps beating when its task throws', async () => {
    let clock = Date.parse('2025-06-01T12:00:00.000Z');
    const heartbeat = await Heartbeat.start(store.db, {
      intervalMs: 5,
      now: () => new Date(clock),
      onBeat: () => {
        throw new Error('task failed');
      },
    });
    clock += 1_000;
    await expect.poll(() => readHeartbeat(store.db)).toBe('2025-06-01T12:00:01.000Z');
    await heartbeat.stop();
  });
});
