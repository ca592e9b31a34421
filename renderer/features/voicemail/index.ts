/**
 * Voicemail: the mailbox store (the new and saved messages, their counts for the navigation's badge, the player's
 * message), the Voicemail pane, and the Voicemail PIN setting the Settings pane shows. Other features reach voicemail
 * only through this file.
 */
export { useVoicemailStore } from './voicemail-store';
export { default as VoicemailPinSetting } from './VoicemailPinSetting.vue';
/** The pane, loaded when first opened: it is not part of the first screen (see vite.renderer.config.ts). */
export const loadVoicemailView = () => import('./VoicemailView.vue');
