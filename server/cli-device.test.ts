import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { computeHa1 } from './auth/digest';
import { runDevicePasswordCommand } from './cli-device';
import { ConfigError } from './config';
import { closeDatabase, openDatabase } from './store/db';
import { seedDemo } from './store/demo';
import { listDeviceHa1 } from './store/device-credentials';
import { migrateToLatest } from './store/migrate';
import { findUserByExtension } from './store/users';

describe('offhook-pbx user sip-password', () => {
  let dataDir: string;
  let out: string[];
  const io = (line = '') => ({ stdout: (text: string) => out.push(text), readLine: () => Promise.resolve(line) });

  beforeEach(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'offhook-cli-device-'));
    out = [];
    const db = openDatabase(join(dataDir, 'offhook.db'));
    await migrateToLatest(db);
    await seedDemo(db);
    await closeDatabase(db);
  });
  afterEach(() => {
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function ha1s(extension: string): Promise<string[]> {
    const db = openDatabase(join(dataDir, 'offhook.db'));
    try {
      const user = await findUserByExtension(db, 1, extension);
      return await listDeviceHa1(db, user!.id, 'MD5');
    } finally {
      await closeDatabase(db);
    }
  }

  it('sets a password read from standard input and says what to type into the phone', async () => {
    expect(await runDevicePasswordCommand(['--extension', '102', '--data-dir', dataDir], io('bobs-new-desk-pw'))).toBe(0);
    expect(await ha1s('102')).toEqual([computeHa1('MD5', '102', 'demo.offhook.test', 'bobs-new-desk-pw')]);
    expect(out.join('')).toContain('user name / auth ID  102');
    expect(out.join('')).toContain('domain / realm       demo.offhook.test');
    expect(out.join('')).not.toContain('bobs-new-desk-pw');
  });

  it('generates a password under another label and prints it once', async () => {
    await runDevicePasswordCommand(['--extension', '103', '--label', 'car kit', '--generate', '--data-dir', dataDir], io());
    const generated = /^\s+password\s+(\S+)/m.exec(out.join(''))?.[1] ?? '';
    expect(generated.length).toBeGreaterThanOrEqual(16);
    expect(await ha1s('103')).toEqual([
      computeHa1('MD5', '103', 'demo.offhook.test', 'carol-103-sip'),
      computeHa1('MD5', '103', 'demo.offhook.test', generated),
    ]);
  });

  it('refuses usage mistakes with a sentence', async () => {
    await expect(runDevicePasswordCommand(['--extension', '1x', '--data-dir', dataDir], io('long-enough'))).rejects.toThrow(ConfigError);
    await expect(runDevicePasswordCommand(['--extension', '102', '--data-dir', dataDir], io('short'))).rejects.toThrow(/at least 8/);
    await expect(runDevicePasswordCommand(['--extension', '555', '--data-dir', dataDir], io('long-enough'))).rejects.toThrow(/no extension 555/);
    await expect(runDevicePasswordCommand(['--extension', '102', '--organization', 'nope.test', '--data-dir', dataDir], io('long-enough'))).rejects.toThrow(/no organization/);
    await expect(runDevicePasswordCommand(['--bogus'], io())).rejects.toThrow(/Unknown option --bogus/);
  });
});
