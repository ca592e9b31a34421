/**
 * Greetings: the store of the user's greetings (list, save, rename, make active, delete, play) and its pane, with
 * recording from the microphone and upload. Other features reach greetings only through this file.
 */
export { useGreetingsStore } from './greetings-store';
/** The pane, loaded when first opened: it is not part of the first screen (see vite.renderer.config.ts). */
export const loadGreetingsView = () => import('./GreetingsView.vue');
