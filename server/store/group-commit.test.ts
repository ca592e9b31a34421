import { describe, expect, it } from 'vitest';
import { GroupCommit } from './group-commit';

/** A commit that records its batches and refuses the items `refuse` names. */
function recorder(refuse: (item: number) => boolean = () => false) {
  const batches: number[][] = [];
  const commit = (items: readonly number[]) => {
    batches.push([...items]);
    const bad = items.find(refuse);
    return bad === undefined ? Promise.resolve() : Promise.reject(new Error(`item ${bad} refused`));
  };
  return { batches, commit };
}

describe('GroupCommit', () => {
  it('commits what was queued within the window as one batch, each item settling once it is in', async () => {
    const { batches, commit } = recorder();
    const group = new GroupCommit(commit, { windowMs: 5, maxItems: 100 }, 'test');
    let settled = 0;
    const writes = [1, 2, 3].map((item) => group.add(item).then(() => settled++));
    expect(settled).toBe(0);
    await Promise.all(writes);
    expect(batches).toEqual([[1, 2, 3]]);
    expect(group.pending).toBe(0);
  });

  it('starts the batch at the earliest deadline of what it holds, taking the patient items along', async () => {
    const { batches, commit } = recorder();
    // The default window is far beyond the test's timeout: only the urgent item can start this batch.
    const group = new GroupCommit(commit, { windowMs: 600_000, maxItems: 100 }, 'test');
    const patient = group.add(1);
    await group.add(2, 0);
    await patient;
    expect(batches).toEqual([[1, 2]]);
  });

  it('runs one batch at a time, in order, and at most maxItems in each', async () => {
    const { batches, commit } = recorder();
    const group = new GroupCommit(commit, { windowMs: 1, maxItems: 2 }, 'test');
    await Promise.all([1, 2, 3, 4, 5].map((item) => group.add(item)));
    expect(batches).toEqual([[1, 2], [3, 4], [5]]);
  });

  it('writes a failed batch one by one, so one bad item costs no other, and flush() waits for everything queued', async () => {
    const { batches, commit } = recorder((item) => item === 2);
    const group = new GroupCommit(commit, { windowMs: 600_000, maxItems: 100 }, 'test');
    const good = group.add(1);
    const bad = group.add(2).catch((error: unknown) => error);
    const alsoGood = group.add(3);
    await group.flush();
    expect(String(await bad)).toContain('item 2 refused');
    await expect(good).resolves.toBeUndefined();
    await expect(alsoGood).resolves.toBeUndefined();
    expect(batches).toEqual([[1, 2, 3], [1], [2], [3]]);
  });

  it('fails a batch of one with its own error, and goes on with the next', async () => {
    const { batches, commit } = recorder((item) => item === 1);
    const group = new GroupCommit(commit, { windowMs: 1, maxItems: 1 }, 'test');
    const failed = group.add(1).catch((error: unknown) => error);
    const next = group.add(2);
    expect(String(await failed)).toContain('item 1 refused');
    await expect(next).resolves.toBeUndefined();
    expect(batches).toEqual([[1], [2]]);
  });
});
