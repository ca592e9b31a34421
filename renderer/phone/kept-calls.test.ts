import { describe, expect, it } from 'vitest';
import { clearKeptCalls, KEPT_CALL_MAX_AGE_MS, KEPT_CALLS_KEY, replacesHeader, saveKeptCalls, takeKeptCalls } from './kept-calls';
import type { KeptCall, KeptCallStorage } from './kept-calls';
import type { PhoneAccount } from './engine';

function memoryStorage(): KeptCallStorage & { items: Map<string, string> } {
  const items = new Map<string, string>();
  return {
    items,
    getItem: (key) => items.get(key) ?? null,
    setItem: (key, value) => void items.set(key, value),
    removeItem: (key) => void items.delete(key),
  };
}

const call: KeptCall = {
  sipCallId: 'a84b4c76e66710',
  localTag: '1928301774',
  remoteTag: 'a6c85cf',
  direction: 'outgoing',
  remote: { name: 'Bob', number: '102' },
  answeredAt: 1_000,
  held: false,
  savedAt: 50_000,
};

const alice: PhoneAccount = { server: 'wss://pbx.example/sip', uri: 'sip:101@example.com' };

describe('calls kept across a reload', () => {
  it('keeps the dialog and the party, and gives them back once', () => {
    const storage = memoryStorage();
    saveKeptCalls(storage, alice, [call]);
    expect(takeKeptCalls(storage, alice, 55_000)).toEqual([call]);
    expect(takeKeptCalls(storage, alice, 55_000)).toEqual([]);
  });

  it('names the old dialog in a Replaces header (RFC 3891)', () => {
    expect(replacesHeader(call)).toBe('a84b4c76e66710;to-tag=a6c85cf;from-tag=1928301774');
  });

  it('drops calls older than the PBX waits for, and clears the entry when nothing is kept', () => {
    const storage = memoryStorage();
    saveKeptCalls(storage, alice, [call, { ...call, sipCallId: 'newer', savedAt: 60_000 }]);
    expect(takeKeptCalls(storage, alice, 50_000 + KEPT_CALL_MAX_AGE_MS + 1).map((kept) => kept.sipCallId)).toEqual(['newer']);
    saveKeptCalls(storage, alice, [call]);
    saveKeptCalls(storage, alice, []);
    expect(storage.items.has(KEPT_CALLS_KEY)).toBe(false);
  });

  it('ignores what is not a kept call: bad JSON, missing fields, values that would change the Replaces header', () => {
    const storage = memoryStorage();
    storage.setItem(KEPT_CALLS_KEY, '{not json');
    expect(takeKeptCalls(storage, alice, 55_000)).toEqual([]);
    storage.setItem(KEPT_CALLS_KEY, JSON.stringify([call]));
    expect(takeKeptCalls(storage, alice, 55_000)).toEqual([]);
    storage.setItem(
      KEPT_CALLS_KEY,
      JSON.stringify({ account: alice, calls: [
        { ...call, localTag: 'x;early-only' },
        { ...call, remoteTag: undefined },
        { ...call, direction: 'sideways' },
        { ...call, remote: { name: 'Eve', number: 'sip:eve@elsewhere' } },
        { ...call, held: 'yes' },
        'text',
        call,
      ] }),
    );
    expect(takeKeptCalls(storage, alice, 55_000)).toEqual([call]);
  });

  it('keeps whether the user held the call', () => {
    const storage = memoryStorage();
    saveKeptCalls(storage, alice, [{ ...call, held: true }, { ...call, sipCallId: 'on-the-line' }]);
    expect(takeKeptCalls(storage, alice, 55_000).map((kept) => [kept.sipCallId, kept.held])).toEqual([
      [call.sipCallId, true],
      ['on-the-line', false],
    ]);
  });

  it("gives another account nothing of the calls, and clears them (another user signing in on the tab)", () => {
    const storage = memoryStorage();
    saveKeptCalls(storage, alice, [call]);
    expect(takeKeptCalls(storage, { ...alice, uri: 'sip:102@example.com' }, 55_000)).toEqual([]);
    expect(storage.items.has(KEPT_CALLS_KEY)).toBe(false);
    saveKeptCalls(storage, alice, [call]);
    expect(takeKeptCalls(storage, { ...alice, server: 'wss://other.example/sip' }, 55_000)).toEqual([]);
    saveKeptCalls(storage, alice, [call]);
    clearKeptCalls(storage);
    expect(takeKeptCalls(storage, alice, 55_000)).toEqual([]);
  });
});
