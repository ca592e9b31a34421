import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { connectionCaps, parseOpenFileLimit } from './open-file-limit';
import type { RaisedLimit } from './open-file-limit';

const ROOT = resolve(import.meta.dirname, '..');

describe('the open-file limit', () => {
  it('is read from /proc/<pid>/limits, unlimited included', () => {
    const text = [
      'Limit                     Soft Limit           Hard Limit           Units     ',
      'Max processes             63413                63413                processes ',
      'Max open files            1024                 524288               files     ',
    ].join('\n');
    expect(parseOpenFileLimit(text)).toEqual({ soft: 1024, hard: 524288 });
    expect(parseOpenFileLimit('Max open files            unlimited            unlimited            files')).toEqual({ soft: Infinity, hard: Infinity });
    expect(parseOpenFileLimit('Max processes 1 1')).toBeUndefined();
  });

  it('caps stream connections below it with the reserve, and HTTP within what they leave but half the reserve', () => {
    const settings = { streams: 10_000, http: 1_000 };
    expect(connectionCaps(settings, 1024, 256)).toEqual({ streams: 768, http: 128, streamsLimitedByOpenFiles: true });
    expect(connectionCaps(settings, 1_048_576, 256)).toEqual({ streams: 10_000, http: 1_000, streamsLimitedByOpenFiles: false });
    expect(connectionCaps(settings, undefined, 256)).toEqual({ streams: 10_000, http: 1_000, streamsLimitedByOpenFiles: false });
    expect(connectionCaps(settings, Infinity, 256)).toEqual({ streams: 10_000, http: 1_000, streamsLimitedByOpenFiles: false });
    // A limit within the reserve still leaves something for each, and the stream cap says it was limited.
    const tight = connectionCaps(settings, 200, 256);
    expect(tight.streams).toBe(50);
    expect(tight.http).toBe(22);
    expect(tight.streamsLimitedByOpenFiles).toBe(true);
  });

  /** Runs raiseOpenFileLimit in a Node process whose soft limit was first lowered to 200 (Node raises it as it starts). */
  function raiseInChild(via: 'addon' | 'prlimit'): RaisedLimit {
    const script = [
      "import { spawnSync } from 'node:child_process';",
      "import { raiseOpenFileLimit } from './server/open-file-limit.ts';",
      "spawnSync('prlimit', ['--pid', String(process.pid), '--nofile=200:']);",
      'process.stdout.write(JSON.stringify(raiseOpenFileLimit(process.argv[1])));',
    ].join('\n');
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, via], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, OFFHOOK_LOG_LEVEL: 'silent' } });
    expect(child.status, child.stderr).toBe(0);
    return JSON.parse(child.stdout) as RaisedLimit;
  }

  it.skipIf(process.platform !== 'linux')('is raised to the hard limit by the native addon (Linux only: /proc and setrlimit)', () => {
    const raised = raiseInChild('addon');
    expect(raised.before).toBe(200);
    expect(raised.after).toBe(raised.hard);
    expect(raised.raisedBy).toBe('addon');
  });

  it.skipIf(process.platform !== 'linux')('is raised to the hard limit by prlimit where the addon is not there (Linux only: util-linux)', () => {
    const raised = raiseInChild('prlimit');
    expect(raised.before).toBe(200);
    expect(raised.after).toBe(raised.hard);
    expect(raised.raisedBy).toBe('prlimit');
  });
});
