/**
 * The user's app settings, kept on disk by electron-store and checked with the bridge's schema on every
 * read: a hand-edited or older file can never hand the renderer something the contract does not allow.
 */
import { AppSettings } from '../shared/bridge';
import { createLogger } from './log';

const log = createLogger('settings');

/** The part of electron-store this module uses. */
export interface SettingsBackend {
  readonly store: Record<string, unknown>;
  set(key: string, value: unknown): void;
  delete(key: string): void;
}

export const DEFAULT_SETTINGS: AppSettings = Object.freeze({});

type SettingKey = keyof AppSettings;
const SETTING_KEYS = Object.keys(AppSettings.shape) as SettingKey[];

export class SettingsStore {
  readonly #backend: SettingsBackend;
  readonly #defaults: AppSettings;

  /**
   * @param defaults what applies where nothing valid is stored, e.g. the PBX that `npm start` launched;
   *   checked against the schema like stored data, an invalid default is dropped.
   */
  constructor(backend: SettingsBackend, defaults: AppSettings = DEFAULT_SETTINGS) {
    this.#backend = backend;
    const checked = AppSettings.safeParse(defaults);
    if (!checked.success) log.warn('ignoring invalid default settings', { problem: checked.error.issues[0]?.message });
    this.#defaults = checked.success ? stripUndefined(checked.data) : DEFAULT_SETTINGS;
  }

  /** The stored settings; a field that fails the schema is dropped (its default applies) and logged. */
  get(): AppSettings {
    const stored = this.#readStored();
    const settings: Record<string, unknown> = { ...this.#defaults };
    for (const key of SETTING_KEYS) {
      if (stored[key] === undefined) continue;
      const field = AppSettings.shape[key].safeParse(stored[key]);
      if (field.success) settings[key] = field.data;
      else log.warn('ignoring an invalid stored setting', { key, problem: field.error.issues[0]?.message });
    }
    return AppSettings.parse(settings);
  }

  /** Applies `patch` (a key set to undefined clears that setting) and returns the settings now in force. */
  save(patch: AppSettings): AppSettings {
    const valid = AppSettings.parse(patch);
    log.debug('saving settings', { keys: Object.keys(patch) });
    for (const key of SETTING_KEYS) {
      if (!Object.hasOwn(patch, key)) continue;
      const value = valid[key];
      // electron-store refuses `undefined` as a value; clearing a setting is a delete.
      if (value === undefined) this.#backend.delete(key);
      else this.#backend.set(key, value);
    }
    return this.get();
  }

  #readStored(): Record<string, unknown> {
    try {
      const stored: unknown = this.#backend.store;
      if (stored !== null && typeof stored === 'object' && !Array.isArray(stored)) return stored as Record<string, unknown>;
      log.warn('the settings file does not hold an object; using defaults');
    } catch (error) {
      log.warn('the settings file could not be read; using defaults', { error });
    }
    return {};
  }
}

function stripUndefined(settings: AppSettings): AppSettings {
  return Object.fromEntries(Object.entries(settings).filter(([, value]) => value !== undefined));
}
