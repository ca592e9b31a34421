/**
 * The common stage of an end-to-end test: the built PBX as a process with the demo organization, and one
 * Chromium per tone (each a person with a fake microphone playing it), torn down after the file's tests.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { DEMO_USERS } from '../../../server/store/demo';
import { launchBrowser } from './browser';
import { startPbxProcess } from './pbx-process';
import type { PbxProcess } from './pbx-process';
import { writeToneWav } from './tone';

export const alice = DEMO_USERS.find((u) => u.extension === '101')!;
export const bob = DEMO_USERS.find((u) => u.extension === '102')!;
export const carol = DEMO_USERS.find((u) => u.extension === '103')!;

export interface Stage {
  readonly pbx: PbxProcess;
  /** One browser per tone given, in order. */
  readonly browsers: Browser[];
  readonly workDir: string;
}

/** Registers beforeAll/afterAll hooks that set up the stage; read it inside tests. */
export function useStage(name: string, tonesHz: number[]): Stage {
  const stage = { browsers: [] as Browser[] } as { pbx: PbxProcess; browsers: Browser[]; workDir: string };
  beforeAll(async () => {
    stage.workDir = mkdtempSync(join(tmpdir(), `offhook-${name}-`));
    const files = tonesHz.map((hz, i) => {
      const file = join(stage.workDir, `tone-${i}-${hz}.wav`);
      writeToneWav(file, hz);
      return file;
    });
    stage.pbx = await startPbxProcess();
    stage.browsers = await Promise.all(files.map((file) => launchBrowser(file)));
  });
  afterAll(async () => {
    for (const browser of stage.browsers) await browser.close();
    await stage.pbx?.dispose();
    if (stage.workDir) rmSync(stage.workDir, { recursive: true, force: true });
  });
  return stage;
}
