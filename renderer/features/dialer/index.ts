/**
 * The Phone section: the number field with its suggestions, the dial pad and redial, and the dialer store that
 * turns what was typed into a number to call. Other features reach the dialer only through this file.
 */
export { useDialerStore } from './dialer-store';
export { default as PhoneView } from './PhoneView.vue';
