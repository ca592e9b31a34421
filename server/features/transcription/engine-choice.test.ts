import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chooseEngine } from './engine-choice';
import type { PocketsphinxInstall } from './pocketsphinx';

describe('choosing the transcription engine', () => {
  let dir: string;
  let installed: PocketsphinxInstall;
  let absent: PocketsphinxInstall;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'offhook-choice-'));
    const binary = join(dir, 'pocketsphinx_continuous');
    writeFileSync(binary, '#!/bin/sh\n');
    chmodSync(binary, 0o755);
    mkdirSync(join(dir, 'en-us'));
    for (const file of ['en-us/mdef', 'en-us.lm.bin', 'cmudict-en-us.dict']) writeFileSync(join(dir, file), '');
    installed = { binary, model: dir };
    absent = { binary: join(dir, 'missing'), model: dir };
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs pocketsphinx by default when it is installed, and is off saying why when it is not', () => {
    expect(chooseEngine({}, installed).engine?.name).toBe('pocketsphinx');
    const off = chooseEngine({}, absent);
    expect(off.engine).toBeUndefined();
    expect(off.description).toBe(`off: ${absent.binary} is not installed (Debian package pocketsphinx)`);
  });

  it('follows the mode asked for, and refuses local when it cannot run', () => {
    expect(chooseEngine({ mode: 'off' }, installed).engine).toBeUndefined();
    const hosted = chooseEngine({ mode: 'hosted', url: 'https://stt.example/v1?token=x', key: 'k' }, installed);
    expect(hosted.engine?.name).toBe('hosted');
    expect(hosted.description).toBe('hosted, at https://stt.example');
    expect(chooseEngine({ url: 'https://stt.example/v1', key: 'k' }, installed).engine?.name).toBe('hosted');
    expect(chooseEngine({ url: 'http://stt.example/v1', key: 'k' }, installed).description).toBe('hosted, at http://stt.example (plain HTTP: the key and the messages cross the network unencrypted; use https)');
    expect(chooseEngine({ url: 'http://127.0.0.1:9000/v1', key: 'k' }, installed).description).toBe('hosted, at http://127.0.0.1:9000');
    expect(chooseEngine({ url: 'http://[::1]:9000/v1', key: 'k' }, installed).description).toBe('hosted, at http://[::1]:9000');
    expect(() => chooseEngine({ mode: 'local' }, absent)).toThrow(`Local transcription cannot run: ${absent.binary} is not installed (Debian package pocketsphinx).`);
    expect(() => chooseEngine({ mode: 'hosted' }, installed)).toThrow('Hosted transcription needs a service URL and key.');
  });
});
