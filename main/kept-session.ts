/**
 * The session the desktop app keeps between runs, so that a restart finds the person still signed in: the server
 * and the bearer token, encrypted with the OS's secret store through Electron's safeStorage (Keychain, DPAPI,
 * libsecret or KWallet) and written in the electron-store file beside the settings. Where the OS offers no real
 * secret store (Linux without one falls back to a fixed key, `basic_text`), nothing is kept and the log says why:
 * the person signs in again after a restart rather than leaving a usable token in a readable file.
 */
import { KeptSession } from '../shared/bridge';
import { createLogger } from './log';

const log = createLogger('kept-session');

/** The key in the electron-store file; the settings store never reads or writes it. */
export const KEPT_SESSION_KEY = 'keptSession';

/** The part of Electron's `safeStorage` this module uses. */
export interface SafeStorageLike {
  isEncryptionAvailable(): boolean;
  encryptString(plainText: string): Buffer;
  decryptString(encrypted: Buffer): string;
  /** Linux only: which secret store encrypts. */
  getSelectedStorageBackend?(): string;
}

/** The part of electron-store this module uses. */
export interface KeptSessionBackend {
  get(key: string): unknown;
  set(key: string, value: unknown): void;
  delete(key: string): void;
}

/** Linux backends that protect nothing: a key built into Chromium, or none chosen yet (before the app is ready). */
const INSECURE_BACKENDS = new Set(['basic_text', 'unknown']);

export class KeptSessionStore {
  constructor(
    private readonly backend: KeptSessionBackend,
    private readonly safeStorage: SafeStorageLike,
  ) {}

  /** Why a session cannot be kept here, or undefined when it can. */
  private unavailable(): string | undefined {
    if (!this.safeStorage.isEncryptionAvailable()) return 'the OS offers no encryption for it';
    const backend = this.safeStorage.getSelectedStorageBackend?.();
    if (backend !== undefined && INSECURE_BACKENDS.has(backend)) return `no secret store is running (safeStorage backend: ${backend})`;
    return undefined;
  }

  /** The session kept from the last run; null when none was kept, or it cannot be read back (it is then forgotten). */
  get(): KeptSession | null {
    const stored = this.backend.get(KEPT_SESSION_KEY);
    if (stored === undefined) return null;
    const why = this.unavailable();
    if (why) {
      log.warn('the kept session cannot be read; sign-in will be asked', { reason: why });
      return null;
    }
    try {
      if (typeof stored !== 'string') throw new Error('not a string');
      const kept = KeptSession.safeParse(JSON.parse(this.safeStorage.decryptString(Buffer.from(stored, 'base64'))));
      if (kept.success) return kept.data;
      throw new Error('not a kept session');
    } catch (error) {
      // Encrypted by another user or machine, or edited by hand: of no use, so it goes.
      log.warn('the kept session is unreadable and is forgotten', { error: error instanceof Error ? error.message : String(error) });
      this.forget();
      return null;
    }
  }

  /** Keeps `kept` encrypted; where it cannot be encrypted it is not kept at all (and any older one is forgotten). */
  keep(kept: KeptSession): void {
    const why = this.unavailable();
    if (why) {
      log.warn('the session is not kept across restarts', { reason: why });
      this.forget();
      return;
    }
    const valid = KeptSession.parse(kept);
    this.backend.set(KEPT_SESSION_KEY, this.safeStorage.encryptString(JSON.stringify(valid)).toString('base64'));
    log.debug('session kept');
  }

  forget(): void {
    this.backend.delete(KEPT_SESSION_KEY);
  }
}
