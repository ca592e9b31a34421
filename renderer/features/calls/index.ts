/**
 * Calls in progress: the phone store (registration, the calls and what can be done to them, call waiting, quality),
 * the transfer store, the conference store (Add Call, Merge, Remove), and the grid of call cards shown beside every section. Other features reach calls only through this file.
 */
export { usePhoneStore } from './phone-store';
export type { PhoneStartOptions } from './phone-store';
export { useTransferStore } from './transfer-store';
export { useConferenceStore } from './conference-store';
export { useRemoteHoldStore } from './remote-hold-store';
export { default as CallGrid } from './CallGrid.vue';
