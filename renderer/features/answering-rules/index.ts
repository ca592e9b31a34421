/**
 * Answering rules: the store of the user's rules and time frames (over the PBX's REST API) and the pane. Other
 * features reach answering rules only through this file.
 */
export { useAnsweringRulesStore } from './rules-store';
/** The pane, loaded when first opened: it is not part of the first screen (see vite.renderer.config.ts). */
export const loadAnsweringRulesView = () => import('./AnsweringRulesView.vue');
