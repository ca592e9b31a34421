/**
 * The signed-in user's greetings as the PBX lists them, and what the pane asks of them: save a new one (a WAV
 * the app made, or a file as it is), rename, make active, go back to the default greeting, delete, fetch the audio
 * to play. After each change the list is the PBX's answer, so the one active greeting is always the one the PBX
 * will play, and with none active callers hear the PBX's default greeting.
 */
import { defineStore } from 'pinia';
import { computed, ref, shallowRef } from 'vue';
import type { Greeting } from '../../../shared/greetings';
import { RequestError } from '../../api/client';
import { createLogger } from '../../log';
import { useSessionStore } from '../sign-in';
import { deleteGreeting, fetchGreetingAudio, fetchGreetings, updateGreeting, uploadGreeting } from './greetings-api';
import type { GreetingsAccount } from './greetings-api';

const log = createLogger('greetings');

export const useGreetingsStore = defineStore('greetings', () => {
  /** Newest first, as the PBX lists them. */
  const greetings = shallowRef<readonly Greeting[]>([]);
  const loading = ref(false);
  const loaded = ref(false);
  /** The last failure, as a sentence to show; cleared by the next thing that works. */
  const error = ref('');
  /** A change is on its way to the PBX (buttons wait for it). */
  const busy = ref(false);
  /** The greeting callers hear; undefined when they hear the default greeting. */
  const active = computed(() => greetings.value.find((greeting) => greeting.active));

  function account(): GreetingsAccount | undefined {
    const session = useSessionStore();
    const token = session.session?.token;
    return token ? { server: session.serverUrl, token } : undefined;
  }

  /** Runs one request; on failure keeps its sentence in `error` and answers undefined. */
  async function attempt<T>(what: string, work: (a: GreetingsAccount) => Promise<T>): Promise<T | undefined> {
    const a = account();
    if (!a) return undefined;
    try {
      const result = await work(a);
      error.value = '';
      return result;
    } catch (failure) {
      error.value = failure instanceof RequestError ? failure.message : `Could not ${what}. Try again.`;
      log.warn('greetings request failed', { what, error: failure instanceof Error ? failure.message : String(failure) });
      if (failure instanceof RequestError && failure.signedOut) useSessionStore().signOut();
      return undefined;
    }
  }

  async function refresh(): Promise<void> {
    loading.value = true;
    try {
      const list = await attempt('load your greetings', fetchGreetings);
      if (list) {
        greetings.value = list;
        loaded.value = true;
      }
    } finally {
      loading.value = false;
    }
  }

  async function change(what: string, work: (a: GreetingsAccount) => Promise<unknown>): Promise<boolean> {
    busy.value = true;
    try {
      const done = (await attempt(what, async (a) => (await work(a), true))) ?? false;
      if (done) await refresh();
      return done;
    } finally {
      busy.value = false;
    }
  }

  /** Saves audio as a new greeting; false (with `error` set to the PBX's sentence) when it was refused. */
  function save(name: string, audio: Blob): Promise<boolean> {
    return change('save the greeting', (a) => uploadGreeting(a, name, audio));
  }

  function rename(id: number, name: string): Promise<boolean> {
    return change('rename the greeting', (a) => updateGreeting(a, id, { name }));
  }

  function makeActive(id: number): Promise<boolean> {
    return change('make the greeting active', (a) => updateGreeting(a, id, { active: true }));
  }

  /** Makes no greeting active, keeping them all: callers hear the default greeting. */
  async function switchToDefault(): Promise<boolean> {
    const current = active.value;
    if (!current) return true;
    return change('use the default greeting', (a) => updateGreeting(a, current.id, { active: false }));
  }

  function remove(id: number): Promise<boolean> {
    return change('delete the greeting', (a) => deleteGreeting(a, id));
  }

  function audio(id: number): Promise<Blob | undefined> {
    return attempt('play the greeting', (a) => fetchGreetingAudio(a, id));
  }

  function clearError(): void {
    error.value = '';
  }

  return { greetings, active, loading, loaded, error, busy, refresh, save, rename, makeActive, switchToDefault, remove, audio, clearError };
});
