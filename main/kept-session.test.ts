import { describe, expect, it, vi } from 'vitest';
import { KEPT_SESSION_KEY, KeptSessionStore } from './kept-session';
import type { KeptSessionBackend, SafeStorageLike } from './kept-session';

const KEPT = { serverUrl: 'https://pbx.example', token: 'tok_secret_0123456789' };

/** Behaves as electron-store does for these calls. */
class MemoryBackend implements KeptSessionBackend {
  readonly data = new Map<string, unknown>();
  get(key: string) {
    return this.data.get(key);
  }
  set(key: string, value: unknown) {
    if (value === undefined) throw new TypeError('Use `delete()` to clear values');
    this.data.set(key, value);
  }
  delete(key: string) {
    this.data.delete(key);
  }
}

/** Stands in for the OS's secret store: a reversible scrambling with a key of this "machine". */
function fakeSafeStorage(options: { available?: boolean; backend?: string; key?: number } = {}): SafeStorageLike {
  const key = options.key ?? 0x5a;
  const scramble = (bytes: Buffer) => Buffer.from(bytes.map((byte) => byte ^ key));
  return {
    isEncryptionAvailable: () => options.available ?? true,
    encryptString: (text) => Buffer.concat([Buffer.from('v10'), scramble(Buffer.from(text, 'utf8'))]),
    decryptString: (encrypted) => {
      if (encrypted.subarray(0, 3).toString() !== 'v10') throw new Error('Error while decrypting the ciphertext provided to safeStorage.decryptString.');
      return scramble(encrypted.subarray(3)).toString('utf8');
    },
    ...(options.backend === undefined ? {} : { getSelectedStorageBackend: () => options.backend ?? '' }),
  };
}

describe('KeptSessionStore', () => {
  it('keeps the session encrypted in the store file and reads it back', () => {
    const backend = new MemoryBackend();
    new KeptSessionStore(backend, fakeSafeStorage({ backend: 'gnome_libsecret' })).keep(KEPT);
    const stored = backend.get(KEPT_SESSION_KEY);
    expect(typeof stored).toBe('string');
    expect(String(stored)).not.toContain(KEPT.token);
    expect(Buffer.from(String(stored), 'base64').toString('latin1')).not.toContain(KEPT.token);
    // A restart: a new store over the same file.
    expect(new KeptSessionStore(backend, fakeSafeStorage({ backend: 'gnome_libsecret' })).get()).toEqual(KEPT);
  });

  it('has nothing to give when nothing was kept', () => {
    expect(new KeptSessionStore(new MemoryBackend(), fakeSafeStorage()).get()).toBeNull();
  });

  it('keeps nothing where the OS cannot encrypt, and forgets what an earlier run kept', () => {
    const backend = new MemoryBackend();
    new KeptSessionStore(backend, fakeSafeStorage()).keep(KEPT);
    const unavailable = new KeptSessionStore(backend, fakeSafeStorage({ available: false }));
    expect(unavailable.get()).toBeNull();
    unavailable.keep(KEPT);
    expect(backend.data.has(KEPT_SESSION_KEY)).toBe(false);
  });

  it.each(['basic_text', 'unknown'])('keeps nothing on Linux with the %s backend, which protects nothing', (name) => {
    const backend = new MemoryBackend();
    const store = new KeptSessionStore(backend, fakeSafeStorage({ backend: name }));
    store.keep(KEPT);
    expect(backend.data.has(KEPT_SESSION_KEY)).toBe(false);
    expect(store.get()).toBeNull();
  });

  it('says in the log why the session is not kept', () => {
    const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      new KeptSessionStore(new MemoryBackend(), fakeSafeStorage({ backend: 'basic_text' })).keep(KEPT);
      const lines = write.mock.calls.map(([line]) => String(line)).join('');
      expect(lines).toMatch(/kept-session.*not kept across restarts.*basic_text/);
    } finally {
      write.mockRestore();
    }
  });

  it('forgets a kept session that cannot be decrypted here, or is not a session', () => {
    const backend = new MemoryBackend();
    new KeptSessionStore(backend, fakeSafeStorage({ key: 1 })).keep(KEPT);
    // Another machine's secret store: the bytes do not decrypt to a session.
    expect(new KeptSessionStore(backend, fakeSafeStorage({ key: 2 })).get()).toBeNull();
    expect(backend.data.has(KEPT_SESSION_KEY)).toBe(false);

    for (const stored of [42, 'not base64 of anything', Buffer.from('v10garbage').toString('base64')]) {
      backend.set(KEPT_SESSION_KEY, stored);
      expect(new KeptSessionStore(backend, fakeSafeStorage()).get()).toBeNull();
      expect(backend.data.has(KEPT_SESSION_KEY)).toBe(false);
    }
  });

  it('forgets the session on sign-out', () => {
    const backend = new MemoryBackend();
    const store = new KeptSessionStore(backend, fakeSafeStorage());
    store.keep(KEPT);
    store.forget();
    expect(store.get()).toBeNull();
    expect(backend.data.size).toBe(0);
  });
});
