/**
 * The Phone section: the number field with its suggestions (also used by other number fields, such as a
 * transfer's), the dial pad and redial, and the dialer store that turns what was typed into a number to call. Other features reach the dialer only through this file.
 */
export { useDialerStore } from './dialer-store';
export { default as PhoneView } from './PhoneView.vue';
export { default as NumberCombobox } from './NumberCombobox.vue';
