/**
 * Contacts: for now the organization's directory as the number field searches it (the Contacts pane itself is
 * not built yet). Other features reach contacts only through this file.
 */
export { DIRECTORY_DEBOUNCE_MS, useDirectoryStore } from './directory-store';
