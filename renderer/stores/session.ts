/** Who is signed in, to which server, and the sign-in itself. */
import { defineStore } from 'pinia';
import { computed, ref, shallowRef } from 'vue';
import type { SessionResponse } from '../../shared/api';
import { endSession, SignInError, normalizeServerUrl, signIn as requestSession } from '../api/client';
import { createLogger } from '../log';
import { createJsSipEngine } from '../phone/jssip-adapter';
import { usePhoneStore } from './phone';
import { useSettingsStore } from './settings';

const log = createLogger('session');

export interface SignInForm {
  serverUrl: string;
  extension: string;
  password: string;
}

export const useSessionStore = defineStore('session', () => {
  const session = shallowRef<SessionResponse>();
  const serverUrl = ref('');
  const signingIn = ref(false);
  const signInError = ref('');
  /** The form field the error is about, when there is one. */
  const signInErrorField = ref<keyof SignInForm>();

  const signedIn = computed(() => session.value !== undefined);
  const user = computed(() => session.value?.user);

  function fail(message: string, field?: keyof SignInForm): false {
    signInError.value = message;
    signInErrorField.value = field;
    return false;
  }

  /** Signs in and starts the phone; returns false with `signInError` set when it could not. */
  async function signIn(form: SignInForm): Promise<boolean> {
    if (signingIn.value) return false;
    fail('');
    const extension = form.extension.trim();
    if (extension === '') return fail('Enter your extension.', 'extension');
    if (form.password === '') return fail('Enter your password.', 'password');

    signingIn.value = true;
    try {
      const base = normalizeServerUrl(form.serverUrl);
      const response = await requestSession(base, { extension, password: form.password });
      session.value = response;
      serverUrl.value = base;
      log.info('signed in', { server: base, extension: response.user.extension });
      usePhoneStore().start(createJsSipEngine(response.sip));
      await useSettingsStore()
        .save({ serverUrl: base, lastExtension: response.user.extension })
        .catch((error: unknown) => log.warn('could not remember the sign-in', { error: String(error) }));
      return true;
    } catch (error) {
      if (error instanceof SignInError) {
        const field = error.field === 'serverUrl' || error.field === 'extension' || error.field === 'password';
        return fail(error.message, field ? (error.field as keyof SignInForm) : undefined);
      }
      log.error('sign-in failed unexpectedly', { error: error instanceof Error ? error.message : String(error) });
      return fail('Signing in did not work. Try again in a moment.');
    } finally {
      signingIn.value = false;
    }
  }

  function signOut(): void {
    log.info('signed out');
    usePhoneStore().stop();
    const ending = session.value;
    if (ending) void endSession(serverUrl.value, ending.token);
    session.value = undefined;
    fail('');
  }

  return { session, serverUrl, signingIn, signInError, signInErrorField, signedIn, user, signIn, signOut };
});
