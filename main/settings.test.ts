import { describe, expect, it } from 'vitest';
import { SettingsStore } from './settings';
import type { SettingsBackend } from './settings';

/** Behaves as electron-store does for these calls, including its refusal of `undefined` values. */
class MemoryBackend implements SettingsBackend {
  constructor(public data: Record<string, unknown> = {}) {}
  get store() {
    return structuredClone(this.data);
  }
  set(key: string, value: unknown) {
    if (value === undefined) throw new TypeError('Use `delete()` to clear values');
    this.data[key] = value;
  }
  delete(key: string) {
    delete this.data[key];
  }
}

describe('SettingsStore', () => {
  it('starts with the defaults when nothing is stored', () => {
    expect(new SettingsStore(new MemoryBackend()).get()).toEqual({});
  });

  it('saves a patch and reads it back', () => {
    const backend = new MemoryBackend();
    const settings = new SettingsStore(backend);
    expect(settings.save({ serverUrl: 'http://127.0.0.1:8088' })).toEqual({ serverUrl: 'http://127.0.0.1:8088' });
    expect(settings.save({ lastExtension: '201' })).toEqual({ serverUrl: 'http://127.0.0.1:8088', lastExtension: '201' });
    expect(new SettingsStore(backend).get()).toEqual({ serverUrl: 'http://127.0.0.1:8088', lastExtension: '201' });
  });

  it('clears a setting patched to undefined', () => {
    const backend = new MemoryBackend({ serverUrl: 'http://pbx.example', lastExtension: '201' });
    expect(new SettingsStore(backend).save({ serverUrl: undefined })).toEqual({ lastExtension: '201' });
    expect(backend.data).toEqual({ lastExtension: '201' });
  });

  it('refuses to save a patch that breaks the schema', () => {
    const backend = new MemoryBackend();
    expect(() => new SettingsStore(backend).save({ lastExtension: 'x'.repeat(33) })).toThrow();
    expect(backend.data).toEqual({});
  });

  it('drops stored fields that fail the schema and keeps the valid ones', () => {
    const backend = new MemoryBackend({ serverUrl: 42, lastExtension: '305' });
    expect(new SettingsStore(backend).get()).toEqual({ lastExtension: '305' });
  });

  it('ignores stored keys the contract does not know', () => {
    const backend = new MemoryBackend({ serverUrl: 'http://pbx.example', windowBounds: { x: 1 } });
    expect(new SettingsStore(backend).get()).toEqual({ serverUrl: 'http://pbx.example' });
  });

  it('falls back to the defaults when the stored data is not an object or cannot be read', () => {
    const notAnObject = { store: ['serverUrl'] as unknown as Record<string, unknown>, set() {}, delete() {} };
    expect(new SettingsStore(notAnObject).get()).toEqual({});
    const unreadable: SettingsBackend = {
      get store(): Record<string, unknown> {
        throw new SyntaxError('Unexpected token in JSON');
      },
      set() {},
      delete() {},
    };
    expect(new SettingsStore(unreadable).get()).toEqual({});
  });

  it('applies the given defaults where nothing valid is stored', () => {
    const defaults = { serverUrl: 'http://127.0.0.1:8088' };
    expect(new SettingsStore(new MemoryBackend(), defaults).get()).toEqual(defaults);
    expect(new SettingsStore(new MemoryBackend({ serverUrl: 7 }), defaults).get()).toEqual(defaults);
    expect(new SettingsStore(new MemoryBackend({ serverUrl: 'http://pbx.example' }), defaults).get()).toEqual({ serverUrl: 'http://pbx.example' });
  });

  it('drops a default that fails the schema', () => {
    expect(new SettingsStore(new MemoryBackend(), { serverUrl: 'x'.repeat(5000) }).get()).toEqual({});
  });
});
