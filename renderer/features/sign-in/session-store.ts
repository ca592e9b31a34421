/**
 * Who is signed in, to which server, and the sign-in itself; and staying signed in: the session's token is kept
 * through the bridge (never a password), `resume()` at start renews it and starts the phone and event stream the
 * same way a sign-in does, and a running app renews it every hour so that it stays signed in for as long as it is open.
 */
import { defineStore } from 'pinia';
import { computed, ref, shallowRef } from 'vue';
import { splitSignInName } from '../../../shared/api';
import type { OrganizationChoice, SessionRequest, SessionResponse } from '../../../shared/api';
import { endSession, SignInError, normalizeServerUrl, signIn as requestSession } from '../../api/client';
import { getBridge } from '../../bridge';
// The type only: the module itself is loaded apart (loadPhoneEngine).
import type * as PhoneEngineModule from '../../phone/jssip';
import { createLogger } from '../../log';
import { usePhoneStore } from '../calls';
import { useEventsStore } from '../events';
import { useSettingsStore } from '../settings';
import { createResumer, createSessionKeeper } from './resume';
import type { PhoneStart } from './resume';

const log = createLogger('session');

/**
 * The phone engine (JsSIP) is a chunk of its own, loaded apart from the first screen: the sign-in form needs none
 * of it. It is fetched as soon as the app runs, beside the kept session's renewal, so the phone does not wait for it.
 */
let phoneEngineModule: Promise<typeof PhoneEngineModule> | undefined;
function loadPhoneEngine(): Promise<typeof PhoneEngineModule> {
  phoneEngineModule ??= import('../../phone/jssip');
  return phoneEngineModule;
}
void loadPhoneEngine().catch((error: unknown) => log.warn('could not load the phone engine yet', { error: String(error) }));

export interface SignInForm {
  serverUrl: string;
  /** The extension, or the SIP address `extension@domain`. */
  extension: string;
  password: string;
  /** The domain of the organization chosen from `organizationChoices`, when the server asked for one. */
  organization?: string;
}

/** What the settings can hold as the last sign-in name (shared/bridge.ts). */
const MAX_REMEMBERED_NAME = 32;

export const useSessionStore = defineStore('session', () => {
  const session = shallowRef<SessionResponse>();
  const serverUrl = ref('');
  const signingIn = ref(false);
  const signInError = ref('');
  /** The form field the error is about, when there is one. */
  const signInErrorField = ref<keyof SignInForm>();
  /**
   * The organizations the server offered when an extension alone was not enough (it hosts several), and the
   * server they are of; empty until then, so a server with one organization keeps the plain form.
   */
  const organizationChoices = ref<readonly OrganizationChoice[]>([]);
  let choicesServer = '';

  const signedIn = computed(() => session.value !== undefined);
  const user = computed(() => session.value?.user);

  function fail(message: string, field?: keyof SignInForm): false {
    signInError.value = message;
    signInErrorField.value = field;
    return false;
  }

  /** Whether the form must ask which organization: the server offered a choice and `extension` names none. */
  function asksOrganization(extension: string): boolean {
    return organizationChoices.value.length > 0 && splitSignInName(extension)?.domain === undefined;
  }

  /** Who waits for the phone to start (onDidStartPhone). */
  const startListeners = new Set<(start: PhoneStart) => void>();

  /**
   * The one way the phone starts, after a sign-in or a resume: the session, the phone registering with its SIP
   * credentials, the event stream, and then whoever waits on onDidStartPhone.
   */
  async function startPhone(start: PhoneStart): Promise<void> {
    const { session: response, serverUrl: base } = start;
    session.value = response;
    serverUrl.value = base;
    keeper.start(base, response.token);
    useEventsStore().start({ serverUrl: base, token: response.token, userId: response.user.id });
    let engine: typeof PhoneEngineModule;
    try {
      engine = await loadPhoneEngine();
    } catch (error) {
      // A failed chunk load (the PBX upgraded under the page) is tried again at the next start.
      phoneEngineModule = undefined;
      log.error('could not load the phone engine', { error: error instanceof Error ? error.message : String(error) });
      signOut();
      fail('The app could not finish loading. Reload the page and sign in again.');
      return;
    }
    // Signed out, or signed in again, while the engine loaded: that start is no longer wanted.
    if (session.value !== response) return;
    usePhoneStore().start(engine.createJsSipEngine(response.sip));
    for (const listener of [...startListeners]) {
      try {
        listener(start);
      } catch (error) {
        log.error('a phone-start listener failed', { error: error instanceof Error ? error.message : String(error) });
      }
    }
  }

  /**
   * Calls `listener` each time the phone has started, with `resumed` true when it was a kept session renewed at
   * start (a reload or a restart) rather than a sign-in; returns the function that stops it. The phone is
   * registering then, not yet registered: watch the phone store's registration for that.
   */
  function onDidStartPhone(listener: (start: PhoneStart) => void): () => void {
    startListeners.add(listener);
    return () => void startListeners.delete(listener);
  }

  const keeper = createSessionKeeper({
    renewed: (expiresAt) => {
      if (session.value) session.value = { ...session.value, expiresAt };
    },
    ended: (message) => {
      signOut();
      fail(message);
    },
  });

  const resumer = createResumer({
    bridge: () => getBridge(),
    started: (start) => void startPhone(start),
    ended: (message) => fail(message),
  });

  /** Signs in and starts the phone; returns false with `signInError` set when it could not. */
  async function signIn(form: SignInForm): Promise<boolean> {
    if (signingIn.value) return false;
    fail('');
    const extension = form.extension.trim();
    if (extension === '') return fail('Enter your extension or SIP address.', 'extension');
    if (form.password === '') return fail('Enter your password.', 'password');

    signingIn.value = true;
    let base = '';
    try {
      base = normalizeServerUrl(form.serverUrl);
      // The choices are the organizations of the server that offered them; another server is asked afresh.
      if (base !== choicesServer) organizationChoices.value = [];
      const organization = asksOrganization(extension) ? form.organization : undefined;
      if (asksOrganization(extension) && !organizationChoices.value.some((choice) => choice.domain === organization)) {
        return fail('Choose your organization.', 'organization');
      }
      const request: SessionRequest = { extension, password: form.password, ...(organization !== undefined ? { organization } : {}) };
      const response = await requestSession(base, request);
      // A kept session still being retried gives way to the one just opened.
      resumer.cancel();
      log.info('signed in', { server: base, extension: response.user.extension });
      await startPhone({ session: response, serverUrl: base, resumed: false });
      void getBridge()
        .keepSession({ serverUrl: base, token: response.token })
        .catch((error: unknown) => log.warn('could not keep the session for the next start', { error: String(error) }));
      await useSettingsStore()
        .save({ serverUrl: base, lastExtension: nameToRemember(request, response) })
        .catch((error: unknown) => log.warn('could not remember the sign-in', { error: String(error) }));
      organizationChoices.value = [];
      return true;
    } catch (error) {
      if (error instanceof SignInError) {
        if (error.organizations?.length) {
          organizationChoices.value = error.organizations;
          choicesServer = base;
        }
        const field = error.field === 'serverUrl' || error.field === 'extension' || error.field === 'password' || error.field === 'organization';
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
    resumer.cancel();
    keeper.stop();
    void getBridge()
      .forgetSession()
      .catch((error: unknown) => log.warn('could not forget the kept session', { error: String(error) }));
    usePhoneStore().stop();
    useEventsStore().stop();
    const ending = session.value;
    if (ending) void endSession(serverUrl.value, ending.token);
    session.value = undefined;
    fail('');
  }

  return {
    session,
    serverUrl,
    signingIn,
    signInError,
    signInErrorField,
    organizationChoices,
    signedIn,
    user,
    /** A kept session is being renewed, or waits to be tried again. */
    resuming: resumer.resuming,
    /** What the sign-in page says while a kept session waits to be tried again ("Can't reach… Trying again in 8 seconds."). */
    resumeNotice: resumer.notice,
    asksOrganization,
    signIn,
    signOut,
    resume: resumer.resume,
    untilResumed: resumer.untilFirstAttempt,
    onDidStartPhone,
  };
});

/**
 * The name to fill the form with next time: the SIP address when the sign-in had to name the organization (so
 * the person is not asked again), else the extension, as on a server with one organization. A SIP address too
 * long for the settings falls back to the extension.
 */
function nameToRemember(request: SessionRequest, response: SessionResponse): string {
  const { extension, organization } = response.user;
  const named = request.organization !== undefined || splitSignInName(request.extension)?.domain !== undefined;
  const address = `${extension}@${organization.domain}`;
  return named && address.length <= MAX_REMEMBERED_NAME ? address : extension;
}
