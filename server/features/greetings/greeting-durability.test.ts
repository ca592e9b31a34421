import { mkdtempSync, rmSync } from 'node:fs';
import type * as FsPromises from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { encodeWav } from '../../media/audio-file';
import { seedPeople } from '../../store/test-people';
import { openTestDatabase } from '../../store/test-support';
import type { TestDatabase } from '../../store/test-support';
import { GreetingLibrary } from './index';

/** What reached the disk, in order: every file handle synced and every rename. */
const disk = vi.hoisted(() => ({ steps: [] as string[] }));

vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof FsPromises>();
  return {
    ...actual,
    open: async (...args: Parameters<typeof actual.open>) => {
      const handle = await actual.open(...args);
      const sync = handle.sync.bind(handle);
      handle.sync = async () => {
        disk.steps.push(`sync ${String(args[0])}`);
        await sync();
      };
      return handle;
    },
    rename: async (from: string, to: string) => {
      disk.steps.push(`rename ${from} -> ${to}`);
      await actual.rename(from, to);
    },
  };
});

let store: TestDatabase;
let dataDir: string;

beforeEach(async () => {
  store = await openTestDatabase('memory');
  dataDir = mkdtempSync(join(tmpdir(), 'offhook-greetings-'));
  disk.steps = [];
});
afterEach(async () => {
  await store.close();
  rmSync(dataDir, { recursive: true, force: true });
});

it('an upload is synced to disk, renamed into place and its folder synced, new folders too, as a voicemail message is', async () => {
  const demo = await seedPeople(store.db, 'demo.test', ['101']);
  const owner = { organizationId: demo.organizationId, userId: demo.userIds[0]! };
  const library = new GreetingLibrary(store.db, dataDir);
  const samples = new Int16Array(8000).fill(1000);
  const added = await library.add(owner, 'Office', encodeWav(samples, 8000));
  const stored = await store.db.selectFrom('greetings').select('file').where('id', '=', added.id).executeTakeFirstOrThrow();
  const path = join(dataDir, stored.file);
  // The folders made for the first upload (greetings/<organization>/<user>) are synced into their parents first.
  const made = [dirname(dirname(path)), dirname(dirname(dirname(path))), dataDir].map((folder) => `sync ${folder}`);
  expect(disk.steps).toEqual([...made, `sync ${path}.part`, `rename ${path}.part -> ${path}`, `sync ${dirname(path)}`]);
});
