import { mkdtempSync, rmSync, writeFileSync, chmodSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parsePocketsphinxOutput, pocketsphinxLogError, pocketsphinxMissing, PocketsphinxEngine } from './pocketsphinx';
import { TranscriptionError } from './engine';

describe('pocketsphinx output', () => {
  it('joins the utterances and skips the silent ones', () => {
    expect(parsePocketsphinxOutput('hello this is bob\n\nplease call me back\n')).toBe('hello this is bob please call me back');
    expect(parsePocketsphinxOutput('\n\n')).toBe('');
  });

  it('drops fillers, noise and pronunciation variants', () => {
    expect(parsePocketsphinxOutput('<s> hello <sil> [NOISE] the(2) ++BREATH++ meeting </s>\r\n')).toBe('hello the meeting');
  });

  it('reads the last error from its log', () => {
    const log = 'INFO: cmd_ln.c(702): Parsing\nERROR: "acmod.c", line 78: Folder \'/x\' does not contain acoustic model definition \'mdef\'\n';
    expect(pocketsphinxLogError(log)).toBe("Folder '/x' does not contain acoustic model definition 'mdef'");
    expect(pocketsphinxLogError('FATAL: "continuous.c", line 157: Failed to open file \'/a.wav\' for reading\n')).toBe("Failed to open file '/a.wav' for reading");
    expect(pocketsphinxLogError('INFO: fine\n')).toBeUndefined();
  });
});

describe('pocketsphinx process', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'offhook-ps-test-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  /** A stand-in program at the edge: a shell script that behaves as pocketsphinx_continuous might. */
  function fakeBinary(script: string): string {
    const path = join(dir, 'fake-pocketsphinx');
    writeFileSync(path, `#!/bin/sh\n${script}\n`);
    chmodSync(path, 0o755);
    return path;
  }
  const audio = { samples: new Int16Array(16_000), rate: 16_000 };

  it('says what is missing', () => {
    expect(pocketsphinxMissing({ binary: join(dir, 'nope'), model: dir })).toMatch(/nope is not installed \(Debian package pocketsphinx\)/);
    expect(pocketsphinxMissing({ binary: fakeBinary('exit 0'), model: dir })).toMatch(/English model is missing: .*mdef \(Debian package pocketsphinx-en-us\)/);
    mkdirSync(join(dir, 'en-us'));
    for (const file of ['en-us/mdef', 'en-us.lm.bin', 'cmudict-en-us.dict']) writeFileSync(join(dir, file), '');
    expect(pocketsphinxMissing({ binary: fakeBinary('exit 0'), model: dir })).toBeUndefined();
  });

  it('hands the program a 16 kHz WAV and the model, and reads its output', async () => {
    // Echo the arguments' shape and the WAV header's rate back as "words".
    const binary = fakeBinary('while [ $# -gt 0 ]; do case "$1" in -infile) f="$2";; -samprate) r="$2";; esac; shift; done\nhead -c 4 "$f"; echo " rate $r"');
    const engine = new PocketsphinxEngine({ binary, model: dir });
    await expect(engine.transcribe(audio, new AbortController().signal)).resolves.toBe('RIFF rate 16000');
  });

  it('refuses audio at another rate', async () => {
    const engine = new PocketsphinxEngine({ binary: fakeBinary('echo never'), model: dir });
    await expect(engine.transcribe({ samples: new Int16Array(8000), rate: 8000 }, new AbortController().signal)).rejects.toThrow(/takes 16000 Hz audio, not 8000 Hz/);
  });

  it('reports a failure with the error it logged, not to be retried', async () => {
    const binary = fakeBinary('while [ $# -gt 0 ]; do [ "$1" = -logfn ] && l="$2"; shift; done\necho \'ERROR: "acmod.c", line 78: no mdef\' > "$l"; exit 1');
    const failure = await new PocketsphinxEngine({ binary, model: dir }).transcribe(audio, new AbortController().signal).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(TranscriptionError);
    expect((failure as TranscriptionError).message).toBe('pocketsphinx failed (exit code 1): no mdef');
    expect((failure as TranscriptionError).retryable).toBe(false);
  });

  it('kills a process that hangs, and one whose PBX is shutting down', async () => {
    const binary = fakeBinary('exec sleep 30');
    const slow = new PocketsphinxEngine({ binary, model: dir }, { timeoutMs: () => 100 });
    await expect(slow.transcribe(audio, new AbortController().signal)).rejects.toThrow(/took longer than 1 s and was stopped/);
    const stopping = new AbortController();
    const running = new PocketsphinxEngine({ binary, model: dir }).transcribe(audio, stopping.signal);
    setTimeout(() => stopping.abort(), 50);
    await expect(running).rejects.toThrow(/shutting down/);
  });

  it('reports a program that cannot start', async () => {
    await expect(new PocketsphinxEngine({ binary: join(dir, 'absent'), model: dir }).transcribe(audio, new AbortController().signal)).rejects.toThrow(/could not be started: spawn .*ENOENT/);
  });
});
