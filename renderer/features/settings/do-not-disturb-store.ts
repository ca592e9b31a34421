/**
 * Do not disturb, a PBX setting (`GET`/`PUT /api/v1/me/do-not-disturb`, shared/do-not-disturb.ts): while it is on
 * the PBX rings none of the user's devices, desk phones included, and every signed-in app shows it, following
 * the `do-not-disturb` live event. The app's own setting is only the fallback: while the PBX's setting cannot be
 * read (a PBX without it, or not reached yet) the app turns calls away itself, as it did before the PBX had it.
 * The last value the PBX gave is kept in the app's settings, so that fallback starts from it.
 */
import { defineStore } from 'pinia';
import { computed, ref, watch } from 'vue';
import { DO_NOT_DISTURB_PATH, DoNotDisturb } from '../../../shared/do-not-disturb';
import { ApiError } from '../../../shared/api';
import { createLogger } from '../../log';
import { useEventsStore } from '../events';
import { useSessionStore } from '../sign-in';
import { useSettingsStore } from './settings-store';

const log = createLogger('do-not-disturb');
const TIMEOUT_MS = 10_000;

/** Why the PBX's setting could not be read or changed, as a sentence. */
class DoNotDisturbError extends Error {}

async function exchange(serverUrl: string, token: string, enabled?: boolean): Promise<boolean> {
  let response: Response;
  try {
    response = await fetch(`${serverUrl}${DO_NOT_DISTURB_PATH}`, {
      method: enabled === undefined ? 'GET' : 'PUT',
      headers: { authorization: `Bearer ${token}`, accept: 'application/json', ...(enabled === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(enabled === undefined ? {} : { body: JSON.stringify({ enabled } satisfies DoNotDisturb) }),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch {
    throw new DoNotDisturbError(`Can't reach the server at ${serverUrl}.`);
  }
  const body: unknown = await response.json().catch(() => undefined);
  if (!response.ok) {
    const problem = ApiError.safeParse(body);
    throw new DoNotDisturbError(problem.success ? problem.data.error.message : `The server answered with error ${response.status}.`);
  }
  const parsed = DoNotDisturb.safeParse(body);
  if (!parsed.success) throw new DoNotDisturbError('The server sent an answer this app does not understand.');
  return parsed.data.enabled;
}

export const useDoNotDisturbStore = defineStore('do-not-disturb', () => {
  const settings = useSettingsStore();
  const session = useSessionStore();
  /** What the PBX says; undefined while its setting cannot be read. */
  const atPbx = ref<boolean>();
  /** Why the last change did not reach the PBX. */
  const error = ref('');

  /** What the app shows. */
  const enabled = computed(() => atPbx.value ?? settings.settings.doNotDisturb === true);
  /** Whether the phone turns calls away itself: only while the PBX's own setting is not known. */
  const silencesLocally = computed(() => atPbx.value === undefined && settings.settings.doNotDisturb === true);

  /** Keeps the PBX's value as the fallback for a later start without the PBX. */
  function remember(value: boolean): void {
    atPbx.value = value;
    if ((settings.settings.doNotDisturb === true) !== value) {
      void settings.save({ doNotDisturb: value }).catch(() => undefined);
    }
  }

  async function load(): Promise<void> {
    const token = session.session?.token;
    if (!token) return;
    try {
      remember(await exchange(session.serverUrl, token));
      error.value = '';
    } catch (failure) {
      atPbx.value = undefined;
      log.warn('could not read do not disturb from the PBX; the app turns calls away itself', { error: String(failure) });
    }
  }

  /** Turns do not disturb on or off at the PBX (every device follows), or in the app alone while the PBX cannot say. */
  async function set(value: boolean): Promise<void> {
    const token = session.session?.token;
    error.value = '';
    if (token && atPbx.value !== undefined) {
      try {
        remember(await exchange(session.serverUrl, token, value));
        return;
      } catch (failure) {
        error.value = `Do not disturb was not changed: ${failure instanceof Error ? failure.message : String(failure)}`;
        log.warn('could not change do not disturb at the PBX', { error: String(failure) });
        return;
      }
    }
    await settings.save({ doNotDisturb: value });
    // The PBX may have become readable since: try it too, so that other devices follow when they can.
    if (token) {
      try {
        remember(await exchange(session.serverUrl, token, value));
      } catch {
        // Still not there: the app's own setting stands.
      }
    }
  }

  let following = false;
  /**
   * From now on, reads the PBX's setting at each sign-in and follows its changes (called once at start, main.ts);
   * until then the app's own setting stands.
   */
  function follow(): void {
    if (following) return;
    following = true;
    const events = useEventsStore();
    events.on('do-not-disturb', (event) => remember(event.enabled));
    events.on('resync', () => void load());
    watch(
      () => session.session?.token,
      (token) => {
        if (token) void load();
        else atPbx.value = undefined;
      },
      { immediate: true },
    );
  }

  return { enabled, atPbx, silencesLocally, error, load, set, follow };
});
