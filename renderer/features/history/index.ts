/**
 * Call History: the store of past calls (with its count of missed calls not yet seen) and its pane. Other
 * features reach history only through this file.
 */
export { useHistoryStore } from './history-store';
/** The pane, loaded when first opened: it is not part of the first screen (see vite.renderer.config.ts). */
export const loadCallHistoryView = () => import('./CallHistoryView.vue');
