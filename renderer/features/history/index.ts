/**
 * Call History: the store of past calls (with its count of missed calls not yet seen) and its pane. Other
 * features reach history only through this file.
 */
export { useHistoryStore } from './history-store';
export { default as CallHistoryView } from './CallHistoryView.vue';
