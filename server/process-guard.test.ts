/**
 * The process-level safety net: counted and reported, a stray rejection or exception leaves the process
 * running. Shown in a child process, since an error that reaches the process is what is being tested.
 */
import { spawnSync } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { installProcessGuard } from './process-guard';

const GUARD = resolve(import.meta.dirname, 'process-guard.ts');

/** Runs `body` as an ES module in a child Node with TypeScript loading; `install` puts the guard in first. */
function child(install: boolean, body: string) {
  const script = `${install ? `import { installProcessGuard } from ${JSON.stringify(GUARD)}; const guard = installProcessGuard();` : 'const guard = { counts: {} };'}\n${body}`;
  const result = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000, env: { ...process.env, OFFHOOK_LOG_LEVEL: 'error' } });
  return { code: result.status, out: result.stdout, err: result.stderr };
}

const STRAY_ERRORS = `
void Promise.reject(new Error('nobody handles this'));
setTimeout(() => { throw new Error('thrown from a timer'); }, 0);
setTimeout(() => { process.stdout.write(JSON.stringify(guard.counts)); }, 200);
`;

describe('installProcessGuard', () => {
  it('keeps a process running through a rejection nobody handles and an exception from a timer, and counts both', () => {
    const guarded = child(true, STRAY_ERRORS);
    expect(guarded.code).toBe(0);
    expect(JSON.parse(guarded.out)).toEqual({ unhandledRejections: 1, uncaughtExceptions: 1 });
    expect(guarded.err).toContain('nobody handles this');
    expect(guarded.err).toContain('thrown from a timer');
    // Without it, Node ends the process at the first.
    const bare = child(false, STRAY_ERRORS);
    expect(bare.code).not.toBe(0);
    expect(bare.out).toBe('');
  });

  it('listens until uninstalled', () => {
    const target = new EventEmitter();
    // No lines: what is logged is shown in the child above.
    const guard = installProcessGuard(target, { burst: 0, windowMs: 60_000 });
    target.emit('unhandledRejection', new Error('one'));
    target.emit('uncaughtException', new Error('two'));
    target.emit('uncaughtException', 'not even an Error');
    expect(guard.counts).toEqual({ unhandledRejections: 1, uncaughtExceptions: 2 });
    guard.uninstall();
    expect(target.listenerCount('unhandledRejection') + target.listenerCount('uncaughtException')).toBe(0);
  });
});
