/**
 * Signing in and out: the session store (who is signed in, to which server, with which SIP credentials), staying
 * signed in across a reload or a restart (resume.ts), and the sign-in form. Other features reach the session only
 * through this file; `onDidStartPhone` tells them when the phone has started, and whether it was a resume.
 */
export { useSessionStore } from './session-store';
export type { SignInForm } from './session-store';
export type { PhoneStart } from './resume';
export { default as SignInView } from './SignInView.vue';
