/**
 * Signing in and out: the session store (who is signed in, to which server, with which SIP credentials) and the
 * sign-in form. Other features reach the session only through this file.
 */
export { useSessionStore } from './session-store';
export type { SignInForm } from './session-store';
export { default as SignInView } from './SignInView.vue';
