import { describe, expect, it, vi } from 'vitest';
import { acquireSingleInstance } from './single-instance';
import type { SingleInstanceApp } from './single-instance';

class FakeApp implements SingleInstanceApp {
  readonly listeners: ((event: unknown, argv: string[], workingDirectory: string) => void)[] = [];
  constructor(private readonly lockFree: boolean) {}
  requestSingleInstanceLock() {
    return this.lockFree;
  }
  on(_event: 'second-instance', listener: (event: unknown, argv: string[], workingDirectory: string) => void) {
    this.listeners.push(listener);
    return this;
  }
  launchAgain(argv: string[], workingDirectory = '/home/user') {
    for (const listener of this.listeners) listener({}, argv, workingDirectory);
  }
}

describe('acquireSingleInstance', () => {
  it('is the only instance when the lock is free, and hears of later launches with their command line', () => {
    const app = new FakeApp(true);
    const onSecondInstance = vi.fn();
    expect(acquireSingleInstance(app, onSecondInstance)).toBe(true);
    app.launchAgain(['/opt/Offhook/offhook', 'tel:+15551234567']);
    expect(onSecondInstance).toHaveBeenCalledWith({ argv: ['/opt/Offhook/offhook', 'tel:+15551234567'], workingDirectory: '/home/user' });
  });

  it('gives way when another instance holds the lock', () => {
    const app = new FakeApp(false);
    const onSecondInstance = vi.fn();
    expect(acquireSingleInstance(app, onSecondInstance)).toBe(false);
    expect(app.listeners).toHaveLength(0);
  });
});
